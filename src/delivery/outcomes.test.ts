import { describe, expect, test } from 'vitest';
import { DELIVERY_TIERS } from '../events/topics.ts';
import { updateOp } from '../store/webhooks.ts';
import { batchWrites, endpointHealth, type Handled } from './outcomes.ts';
import { type SendableRecord } from './record.ts';
import { type AttemptOutcome } from './send.ts';

const NOW = new Date(1_781_700_000_000);
const rec = (id: string, attempt = 1, round = 1): SendableRecord => ({
  delivery_id: id,
  round,
  attempt,
  due_at: 0,
  endpoint_id: 'ep_a',
  key_id: 'key_a',
  event_id: `evt_${id}`,
  body: `{"id":"evt_${id}"}`,
});
const outcome = (status: number, retryAfterMs: number | null = null): AttemptOutcome =>
  status >= 200 && status < 300
    ? {
        ok: true,
        status_code: status,
        latency_ms: 7,
        error: null,
        error_code: null,
        response_body: 'hi',
        retry_after_ms: null,
        directive: null,
      }
    : {
        ok: false,
        status_code: status,
        latency_ms: 7,
        error: `HTTP ${status}`,
        error_code: 'http_status',
        response_body: 'hi',
        retry_after_ms: retryAfterMs,
        directive: null,
      };
const sent = (
  r: SendableRecord,
  status: number,
  endedAt = NOW.getTime() - 10,
  endpointId = r.endpoint_id,
  retryAfterMs: number | null = null,
): Handled => ({
  kind: 'sent',
  rec: r,
  endpointId,
  at: new Date(endedAt - 7),
  endedAt,
  outcome: outcome(status, retryAfterMs),
});
const opts = { now: NOW, scale: 1, disabled: new Set<string>(), random: () => 0.5 };

describe('the writes of a worker batch', () => {
  test('a 2xx: the attempt pushed and the delivery delivered, nothing queued', () => {
    const w = batchWrites([sent(rec('d1'), 204)], opts);
    expect(w.next).toEqual([]);
    expect(w.updates).toEqual([
      {
        id: 'd1',
        round: 1,
        attempt: 1,
        push: {
          round: 1,
          n: 1,
          at: new Date(NOW.getTime() - 17),
          outcome: 'success',
          status_code: 204,
          latency_ms: 7,
          error: null,
          error_code: null,
          response_body: 'hi',
          retry_after_ms: null,
          directive: null,
        },
        set: {
          status: 'delivered',
          next_attempt_at: null,
          queued_attempt: null,
          queued_tier: null,
          delivered_at: new Date(NOW.getTime() - 17),
          changed_at: NOW,
        },
      },
    ]);
    expect(w.progress.get('d1')).toMatchObject({ round: 1, status: 'delivered' });
  });

  test('a failure: the next attempt noted and queued on its tier, carrying the same body and ids', () => {
    const r = rec('d2', 2);
    const endedAt = NOW.getTime() - 10;
    const w = batchWrites([sent(r, 500, endedAt)], opts);
    const dueAt = endedAt + DELIVERY_TIERS[2]!.delayMs;
    expect(w.updates[0]).toMatchObject({
      id: 'd2',
      round: 1,
      attempt: 2,
      push: { n: 2, outcome: 'failure', status_code: 500 },
      set: { next_attempt_at: new Date(dueAt), queued_attempt: 3, queued_tier: 2, changed_at: NOW },
    });
    expect(w.updates[0]!.set.status).toBeUndefined();
    expect(w.next).toEqual([{ record: { ...r, attempt: 3, due_at: dueAt }, tier: 2 }]);
    expect(w.progress.get('d2')).toEqual({ round: 1, status: 'pending', queued: 3, dueAt, tier: 2, produced: false });
  });

  test('Retry-After beyond the tier (bounded by twice its delay) and a 429 (60 s at least): a longer tier; the last attempt failing gives up', () => {
    const w = batchWrites(
      [sent(rec('d3'), 503, NOW.getTime(), 'ep_a', 300_000), sent(rec('d4', 6), 500), sent(rec('d7'), 429, NOW.getTime())],
      opts,
    );
    expect(w.next.map((n) => [n.record.delivery_id, n.tier, n.record.due_at - NOW.getTime()])).toEqual([
      ['d3', 2, 60_000],
      ['d7', 2, 60_000],
    ]);
    expect(w.updates[1]!.set).toMatchObject({
      status: 'failed',
      failure_reason: 'all 6 attempts failed',
      failed_at: NOW,
      queued_attempt: null,
    });
  });

  test('jittered retries are queued in due order, none due before the latest this process queued on its tier', () => {
    const randoms = [0.9, 0.1, 0.5];
    const handled = ['j1', 'j2', 'j3'].map((id) => sent(rec(id), 500, NOW.getTime()));
    const w = batchWrites(handled, { ...opts, random: () => randoms.shift()! });
    const due = (id: string) => w.next.find((n) => n.record.delivery_id === id)!.record.due_at - NOW.getTime();
    expect(w.next.map((n) => n.record.delivery_id)).toEqual(['j2', 'j3', 'j1']); // in due order
    expect([due('j2'), due('j3'), due('j1')]).toEqual([25_200, 30_000, 34_800]); // the 30 s tier, ±20 %
    expect(w.lastDue.get(1)).toBe(NOW.getTime() + 34_800);
    // The next batch: a retry jittered earlier than that waits for it (and says so in its due time and store).
    const later = batchWrites([sent(rec('j4'), 500, NOW.getTime() + 1000)], { ...opts, random: () => 0, lastDue: w.lastDue });
    expect(later.next[0]!.record.due_at).toBe(NOW.getTime() + 34_800);
    expect(later.updates[0]!.set.next_attempt_at).toEqual(new Date(NOW.getTime() + 34_800));
    // Another tier is not held back by it.
    const other = batchWrites([sent(rec('j5', 2), 500, NOW.getTime())], { ...opts, random: () => 0, lastDue: w.lastDue });
    expect(other.next[0]).toMatchObject({ tier: 2, record: { due_at: NOW.getTime() + 96_000 } });
  });

  test('a failure that disabled its endpoint ends the delivery; a success on it still delivers', () => {
    const w = batchWrites([sent(rec('d5'), 500), sent(rec('d6'), 200)], { ...opts, disabled: new Set(['ep_a']) });
    expect(w.updates.map((u) => [u.id, u.set.status, u.set.failure_reason])).toEqual([
      ['d5', 'failed', 'endpoint_disabled'],
      ['d6', 'delivered', undefined],
    ]);
    expect(w.next).toEqual([]);
  });

  test('refused before sending (endpoint gone or disabled, key revoked): failed with the reason, no attempt recorded', () => {
    const w = batchWrites([{ kind: 'refused', rec: rec('d7'), reason: 'api_key_revoked' }], opts);
    expect(w.updates).toEqual([
      {
        id: 'd7',
        round: 1,
        attempt: 1,
        push: null,
        set: {
          status: 'failed',
          next_attempt_at: null,
          queued_attempt: null,
          queued_tier: null,
          failed_at: NOW,
          failure_reason: 'api_key_revoked',
          changed_at: NOW,
        },
      },
    ]);
  });

  test('each update applies only while the delivery waits for that attempt of that round (a replayed or moved-on delivery is untouched)', () => {
    const [u] = batchWrites([sent(rec('d8', 3, 2), 200)], opts).updates;
    expect(updateOp(u!).updateOne.filter).toEqual({ _id: 'd8', round: 2, status: 'pending', queued_attempt: 3 });
    expect(Object.keys(updateOp(u!).updateOne.update)).toEqual(['$set', '$push']);
    const [refused] = batchWrites([{ kind: 'refused', rec: rec('d9'), reason: 'endpoint_deleted' }], opts).updates;
    expect(Object.keys(updateOp(refused!).updateOne.update)).toEqual(['$set']);
  });
});

describe("an endpoint's health after a batch, noted once", () => {
  test('all successes: the streak ends; all failures: it starts at the first', () => {
    expect(endpointHealth([sent(rec('a'), 200, 10), sent(rec('b'), 204, 20)])).toEqual([{ endpointId: 'ep_a', ok: true }]);
    expect(endpointHealth([sent(rec('a'), 500, 30), sent(rec('b'), 500, 20)])).toEqual([
      { endpointId: 'ep_a', ok: false, since: new Date(20), restart: false, gone: null },
    ]);
  });

  test('failures after the last success start the streak over at the first of them; a success last ends it', () => {
    expect(endpointHealth([sent(rec('a'), 500, 10), sent(rec('b'), 200, 20), sent(rec('c'), 500, 30), sent(rec('d'), 500, 40)])).toEqual([
      { endpointId: 'ep_a', ok: false, since: new Date(30), restart: true, gone: null },
    ]);
    expect(endpointHealth([sent(rec('a'), 500, 10), sent(rec('b'), 200, 20)])).toEqual([{ endpointId: 'ep_a', ok: true }]);
  });

  test('a 410 Gone among the failures since the last success marks the endpoint gone (disabled at once); one before that success does not', () => {
    expect(endpointHealth([sent(rec('a'), 500, 10), sent(rec('b'), 410, 20)])).toEqual([
      { endpointId: 'ep_a', ok: false, since: new Date(10), restart: false, gone: 'the endpoint answered 410 Gone' },
    ]);
    expect(endpointHealth([sent(rec('a'), 410, 10), sent(rec('b'), 200, 20), sent(rec('c'), 500, 30)])).toEqual([
      { endpointId: 'ep_a', ok: false, since: new Date(30), restart: true, gone: null },
    ]);
    expect(endpointHealth([sent(rec('a'), 410, 10), sent(rec('b'), 200, 20)])).toEqual([{ endpointId: 'ep_a', ok: true }]);
  });

  test('per endpoint; refusals are no answer from it', () => {
    const h = endpointHealth([
      sent(rec('a'), 200, 10, 'ep_1'),
      sent(rec('b'), 500, 10, 'ep_2'),
      { kind: 'refused', rec: rec('c'), reason: 'endpoint_deleted' },
    ]);
    expect(h).toEqual([
      { endpointId: 'ep_1', ok: true },
      { endpointId: 'ep_2', ok: false, since: new Date(10), restart: false, gone: null },
    ]);
  });
});
