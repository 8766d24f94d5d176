// The worker's batch handler with fakes at its ports: an in-memory store that applies updates with the store's
// filter (round, status, the attempt waited for) and keeps endpoint health as the store does, a sender that records
// what a receiver got (each send takes SEND_MS on the fake clock), a producer that records what was queued on which
// topic. Observable results only: what was sent, what the store holds, what was queued.
import { describe, expect, test } from 'vitest';
import { createLogger } from '../core/log.ts';
import { createMetrics } from '../core/metrics.ts';
import { type ConsumedRecord, type EventRecord } from '../events/port.ts';
import { type AttemptRecord } from '../events/outbound.ts';
import { topicNames } from '../events/topics.ts';
import { type AttemptSample, type NoticeDoc } from '../store/endpoint-health.ts';
import { type DeliveryDoc, type DeliveryUpdate, type EndpointDoc } from '../store/webhooks.ts';
import { createProgressCache } from './progress.ts';
import { attemptRecordOf } from './record.ts';
import { verifyStandard } from './standard-signature.ts';
import { createBatchHandler, type WorkerDeps } from './worker.ts';

const T0 = new Date(1_781_700_000_000);
const topics = topicNames('');
const log = createLogger({ level: 'silent' });
const SEND_MS = 250;
/** An `answer` of TIMEOUT: the attempt times out (no status). */
const TIMEOUT = 0;
const DAY = 86_400_000;
const ENDPOINT_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function fakes(
  opts: {
    answer?: (url: string) => number;
    whileSending?: () => void;
    failQueueing?: number;
    breaker?: { failures: number; cooldownMs: number };
  } = {},
) {
  const clock = { t: T0.getTime(), now: () => new Date(clock.t) };
  let queueFailures = opts.failQueueing ?? 0;
  const deliveries = new Map<string, DeliveryDoc>();
  const endpoints = new Map<string, EndpointDoc>([['ep_a', endpoint('ep_a')]]);
  const secrets = new Map([['key_a', 'ecs_secret']]);
  const calls = { deliveryReads: 0, endpointReads: 0, secretReads: 0, bulks: 0, sends: 0 };
  const got: { url: string; body: string; headers: Record<string, string> }[] = [];
  const queued: AttemptRecord[] = [];
  const queuedOn: string[] = [];
  const webhooks: WorkerDeps['webhooks'] = {
    async deliveriesByIds(ids) {
      calls.deliveryReads++;
      return new Map(ids.flatMap((id) => (deliveries.has(id) ? [[id, structuredClone(deliveries.get(id)!)] as const] : [])));
    },
    async applyUpdates(updates: readonly DeliveryUpdate[]) {
      calls.bulks++;
      const missed = new Set<string>();
      for (const u of updates) {
        const d = deliveries.get(u.id);
        if (!d || d.round !== u.round || d.status !== 'pending' || d.queued_attempt !== u.attempt) {
          missed.add(u.id);
          continue;
        }
        deliveries.set(u.id, { ...d, ...u.set, attempts: u.push ? [...d.attempts, u.push] : d.attempts });
      }
      return missed;
    },
    async endpointsByIds(ids) {
      calls.endpointReads++;
      return new Map(ids.flatMap((id) => (endpoints.has(id) ? [[id, endpoints.get(id)!] as const] : [])));
    },
    async liveSecretsOf(ids) {
      return new Map(ids.filter((id) => id === 'ep_a').map((id) => [id, [ENDPOINT_SECRET]]));
    },
    async noteSuccess(id) {
      const e = endpoints.get(id);
      if (!e || e.failing_since === null) return null;
      endpoints.set(id, { ...e, failing_since: null, failing_noticed: false });
      return e.failing_noticed ? e : null;
    },
    async claimFailingNotice(id) {
      const e = endpoints.get(id);
      if (!e || e.failing_since === null || e.failing_noticed) return false;
      endpoints.set(id, { ...e, failing_noticed: true });
      return true;
    },
    async noteFailure(id, now, disableAfterMs, { since = now, restart = false } = {}) {
      const e = endpoints.get(id);
      if (!e) return null;
      const failing_since = restart || e.failing_since === null ? since : e.failing_since;
      const disable = e.enabled && now.getTime() - failing_since.getTime() >= disableAfterMs;
      const after = { ...e, failing_since, ...(disable ? { enabled: false, disabled_at: now, disabled_reason: 'failing' } : {}) };
      endpoints.set(id, after);
      return after;
    },
  };
  const metrics = createMetrics();
  const notices: Omit<NoticeDoc, '_id'>[] = [];
  const rateCounts = new Map<string, number>();
  const statsCounted: { endpointId: string; samples: readonly AttemptSample[] }[] = [];
  const deps: WorkerDeps = {
    topics,
    webhooks,
    health: {
      async count(endpointId, _at, samples) {
        statsCounted.push({ endpointId, samples });
      },
      async notice(n) {
        notices.push(n);
        return { _id: `ntc_${notices.length}`, ...n };
      },
    },
    failingNoticeAfterMs: 60_000,
    // A shared counter per endpoint and second, as the store keeps it.
    rates: {
      async take(id, now, want, perSecond) {
        const k = `${id}|${Math.floor(now.getTime() / 1000)}`;
        const before = rateCounts.get(k) ?? 0;
        rateCounts.set(k, before + want);
        return Math.max(0, Math.min(want, perSecond - before));
      },
    },
    breaker: opts.breaker ?? { failures: 1000, cooldownMs: 30_000 },
    log,
    metrics,
    clock,
    delayScale: 1,
    random: () => 0.5, // no jitter: the delays are exact (the spread is schedule.test.ts's)
    disableAfterMs: DAY,
    cacheTtlMs: 60_000,
    produceTimeoutMs: 10_000,
    accounts: {
      liveSigningSecret: async (id) => {
        calls.secretReads++;
        return secrets.get(id) ?? null;
      },
    },
    sender: {
      async send(url, body, headers) {
        calls.sends++;
        got.push({ url, body, headers });
        opts.whileSending?.();
        clock.t += SEND_MS;
        const status = opts.answer?.(url) ?? 200;
        if (status === TIMEOUT)
          return {
            ok: false,
            status_code: null,
            latency_ms: SEND_MS,
            error: 'no response within 250 ms',
            error_code: 'timeout',
            response_body: null,
            retry_after_ms: null,
            directive: null,
          };
        return status < 300
          ? {
              ok: true,
              status_code: status,
              latency_ms: 1,
              error: null,
              error_code: null,
              response_body: '',
              retry_after_ms: null,
              directive: null,
            }
          : {
              ok: false,
              status_code: status,
              latency_ms: 1,
              error: `HTTP ${status}`,
              error_code: 'http_status',
              response_body: '',
              retry_after_ms: null,
              directive: null,
            };
      },
    },
    producer: {
      async send(records: readonly EventRecord[]) {
        if (queueFailures-- > 0) throw new Error('kafka down');
        queuedOn.push(...records.map((r) => r.topic));
        queued.push(...records.map((r) => JSON.parse(r.value.toString()) as AttemptRecord));
      },
      async disconnect() {},
    },
  };
  /** A counter's value by its labels, from the exposition text (0 when it has none). */
  const counted = async (name: string, labels = '') =>
    Number(new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ''} (\\d+)$`, 'm').exec(await metrics.registry.metrics())?.[1] ?? 0);
  return { clock, deliveries, endpoints, secrets, calls, got, queued, queuedOn, deps, counted, notices, stats: statsCounted };
}

function endpoint(id: string): EndpointDoc {
  return {
    _id: id,
    account_id: 'acc',
    key_id: 'key_a',
    url: `https://hooks.example/${id}`,
    categories: ['message.inbound'],
    enabled: true,
    disabled_at: null,
    disabled_reason: null,
    failing_since: null,
    created_at: T0,
    updated_at: T0,
  };
}

function delivery(id: string, over: Partial<DeliveryDoc> = {}): DeliveryDoc {
  return {
    _id: id,
    endpoint_id: 'ep_a',
    key_id: 'key_a',
    account_id: 'acc',
    event_id: `evt_${id}`,
    category: 'message.inbound',
    body: `{"id":"evt_${id}"}`,
    status: 'pending',
    round: 1,
    attempts: [],
    next_attempt_at: T0,
    queued_attempt: 1,
    queued_tier: 0,
    delivered_at: null,
    failed_at: null,
    failure_reason: null,
    created_at: T0,
    changed_at: T0,
    ...over,
  };
}

let offset = 0;
const consumed = (rec: AttemptRecord): ConsumedRecord => ({
  topic: topics.deliveryTiers[0]!,
  partition: 0,
  offset: String(offset++),
  timestamp: 0,
  key: rec.delivery_id,
  value: Buffer.from(JSON.stringify(rec)),
  headers: {},
});

describe('the delivery worker, a batch at a time', () => {
  test('a batch of records this process knows nothing of: the deliveries read in one go, all sent, the outcomes in one bulk', async () => {
    const f = fakes({ answer: () => 200 });
    const docs = ['d1', 'd2', 'd3'].map((id) => delivery(id));
    for (const d of docs) f.deliveries.set(d._id, d);
    await createBatchHandler(f.deps).handleBatch(docs.map((d) => consumed(attemptRecordOf(d, 1, T0.getTime()))));
    expect(f.calls.deliveryReads).toBe(1);
    expect(f.got.map((g) => g.body)).toEqual(docs.map((d) => d.body));
    expect(f.got[0]!.headers['X-EchoCue-Event-Id']).toBe('evt_d1');
    expect(f.calls.bulks).toBe(1);
    expect([...f.deliveries.values()].map((d) => [d._id, d.status, d.attempts.length])).toEqual([
      ['d1', 'delivered', 1],
      ['d2', 'delivered', 1],
      ['d3', 'delivered', 1],
    ]);
  });

  test('every attempt carries Standard Webhooks headers signed by the endpoint secret over id.timestamp.body, next to X-EchoCue-Signature', async () => {
    const f = fakes({ answer: () => 200 });
    f.endpoints.set('ep_old', { ...endpoint('ep_old') }); // created before Standard Webhooks signing: no secret of its own
    const d = delivery('d1');
    const old = delivery('d2', { endpoint_id: 'ep_old' });
    for (const x of [d, old]) f.deliveries.set(x._id, x);
    await createBatchHandler(f.deps).handleBatch([d, old].map((x) => consumed(attemptRecordOf(x, 1, T0.getTime()))));
    const [h, oldHeaders] = [f.got[0]!.headers, f.got[1]!.headers];
    expect(h['webhook-id']).toBe('evt_d1');
    expect(h['webhook-timestamp']).toBe(String(Math.floor(T0.getTime() / 1000)));
    const input = { body: d.body, id: h['webhook-id'], timestamp: h['webhook-timestamp'], signature: h['webhook-signature'] };
    expect(verifyStandard({ ...input, secret: ENDPOINT_SECRET }, { now: T0 })).toBe(true);
    expect(verifyStandard({ ...input, secret: 'whsec_' + Buffer.alloc(32, 7).toString('base64') }, { now: T0 })).toBe(false);
    expect(h['X-EchoCue-Signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(oldHeaders['webhook-signature']).toBeUndefined();
    expect(oldHeaders['X-EchoCue-Signature']).toMatch(/^sha256=/);
  });

  test('the chain of one delivery: each retry carries the body, needs no read of the delivery, nor of the endpoint within the TTL', async () => {
    let status = 500;
    const f = fakes({ answer: () => status });
    const d = delivery('d1');
    f.deliveries.set('d1', d);
    const progress = createProgressCache();
    progress.set('d1', { round: 1, status: 'pending', queued: 1, dueAt: T0.getTime(), tier: 0, produced: true }); // the planner's note
    const h = createBatchHandler({ ...f.deps, progress });
    await h.handleBatch([consumed(attemptRecordOf(d, 1, T0.getTime()))]);
    expect(f.queued).toHaveLength(1);
    expect(f.queued[0]).toMatchObject({
      delivery_id: 'd1',
      round: 1,
      attempt: 2,
      body: d.body,
      endpoint_id: 'ep_a',
      key_id: 'key_a',
      event_id: 'evt_d1',
    });
    status = 200;
    await h.handleBatch([consumed(f.queued[0]!)]);
    expect(f.calls).toMatchObject({ deliveryReads: 0, endpointReads: 1, secretReads: 2, bulks: 2, sends: 2 }); // the secret once per batch
    expect(f.got.map((g) => g.headers['X-EchoCue-Attempt'])).toEqual(['1', '2']);
    expect(f.deliveries.get('d1')).toMatchObject({
      status: 'delivered',
      attempts: [
        { n: 1, outcome: 'failure' },
        { n: 2, outcome: 'success' },
      ],
    });
  });

  test('a record of an old round is not sent after a replay started the next round (whatever this process remembered)', async () => {
    const f = fakes();
    const d = delivery('d1', { round: 2, queued_attempt: 1 }); // replayed: round 2 waits for its attempt 1
    f.deliveries.set('d1', d);
    const stale = attemptRecordOf({ ...d, round: 1 }, 6, T0.getTime());
    // A fresh worker (after a crash): it reads the delivery and skips the stale record.
    await createBatchHandler(f.deps).handleBatch([consumed(stale)]);
    // One that saw round 1 end: it knows the round ended and skips it without a read.
    const progress = createProgressCache();
    progress.set('d1', { round: 1, status: 'failed', queued: null, dueAt: null, tier: null, produced: true });
    await createBatchHandler({ ...f.deps, progress }).handleBatch([consumed(stale)]);
    expect(f.got).toEqual([]);
    expect(f.deliveries.get('d1')).toEqual(d);
    expect(f.queued).toEqual([]);
    // The new round's record is sent (its round is newer than what that process knew: read, then sent).
    await createBatchHandler({ ...f.deps, progress }).handleBatch([consumed(attemptRecordOf(d, 1, T0.getTime()))]);
    expect(f.got).toHaveLength(1);
    expect(f.deliveries.get('d1')).toMatchObject({ status: 'delivered', round: 2, attempts: [{ round: 2, n: 1, outcome: 'success' }] });
  });

  test('a record seen again after its outcome was stored (a crash before the commit) is not sent again; its successor is queued again', async () => {
    const f = fakes({ answer: () => 500 });
    const d = delivery('d1');
    f.deliveries.set('d1', d);
    const rec = attemptRecordOf(d, 1, T0.getTime());
    await createBatchHandler(f.deps).handleBatch([consumed(rec)]);
    expect(f.queued.map((q) => q.attempt)).toEqual([2]);
    // The restarted worker gets the same record again.
    await createBatchHandler(f.deps).handleBatch([consumed(rec)]);
    expect(f.got).toHaveLength(1);
    expect(f.queued.map((q) => [q.attempt, q.due_at])).toEqual([
      [2, f.queued[0]!.due_at],
      [2, f.queued[0]!.due_at],
    ]);
    expect(f.deliveries.get('d1')!.attempts).toHaveLength(1);
  });

  test('a record in the old format (ids only) is sent from the stored delivery', async () => {
    const f = fakes();
    const d = delivery('d1', { body: '{"id":"evt_d1","old":true}' });
    f.deliveries.set('d1', d);
    await createBatchHandler(f.deps).handleBatch([consumed({ delivery_id: 'd1', round: 1, attempt: 1, due_at: T0.getTime() })]);
    expect(f.got.map((g) => [g.body, g.headers['X-EchoCue-Event-Id']])).toEqual([[d.body, 'evt_d1']]);
    expect(f.deliveries.get('d1')!.status).toBe('delivered');
  });

  test('a disabled endpoint or revoked key is read fresh and fails the delivery without sending; re-enabled, the next delivery goes out', async () => {
    const f = fakes();
    const h = createBatchHandler(f.deps);
    f.endpoints.set('ep_a', { ...endpoint('ep_a'), enabled: false });
    f.deliveries.set('d1', delivery('d1'));
    await h.handleBatch([consumed(attemptRecordOf(f.deliveries.get('d1')!, 1, 0))]);
    expect(f.deliveries.get('d1')).toMatchObject({ status: 'failed', failure_reason: 'endpoint_disabled', attempts: [] });
    f.endpoints.set('ep_a', endpoint('ep_a'));
    f.secrets.delete('key_a');
    f.deliveries.set('d2', delivery('d2'));
    await h.handleBatch([consumed(attemptRecordOf(f.deliveries.get('d2')!, 1, 0))]);
    expect(f.deliveries.get('d2')).toMatchObject({ status: 'failed', failure_reason: 'api_key_revoked' });
    f.secrets.set('key_a', 'ecs_secret');
    f.deliveries.set('d3', delivery('d3'));
    await h.handleBatch([consumed(attemptRecordOf(f.deliveries.get('d3')!, 1, 0))]);
    expect(f.got).toHaveLength(1);
    expect(f.deliveries.get('d3')!.status).toBe('delivered');
  });

  test('a record repeated within one batch is sent once', async () => {
    const f = fakes();
    f.deliveries.set('d1', delivery('d1'));
    const rec = attemptRecordOf(f.deliveries.get('d1')!, 1, 0);
    await createBatchHandler(f.deps).handleBatch([consumed(rec), consumed(rec)]);
    expect(f.got).toHaveLength(1);
  });

  test('a failed attempt: its time and signature timestamp from the clock, the next attempt due 30 s after it ended, stored and queued on the first retry tier', async () => {
    const f = fakes({ answer: () => 503 });
    f.deliveries.set('d1', delivery('d1'));
    await createBatchHandler(f.deps).handleBatch([consumed(attemptRecordOf(f.deliveries.get('d1')!, 1, T0.getTime()))]);
    const ended = T0.getTime() + SEND_MS;
    expect(f.got[0]!.headers['X-EchoCue-Timestamp']).toBe(String(Math.floor(T0.getTime() / 1000)));
    expect(f.deliveries.get('d1')).toMatchObject({
      status: 'pending',
      next_attempt_at: new Date(ended + 30_000),
      queued_attempt: 2,
      queued_tier: 1,
      changed_at: new Date(ended),
      attempts: [{ round: 1, n: 1, at: T0, outcome: 'failure', status_code: 503, error_code: 'http_status' }],
    });
    expect(f.queuedOn).toEqual([topics.deliveryTiers[1]]);
    expect(f.queued).toMatchObject([{ delivery_id: 'd1', round: 1, attempt: 2, due_at: ended + 30_000 }]);
  });

  test('a deleted endpoint fails its delivery without sending', async () => {
    const f = fakes();
    f.endpoints.delete('ep_a');
    f.deliveries.set('d1', delivery('d1'));
    await createBatchHandler(f.deps).handleBatch([consumed(attemptRecordOf(f.deliveries.get('d1')!, 1, 0))]);
    expect(f.got).toEqual([]);
    expect(f.deliveries.get('d1')).toMatchObject({ status: 'failed', failure_reason: 'endpoint_deleted', attempts: [] });
    expect(f.queued).toEqual([]);
  });

  test('endpoint health: a failure starts the streak when it ended, later failures continue it, a success ends it', async () => {
    let status = 500;
    const f = fakes({ answer: () => status });
    const h = createBatchHandler(f.deps);
    const attempt = async (id: string) => {
      f.deliveries.set(id, delivery(id));
      await h.handleBatch([consumed(attemptRecordOf(f.deliveries.get(id)!, 1, 0))]);
    };
    await attempt('d1');
    await attempt('d2');
    expect(f.endpoints.get('ep_a')).toMatchObject({ enabled: true, failing_since: new Date(T0.getTime() + SEND_MS) });
    status = 200;
    await attempt('d3');
    expect(f.endpoints.get('ep_a')).toMatchObject({ enabled: true, failing_since: null });
  });

  test('each attempt is counted by outcome and by the tier its record waited on', async () => {
    const f = fakes({ answer: (url) => (url.endsWith('ep_b') ? 503 : 200) });
    f.endpoints.set('ep_b', endpoint('ep_b'));
    f.deliveries.set('d1', delivery('d1', { queued_attempt: 3, queued_tier: 2 }));
    f.deliveries.set('d2', delivery('d2', { endpoint_id: 'ep_b' }));
    await createBatchHandler(f.deps).handleBatch([
      { ...consumed(attemptRecordOf(f.deliveries.get('d1')!, 3, 0)), topic: topics.deliveryTiers[2]! },
      consumed(attemptRecordOf(f.deliveries.get('d2')!, 1, 0)),
    ]);
    expect(await f.counted('echocue_delivery_attempts_total', 'outcome="success",tier="2"')).toBe(1);
    expect(await f.counted('echocue_delivery_attempts_total', 'outcome="http_status",tier="0"')).toBe(1);
    expect(await f.counted('echocue_delivery_endpoints_disabled_total')).toBe(0);
  });

  test('notices: a streak past ENDPOINT_FAILING_NOTICE_SECONDS writes one failing notice, a success then recovered; health counted per endpoint', async () => {
    let status = 500;
    const f = fakes({ answer: () => status });
    const h = createBatchHandler(f.deps);
    const send = async (id: string) => {
      f.deliveries.set(id, delivery(id));
      await h.handleBatch([consumed(attemptRecordOf(f.deliveries.get(id)!, 1, f.clock.t))]);
    };
    await send('d1'); // the streak starts: no notice yet
    expect(f.notices).toEqual([]);
    f.clock.t += 61_000;
    await send('d2'); // 61 s of failures: failing, once
    f.clock.t += 10_000;
    await send('d3');
    expect(f.notices.map((n) => [n.kind, n.endpoint_id, n.key_id])).toEqual([['failing', 'ep_a', 'key_a']]);
    expect(f.notices[0]!.detail).toMatch(/^every attempt failed since /);
    status = 200;
    await send('d4');
    await send('d5'); // a success without a noticed streak before it: nothing
    expect(f.notices.map((n) => n.kind)).toEqual(['failing', 'recovered']);
    expect(f.stats.map((x) => [x.endpointId, x.samples.map((y) => y.ok)])).toEqual([
      ['ep_a', [false]],
      ['ep_a', [false]],
      ['ep_a', [false]],
      ['ep_a', [true]],
      ['ep_a', [true]],
    ]);
    expect(f.stats[0]!.samples[0]!.latencyMs).toBe(1);
  });

  test("an endpoint's rate limit: what is over it this second waits, unsent and uncounted, spread over the next seconds", async () => {
    const f = fakes({ answer: () => 200 });
    f.endpoints.set('ep_a', { ...endpoint('ep_a'), rate_limit_per_second: 2 });
    const docs = ['d1', 'd2', 'd3', 'd4', 'd5'].map((id) => delivery(id));
    for (const d of docs) f.deliveries.set(d._id, d);
    await createBatchHandler(f.deps).handleBatch(docs.map((d) => consumed(attemptRecordOf(d, 1, T0.getTime()))));
    expect(f.got).toHaveLength(2);
    const waiting = [...f.deliveries.values()].filter((d) => d.attempts.length === 0);
    expect(waiting.map((d) => d._id)).toEqual(['d3', 'd4', 'd5']);
    const second = Math.floor(T0.getTime() / 1000) * 1000;
    // The same attempt again, due in the next seconds, two per second; never on the attempt topic (due at once).
    expect(f.queued.map((q) => [q.delivery_id, q.attempt, q.due_at - second])).toEqual([
      ['d3', 1, 1000],
      ['d4', 1, 1000],
      ['d5', 1, 2000],
    ]);
    expect(f.queuedOn.every((t) => t !== topics.deliveryTiers[0])).toBe(true);
    expect(waiting.map((d) => [d.status, d.queued_attempt, d.next_attempt_at!.getTime() - second])).toEqual([
      ['pending', 1, 1000],
      ['pending', 1, 1000],
      ['pending', 1, 2000],
    ]);
    expect(await f.counted('echocue_delivery_attempts_total', 'outcome="deferred_rate_limited",tier="0"')).toBe(3);
  });

  test("the circuit breaker: after `failures` timeouts in a row the rest of an endpoint's attempts wait unsent until the cooldown", async () => {
    let answer = 503;
    const f = fakes({ answer: () => answer, breaker: { failures: 2, cooldownMs: 30_000 } });
    const h = createBatchHandler({ ...f.deps, keysAtOnce: 1 });
    // Quick error answers cost nothing: they never open it.
    const quick = ['q1', 'q2', 'q3', 'q4'].map((id) => delivery(id));
    for (const d of quick) f.deliveries.set(d._id, d);
    await h.handleBatch(quick.map((d) => consumed(attemptRecordOf(d, 1, T0.getTime()))));
    expect(f.got).toHaveLength(4);
    f.got.splice(0);
    f.queued.splice(0);
    answer = TIMEOUT;
    const docs = ['d1', 'd2', 'd3', 'd4'].map((id) => delivery(id));
    for (const d of docs) f.deliveries.set(d._id, d);
    await h.handleBatch(docs.map((d) => consumed(attemptRecordOf(d, 1, T0.getTime()))));
    expect(f.got).toHaveLength(2);
    expect(docs.map((d) => f.deliveries.get(d._id)!.attempts.length)).toEqual([1, 1, 0, 0]);
    const deferred = f.queued.filter((q) => q.attempt === 1);
    expect(deferred.map((q) => q.delivery_id)).toEqual(['d3', 'd4']);
    const openedAt = T0.getTime() + 6 * SEND_MS;
    for (const q of deferred) expect(q.due_at - openedAt).toBeGreaterThanOrEqual(30_000);
    // Another endpoint is not held up by it.
    f.endpoints.set('ep_b', endpoint('ep_b'));
    const other = delivery('d9', { endpoint_id: 'ep_b' });
    f.deliveries.set('d9', other);
    await h.handleBatch([consumed(attemptRecordOf(other, 1, f.clock.t))]);
    expect(f.got.at(-1)!.url).toBe('https://hooks.example/ep_b');
  });

  test('a failure that disables the endpoint fails its delivery (no retry queued), and the next delivery to it is not sent', async () => {
    const f = fakes({ answer: () => 500 });
    f.endpoints.set('ep_a', { ...endpoint('ep_a'), failing_since: new Date(T0.getTime() - DAY) });
    const h = createBatchHandler(f.deps);
    f.deliveries.set('d1', delivery('d1'));
    await h.handleBatch([consumed(attemptRecordOf(f.deliveries.get('d1')!, 1, 0))]);
    expect(f.endpoints.get('ep_a')!.enabled).toBe(false);
    expect(f.deliveries.get('d1')).toMatchObject({ status: 'failed', failure_reason: 'endpoint_disabled', attempts: [{ n: 1 }] });
    expect(f.queued).toEqual([]);
    // Within the cache TTL: the endpoint this process disabled is read again, not taken from memory.
    f.deliveries.set('d2', delivery('d2'));
    await h.handleBatch([consumed(attemptRecordOf(f.deliveries.get('d2')!, 1, 0))]);
    expect(f.got).toHaveLength(1);
    expect(f.deliveries.get('d2')).toMatchObject({ status: 'failed', failure_reason: 'endpoint_disabled', attempts: [] });
    // Counted: the one disablement, the failed attempt and the one refused because the endpoint was disabled.
    expect(await f.counted('echocue_delivery_endpoints_disabled_total')).toBe(1);
    expect(await f.counted('echocue_delivery_attempts_total', 'outcome="http_status",tier="0"')).toBe(1);
    expect(await f.counted('echocue_delivery_attempts_total', 'outcome="refused_endpoint_disabled",tier="0"')).toBe(1);
  });

  test('an outcome the store did not take (the delivery moved on meanwhile) queues no successor, and what was known of it is dropped', async () => {
    let replay = true;
    const f = fakes({
      answer: () => 500,
      whileSending: () => {
        // The API replays the delivery while attempt 1 is in flight: round 2 waits for its attempt 1.
        if (replay) f.deliveries.set('d1', delivery('d1', { round: 2 }));
        replay = false;
      },
    });
    f.deliveries.set('d1', delivery('d1'));
    const progress = createProgressCache();
    progress.set('d1', { round: 1, status: 'pending', queued: 1, dueAt: T0.getTime(), tier: 0, produced: true });
    const h = createBatchHandler({ ...f.deps, progress });
    const rec = attemptRecordOf(f.deliveries.get('d1')!, 1, T0.getTime());
    await h.handleBatch([consumed(rec)]);
    expect(f.queued).toEqual([]);
    expect(f.deliveries.get('d1')).toMatchObject({ round: 2, attempts: [] });
    // The same record again (a redelivered batch): read from the store now, so it is not sent a second time.
    await h.handleBatch([consumed(rec)]);
    expect(f.got).toHaveLength(1);
  });

  test('a batch whose next attempts could not be queued fails; its retry sends nothing again and queues them', async () => {
    const f = fakes({ answer: () => 500, failQueueing: 1 });
    f.deliveries.set('d1', delivery('d1'));
    const progress = createProgressCache();
    progress.set('d1', { round: 1, status: 'pending', queued: 1, dueAt: T0.getTime(), tier: 0, produced: true });
    const h = createBatchHandler({ ...f.deps, progress });
    const batch = [consumed(attemptRecordOf(f.deliveries.get('d1')!, 1, T0.getTime()))];
    await expect(h.handleBatch(batch)).rejects.toThrow('kafka down');
    expect(f.queued).toEqual([]);
    await h.handleBatch(batch);
    expect(f.got).toHaveLength(1);
    expect(f.queued).toMatchObject([{ delivery_id: 'd1', attempt: 2, due_at: T0.getTime() + SEND_MS + 30_000 }]);
    expect(f.deliveries.get('d1')!.attempts).toHaveLength(1);
  });

  test('after an ownership change what this process knew is read again: a delivery finished elsewhere is not sent', async () => {
    const f = fakes();
    f.deliveries.set('d1', delivery('d1', { status: 'delivered', queued_attempt: null }));
    const progress = createProgressCache();
    progress.set('d1', { round: 1, status: 'pending', queued: 1, dueAt: T0.getTime(), tier: 0, produced: true }); // stale
    const h = createBatchHandler({ ...f.deps, progress });
    h.forget();
    await h.handleBatch([consumed(attemptRecordOf(delivery('d1'), 1, T0.getTime()))]);
    expect(f.got).toEqual([]);
    expect(f.deliveries.get('d1')).toMatchObject({ status: 'delivered', attempts: [] });
  });

  test('records not sent: of a delivery gone from the store, of one finished, ahead of the attempt it waits for', async () => {
    const f = fakes();
    f.deliveries.set('d2', delivery('d2', { status: 'failed', queued_attempt: null }));
    f.deliveries.set('d3', delivery('d3', { queued_attempt: 2 }));
    const stored = structuredClone(f.deliveries);
    await createBatchHandler(f.deps).handleBatch([
      consumed(attemptRecordOf(delivery('d1'), 1, 0)),
      consumed(attemptRecordOf(delivery('d2'), 1, 0)),
      consumed(attemptRecordOf(delivery('d3'), 4, 0)),
    ]);
    expect(f.got).toEqual([]);
    expect(f.deliveries).toEqual(stored);
    expect(f.queued).toEqual([]);
  });

  test('a record without its body (too large to carry) is sent with the stored body, even for a delivery known here', async () => {
    const f = fakes();
    f.deliveries.set('d1', delivery('d1', { body: '{"id":"evt_d1","large":true}' }));
    const progress = createProgressCache();
    progress.set('d1', { round: 1, status: 'pending', queued: 1, dueAt: T0.getTime(), tier: 0, produced: true });
    const { body: _carried, ...withoutBody } = attemptRecordOf(f.deliveries.get('d1')!, 1, T0.getTime());
    await createBatchHandler({ ...f.deps, progress }).handleBatch([consumed(withoutBody)]);
    expect(f.got.map((g) => g.body)).toEqual(['{"id":"evt_d1","large":true}']);
    expect(f.deliveries.get('d1')!.status).toBe('delivered');
  });

  test('a record that is not an attempt is due at once and skipped; the rest of its batch is handled', async () => {
    const f = fakes();
    f.deliveries.set('d1', delivery('d1'));
    const h = createBatchHandler(f.deps);
    const junk: ConsumedRecord = { ...consumed(attemptRecordOf(delivery('d0'), 1, 0)), value: Buffer.from('{"hello":1}') };
    const rec = consumed(attemptRecordOf(f.deliveries.get('d1')!, 1, T0.getTime() + 5000));
    expect([h.dueAt(junk), h.dueAt(rec)]).toEqual([0, T0.getTime() + 5000]);
    await h.handleBatch([junk, rec]);
    expect(f.got.map((g) => g.body)).toEqual([f.deliveries.get('d1')!.body]);
    expect(f.deliveries.get('d1')!.status).toBe('delivered');
  });
});
