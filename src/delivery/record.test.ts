import { describe, expect, test } from 'vitest';
import { attemptRecordOf, INLINE_BODY_MAX_BYTES, isSendable, parseAttemptRecord } from './record.ts';

const d = { _id: 'dlv_1', endpoint_id: 'ep_1', key_id: 'key_1', event_id: 'evt_1', body: '{"id":"evt_1"}', round: 2 };

describe('the attempt record', () => {
  test('carries what sending needs, and reads back the same', () => {
    const rec = attemptRecordOf(d, 3, 1234);
    expect(rec).toEqual({
      delivery_id: 'dlv_1',
      round: 2,
      attempt: 3,
      due_at: 1234,
      endpoint_id: 'ep_1',
      key_id: 'key_1',
      event_id: 'evt_1',
      body: d.body,
    });
    const back = parseAttemptRecord(Buffer.from(JSON.stringify(rec)));
    expect(back).toEqual(rec);
    expect(isSendable(back!)).toBe(true);
  });

  test('a body over the inline limit stays in the store (the worker reads it there)', () => {
    const big = attemptRecordOf({ ...d, body: 'é'.repeat(INLINE_BODY_MAX_BYTES / 2 + 1) }, 1, 0);
    expect(big.body).toBeUndefined();
    expect(isSendable(big)).toBe(false);
    expect(attemptRecordOf({ ...d, body: 'x'.repeat(INLINE_BODY_MAX_BYTES) }, 1, 0).body).toHaveLength(INLINE_BODY_MAX_BYTES);
  });

  test('records queued before this format still read, as not sendable on their own', () => {
    const old = parseAttemptRecord(Buffer.from('{"delivery_id":"dlv_1","round":1,"attempt":2,"due_at":5}'));
    expect(old).toEqual({ delivery_id: 'dlv_1', round: 1, attempt: 2, due_at: 5 });
    expect(isSendable(old!)).toBe(false);
  });

  test('what is not an attempt is null', () => {
    for (const v of ['not json', '{"delivery_id":1}', 'null', '{"delivery_id":"x","round":1.5,"attempt":1,"due_at":0}']) {
      expect([v, parseAttemptRecord(Buffer.from(v))]).toEqual([v, null]);
    }
    expect(parseAttemptRecord(null)).toBeNull();
  });
});
