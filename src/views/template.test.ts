// A template as the REST API shows it: its status events oldest first without their bookkeeping, the impending
// category only when one is announced, and when EchoCue last changed it.
import { describe, expect, test } from 'vitest';
import { type TemplateDoc, type TemplateEventEntry } from '../store/docs.ts';
import { Template, templateView } from './template.ts';

const t0 = new Date('2026-03-01T10:00:00.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

const template = (extra: Partial<TemplateDoc> = {}): TemplateDoc => ({
  _id: 'tpl_1',
  waba_id: 'waba1',
  template_id: '9007199254740993',
  name: 'order_update',
  language: 'en_US',
  category: 'UTILITY',
  category_stamp: null,
  pending_category: null,
  whatsapp_status: 'approved',
  status_reason: null,
  last_event: 'APPROVED',
  locked: false,
  status_events: [],
  broadcastable: true,
  whatsapp_quality_rating: 'GREEN',
  previous_quality_rating: null,
  quality_stamp: null,
  components: null,
  components_stamp: null,
  details: null,
  updated_at: t0,
  ...extra,
});

const event = (event_id: string, s: number, e: string, reason: string | null = null): TemplateEventEntry => ({
  event_id,
  at: at(s),
  event: e,
  reason,
  content: `${e}|${reason}`,
});

describe('views > template', () => {
  test('status events oldest first (same time: by event id), without event ids or content keys', () => {
    const doc = template({
      status_events: [
        event('ev_3', 20, 'APPROVED'),
        event('ev_2', 10, 'REJECTED', 'INVALID_FORMAT'),
        event('ev_1', 10, 'PENDING'),
        event('ev_4', 30, 'PAUSED', 'low quality'),
      ],
    });
    expect(templateView(doc).status_events).toEqual([
      { event: 'PENDING', at: '2026-03-01T10:00:10.000Z', reason: null },
      { event: 'REJECTED', at: '2026-03-01T10:00:10.000Z', reason: 'INVALID_FORMAT' },
      { event: 'APPROVED', at: '2026-03-01T10:00:20.000Z', reason: null },
      { event: 'PAUSED', at: '2026-03-01T10:00:30.000Z', reason: 'low quality' },
    ]);
  });

  test('the impending category: null when none is announced, else the category with its date (null when Meta gave none)', () => {
    expect(templateView(template()).pending_category).toBeNull();
    const dated = template({ pending_category: { category: 'MARKETING', effective_at: at(86_400) } });
    expect(templateView(dated).pending_category).toEqual({ category: 'MARKETING', effective_at: '2026-03-02T10:00:00.000Z' });
    const undated = template({ pending_category: { category: 'MARKETING', effective_at: null } });
    expect(templateView(undated).pending_category).toEqual({ category: 'MARKETING', effective_at: null });
  });

  test('a template as stored, stamps left out; updated_at is when EchoCue last changed it, null before its first write', () => {
    const doc = template({
      components: { title: 'Order', element: 'Your order {{1}} shipped', footer: null, buttons: [] },
      category_stamp: { at: t0, event_id: 'ev_0' },
      changed_at: at(60),
      _v: 3,
    });
    const view = templateView(doc);
    expect(view).toEqual({
      id: 'tpl_1',
      template_id: '9007199254740993',
      waba_id: 'waba1',
      name: 'order_update',
      language: 'en_US',
      category: 'UTILITY',
      pending_category: null,
      whatsapp_status: 'approved',
      status_reason: null,
      last_event: 'APPROVED',
      locked: false,
      broadcastable: true,
      whatsapp_quality_rating: 'GREEN',
      previous_quality_rating: null,
      components: { title: 'Order', element: 'Your order {{1}} shipped', footer: null, buttons: [] },
      details: null,
      status_events: [],
      updated_at: '2026-03-01T10:01:00.000Z',
    });
    expect(Template.parse(view)).toEqual(view);
    expect(templateView(template()).updated_at).toBeNull();
  });
});
