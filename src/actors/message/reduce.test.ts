import { describe, expect, test } from 'vitest';
import { type StatusEntry } from '../../store/docs.ts';
import { deriveDelivery } from './reduce.ts';

const entry = (status: string, at: number, extra: Partial<StatusEntry> = {}): StatusEntry => ({
  status, at: new Date(at * 1000), event_id: `e-${status}-${at}`, errors: [], pricing: null, pricing_from: null, errors_from: null, ...extra,
});

describe('actors > message status reducer', () => {
  test.each([
    [['sent'], 'sent'],
    [['sent', 'delivered'], 'delivered'],
    [['sent', 'read'], 'read'], // delivered may never come
    [['read', 'delivered', 'sent'], 'read'], // a late delivered never moves it back
    [['sent', 'delivered', 'read', 'played'], 'played'],
    [['sent', 'failed'], 'failed'],
    [['failed'], 'failed'],
    [['sent', 'delivered', 'failed'], 'delivered'], // failed after delivery is not a delivery failure
    [['sent', 'deleted'], 'sent'], // a legacy value is kept in the history, never moves the state
    [['warning'], 'unknown'],
  ])('%j -> %s', (statuses, expected) => {
    expect(deriveDelivery(statuses.map((s, i) => entry(s, 100 + i))).delivery_status).toBe(expected);
  });

  test('failed exposes the first error; pricing comes from the highest status that has it', () => {
    const err = { code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', details: 'Message Undeliverable.', href: null };
    const d = deriveDelivery([
      entry('sent', 1, { pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' } }),
      entry('failed', 2, { errors: [err] }),
    ]);
    expect(d).toEqual({ delivery_status: 'failed', whatsapp_status: 'failed', error: err, pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' } });
  });
});
