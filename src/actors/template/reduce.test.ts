import { describe, expect, test } from 'vitest';
import { type TemplateEventEntry } from '../../store/docs.ts';
import { deriveStatus } from './reduce.ts';

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

  test('LOCKED and UNLOCKED flip the lock and leave the status', () => {
    expect(deriveStatus(events('APPROVED', 'LOCKED'))).toMatchObject({ whatsapp_status: 'approved', locked: true, last_event: 'LOCKED' });
    expect(deriveStatus(events('APPROVED', 'LOCKED', 'UNLOCKED'))).toMatchObject({ whatsapp_status: 'approved', locked: false });
  });
});
