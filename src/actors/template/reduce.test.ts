import { describe, expect, test } from 'vitest';
import { type TemplateEventEntry } from '../../store/docs.ts';
import { type TemplateCategoryEvent, type TemplateStatusEvent } from '../../events/generated/event-types.ts';
import { applyTemplateCategory, applyTemplateStatus, deriveStatus, emptyTemplate } from './reduce.ts';

const events = (...names: string[]): TemplateEventEntry[] => names.map((event, i) => ({ event_id: `e${i}`, at: new Date(i * 1000), event, reason: null }));

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

  test('an impending category change survives a newer status event whatever the order (found by the soak test)', () => {
    const header = { waba_id: 'w1', account_id: null, phone_number_id: null, display_phone_number: null, meta_timestamp: null, received_at: 1_781_600_000_000, raw: '{}', template_id: '77', template_name: 'promo', template_language: 'en' };
    const impending = { ...header, event_id: 'cat1', event_type: 'template.category', field: 'template_category_update', entry_time: 1781520000, previous_category: 'UTILITY', new_category: 'UTILITY', correct_category: 'MARKETING', category_update_timestamp: 1781600000 } as unknown as TemplateCategoryEvent;
    const status = { ...header, event_id: 'st1', event_type: 'template.status', field: 'message_template_status_update', entry_time: 1781521000, event: 'APPROVED', reason: null, category: 'UTILITY', disable_date: null, other_info_title: null, other_info_description: null, rejection_reason: null, rejection_recommendation: null } as unknown as TemplateStatusEvent;
    const a = applyTemplateStatus(applyTemplateCategory(emptyTemplate(impending), impending), status);
    const b = applyTemplateCategory(applyTemplateStatus(emptyTemplate(status), status), impending);
    for (const doc of [a, b]) {
      expect(doc).toMatchObject({ category: 'UTILITY', pending_category: { category: 'MARKETING', effective_at: new Date(1781600000 * 1000) } });
    }
    // A later completed change clears it, in either order as well.
    const done = { ...impending, event_id: 'cat2', entry_time: 1781600100, previous_category: 'UTILITY', new_category: 'MARKETING', correct_category: null } as TemplateCategoryEvent;
    expect(applyTemplateCategory(a, done)).toMatchObject({ category: 'MARKETING', pending_category: null });
    expect(applyTemplateStatus(applyTemplateCategory(applyTemplateCategory(emptyTemplate(done), done), impending), status)).toMatchObject({ category: 'MARKETING', pending_category: null });
  });
});
