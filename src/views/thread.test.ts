// A thread as the REST API shows it: every optional field of older documents as an empty value (never missing), the
// unread count with its cap flag, and when EchoCue changed it (changed_at), not the Meta-derived updated_at.
import { describe, expect, test } from 'vitest';
import { type ThreadDoc } from '../store/docs.ts';
import { Thread, threadView } from './thread.ts';

const t0 = new Date('2026-03-01T10:00:00.000Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

/** A thread as stored before the optional fields (former ids, unread cap, read mark, marketing opt-out) existed. */
const legacy = (): ThreadDoc => ({
  _id: 'thr_1',
  waba_id: 'waba1',
  phone_number_id: 'pn1',
  contact_id: 'ct_1',
  contact: { wa_id: '15550001', user_id: 'US.1', name: 'Ana', username: null, opted_out_at: null },
  last_message_at: t0,
  last_inbound_at: t0,
  window_expires_at: later(24 * 3600_000),
  unread: [{ id: 'msg_1', at: t0 }],
  unread_count: 1,
  updated_at: t0,
});

describe('views > thread', () => {
  test('a thread stored before the optional fields existed shows them empty: no former ids, not capped, no read mark, no marketing opt-out', () => {
    const view = threadView(legacy());
    expect(view).toEqual({
      id: 'thr_1',
      former_ids: [],
      waba_id: 'waba1',
      phone_number_id: 'pn1',
      contact: {
        id: 'ct_1',
        wa_id: '15550001',
        user_id: 'US.1',
        name: 'Ana',
        username: null,
        opted_out_at: null,
        marketing_opted_out_at: null,
      },
      last_message_at: '2026-03-01T10:00:00.000Z',
      last_inbound_at: '2026-03-01T10:00:00.000Z',
      unread_count: 1,
      unread_capped: false,
      read_up_to: null,
      window_expires_at: '2026-03-02T10:00:00.000Z',
      // Never written by the store yet.
      updated_at: null,
    });
    expect(Thread.parse(view)).toEqual(view);
  });

  test('a capped count shows as stored with unread_capped; merged ids, the read mark and opt-outs as stored; the unread set stays out', () => {
    const doc: ThreadDoc = {
      ...legacy(),
      contact: { ...legacy().contact, opted_out_at: later(1_000), marketing_opted_out_at: later(2_000) },
      unread: Array.from({ length: 3 }, (_, i) => ({ id: `msg_${i}`, at: later(i) })),
      unread_count: 1000,
      unread_capped: true,
      read_up_to: later(-1_000),
      former_ids: ['thr_0'],
      updated_at: later(5_000),
      changed_at: later(60_000),
      _v: 7,
    };
    const view = threadView(doc);
    expect(view).toMatchObject({
      former_ids: ['thr_0'],
      contact: { opted_out_at: '2026-03-01T10:00:01.000Z', marketing_opted_out_at: '2026-03-01T10:00:02.000Z' },
      unread_count: 1000,
      unread_capped: true,
      read_up_to: '2026-03-01T09:59:59.000Z',
      updated_at: '2026-03-01T10:01:00.000Z',
    });
    expect(Object.keys(view)).not.toContain('unread');
    expect(Object.keys(view)).not.toContain('_v');
    expect(Thread.parse(view)).toEqual(view);
  });
});
