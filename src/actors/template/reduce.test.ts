import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { type TemplateDoc, type TemplateEventEntry } from '../../store/docs.ts';
import { type TemplateCategoryEvent, type TemplateComponentsEvent, type TemplateStatusEvent } from '../../events/generated/event-types.ts';
import { applyTemplateCategory, applyTemplateComponents, applyTemplateStatus, deriveStatus, emptyTemplate } from './reduce.ts';

const events = (...names: string[]): TemplateEventEntry[] =>
  names.map((event, i) => ({ event_id: `e${i}`, at: new Date(i * 1000), event, reason: null }));

describe('actors > template status reducer', () => {
  test.each([
    [[], 'draft', false],
    [['PENDING'], 'pending', false],
    [['PENDING', 'APPROVED'], 'approved', true],
    [['APPROVED', 'FLAGGED'], 'flagged', true],
    [['APPROVED', 'PAUSED'], 'paused', false],
    [['APPROVED', 'PAUSED', 'REINSTATED'], 'approved', true],
    [['APPROVED', 'DISABLED'], 'disabled', false],
    [['REJECTED', 'IN_APPEAL'], 'in_appeal', false],
    [['APPROVED', 'LIMIT_EXCEEDED'], 'limit_exceeded', false],
    [['APPROVED', 'PENDING_DELETION', 'DELETED'], 'deleted', false],
    [['PAUSED', 'ARCHIVED'], 'archived', false],
    [['PAUSED', 'ARCHIVED', 'UNARCHIVED'], 'paused', false],
    [['APPROVED', 'SOMETHING_NEW'], 'approved', true],
  ])('%j -> %s (broadcastable %s)', (names, status, broadcastable) => {
    expect(deriveStatus(events(...names))).toMatchObject({ whatsapp_status: status, broadcastable });
  });

  test.each(['constructor', '__proto__', 'toString'])('an unknown event named %s leaves the status (it stored a function)', (name) => {
    expect(deriveStatus(events('APPROVED', name))).toMatchObject({ whatsapp_status: 'approved', broadcastable: true, last_event: name });
  });

  test('LOCKED and UNLOCKED flip the lock and leave the status', () => {
    expect(deriveStatus(events('APPROVED', 'LOCKED'))).toMatchObject({ whatsapp_status: 'approved', locked: true, last_event: 'LOCKED' });
    expect(deriveStatus(events('APPROVED', 'LOCKED', 'UNLOCKED'))).toMatchObject({ whatsapp_status: 'approved', locked: false });
  });

  describe('a Meta redelivery carries a newer entry.time (issue 16, defect 2)', () => {
    const header = {
      waba_id: 'w1',
      account_id: null,
      phone_number_id: null,
      display_phone_number: null,
      meta_timestamp: null,
      received_at: 1_781_600_000_000,
      raw: '{}',
      template_id: '88',
      template_name: 'reminder',
      template_language: 'en',
    };
    const status = (id: string, t: number, event: string, more: Partial<TemplateStatusEvent> = {}) =>
      ({
        ...header,
        event_id: id,
        event_type: 'template.status',
        field: 'message_template_status_update',
        entry_time: t,
        event,
        reason: 'NONE',
        category: 'UTILITY',
        disable_date: null,
        other_info_title: null,
        other_info_description: null,
        rejection_reason: null,
        rejection_recommendation: null,
        ...more,
      }) as unknown as TemplateStatusEvent;
    const edit = (id: string, t: number) =>
      ({
        ...header,
        event_id: id,
        event_type: 'template.components',
        field: 'message_template_components_update',
        entry_time: t,
        title: null,
        element: `v${t}`,
        footer: null,
        buttons: [],
      }) as unknown as TemplateComponentsEvent;
    type Ev = TemplateStatusEvent | TemplateComponentsEvent;
    const fold = (evs: readonly Ev[]): TemplateDoc =>
      evs.reduce(
        (doc, e) =>
          e.event_type === 'template.status'
            ? applyTemplateStatus(doc, e as TemplateStatusEvent)
            : applyTemplateComponents(doc, e as TemplateComponentsEvent),
        emptyTemplate(evs[0]!),
      );
    const inAnyOrder = async (evs: readonly Ev[], expected: Partial<TemplateDoc>) => {
      await fc.assert(
        fc.asyncProperty(fc.shuffledSubarray([...evs], { minLength: evs.length, maxLength: evs.length }), async (order) => {
          expect(fold(order)).toMatchObject(expected);
        }),
      );
    };

    test('a late PENDING after APPROVED is the first PENDING again: still approved and broadcastable, in any order', async () => {
      const evs = [status('p1', 1000, 'PENDING'), status('a1', 2000, 'APPROVED'), status('p1-retry', 3000, 'PENDING')];
      await inAnyOrder(evs, { whatsapp_status: 'approved', broadcastable: true, last_event: 'APPROVED' });
    });

    test('a PENDING after an edit is a new review; its redelivery after the new approval is not', async () => {
      await inAnyOrder([status('p1', 1000, 'PENDING'), status('a1', 2000, 'APPROVED'), edit('c1', 2500), status('p2', 3000, 'PENDING')], {
        whatsapp_status: 'pending',
        broadcastable: false,
        edited_at: [new Date(2500 * 1000)],
      });
      await inAnyOrder(
        [
          status('p1', 1000, 'PENDING'),
          status('a1', 2000, 'APPROVED'),
          edit('c1', 2500),
          status('p2', 3000, 'PENDING'),
          status('a2', 4000, 'APPROVED'),
          status('p2-retry', 5000, 'PENDING'),
        ],
        { whatsapp_status: 'approved', broadcastable: true },
      );
    });

    test('a late REJECTED after an appeal won, or a first pause again after the unpause, does not go back', async () => {
      await inAnyOrder(
        [
          status('r1', 1000, 'REJECTED', { reason: 'PROMOTIONAL' }),
          status('ap1', 2000, 'IN_APPEAL'),
          status('a1', 3000, 'APPROVED'),
          status('r1-retry', 4000, 'REJECTED', { reason: 'PROMOTIONAL' }),
        ],
        { whatsapp_status: 'approved', broadcastable: true },
      );
      const pause = (id: string, t: number, title: string) => status(id, t, 'PAUSED', { other_info_title: title });
      await inAnyOrder(
        [
          status('a1', 1000, 'APPROVED'),
          pause('x1', 2000, 'FIRST_PAUSE'),
          status('u1', 3000, 'APPROVED'),
          pause('x1-retry', 4000, 'FIRST_PAUSE'),
        ],
        { whatsapp_status: 'approved', broadcastable: true },
      );
      // The second pause names its step: a new event, applied.
      expect(
        fold([
          status('a1', 1000, 'APPROVED'),
          pause('x1', 2000, 'FIRST_PAUSE'),
          status('u1', 3000, 'APPROVED'),
          pause('x2', 4000, 'SECOND_PAUSE'),
        ]),
      ).toMatchObject({ whatsapp_status: 'paused', broadcastable: false });
    });

    test('an unpause is an APPROVED like the first approval, and applies', () => {
      expect(fold([status('a1', 1000, 'APPROVED'), status('x1', 2000, 'PAUSED'), status('u1', 3000, 'APPROVED')])).toMatchObject({
        whatsapp_status: 'approved',
        broadcastable: true,
      });
    });
  });

  test('an impending category change survives a newer status event whatever the order (found by the soak test)', () => {
    const header = {
      waba_id: 'w1',
      account_id: null,
      phone_number_id: null,
      display_phone_number: null,
      meta_timestamp: null,
      received_at: 1_781_600_000_000,
      raw: '{}',
      template_id: '77',
      template_name: 'promo',
      template_language: 'en',
    };
    const impending = {
      ...header,
      event_id: 'cat1',
      event_type: 'template.category',
      field: 'template_category_update',
      entry_time: 1781520000,
      previous_category: 'UTILITY',
      new_category: 'UTILITY',
      correct_category: 'MARKETING',
      category_update_timestamp: 1781600000,
    } as unknown as TemplateCategoryEvent;
    const status = {
      ...header,
      event_id: 'st1',
      event_type: 'template.status',
      field: 'message_template_status_update',
      entry_time: 1781521000,
      event: 'APPROVED',
      reason: null,
      category: 'UTILITY',
      disable_date: null,
      other_info_title: null,
      other_info_description: null,
      rejection_reason: null,
      rejection_recommendation: null,
    } as unknown as TemplateStatusEvent;
    const a = applyTemplateStatus(applyTemplateCategory(emptyTemplate(impending), impending), status);
    const b = applyTemplateCategory(applyTemplateStatus(emptyTemplate(status), status), impending);
    for (const doc of [a, b]) {
      expect(doc).toMatchObject({
        category: 'UTILITY',
        pending_category: { category: 'MARKETING', effective_at: new Date(1781600000 * 1000) },
      });
    }
    // A later completed change clears it, in either order as well.
    const done = {
      ...impending,
      event_id: 'cat2',
      entry_time: 1781600100,
      previous_category: 'UTILITY',
      new_category: 'MARKETING',
      correct_category: null,
    } as TemplateCategoryEvent;
    expect(applyTemplateCategory(a, done)).toMatchObject({ category: 'MARKETING', pending_category: null });
    expect(applyTemplateStatus(applyTemplateCategory(applyTemplateCategory(emptyTemplate(done), done), impending), status)).toMatchObject({
      category: 'MARKETING',
      pending_category: null,
    });
  });
});
