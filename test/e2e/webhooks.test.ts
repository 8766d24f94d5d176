// Outbound webhooks end to end, all real: a signed Meta webhook -> ingest -> Kafka -> actors (stored) ->
// notification -> planner -> attempt and retry-tier topics -> a real HTTP receiver on 127.0.0.1. Delays run at
// 1/1000 scale (DELIVERY_DELAY_SCALE), so the whole 30 s -> 6 h chain takes about 26 s.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHmac } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { MongoClient } from 'mongodb';
import { startSystem, ROLES, type RunningSystem } from '../../src/cli/system.ts';
import { type AttemptRecord } from '../../src/events/outbound.ts';
import { ABORTED_REASON } from '../../src/delivery/next-step.ts';
import { JITTER } from '../../src/delivery/schedule.ts';
import { DELIVERY_TIERS, topicNames } from '../../src/events/topics.ts';
import { fixture, testEnv, waitFor, type TestEnv } from '../helpers/env.ts';
import { Webhook } from 'standardwebhooks';
import { postFixture, postInboundText } from '../helpers/http.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { readTopics, testEvents } from '../../harness/kafka.ts';
import { envelopeSchema } from '../../src/views/webhook-events.ts';

const ADMIN = 'admin-token-for-webhook-tests';
const WABA_A = '104719385562013';
const SCALE = 0.001;

type Setup = { env: TestEnv; system: RunningSystem; api: OpenApiChecker; key: string; secret: string; accountId: string };

/** The caller's REST calls on a set-up system (with its API key, checked against the OpenAPI document). */
const caller = (s: Setup) => (method: string, path: string, body?: unknown) =>
  s.api.call(method, `${s.system.url}${path}`, { key: s.key, body });
type Call = ReturnType<typeof caller>;

/** Waits for the endpoint to be disabled; answers it as the API shows it. */
const disabledEndpoint = (call: Call, id: string) =>
  waitFor(
    async () => {
      const e = (await call('GET', `/api/webhooks/endpoints/${id}`)).json;
      return e.enabled === false ? e : undefined;
    },
    60_000,
    'the endpoint to be disabled',
  );

/** Waits for the delivery to reach `status`; answers it as the API shows it. */
const deliveryIn = (call: Call, id: string, status: 'failed' | 'delivered', what: string) =>
  waitFor(
    async () => {
      const d = (await call('GET', `/api/webhooks/deliveries/${id}`)).json;
      return d.status === status ? d : undefined;
    },
    30_000,
    what,
  );

async function setUp(overrides: Record<string, string> = {}): Promise<Setup> {
  const env = testEnv({
    ADMIN_TOKEN: ADMIN,
    DELIVERY_DELAY_SCALE: String(SCALE),
    DELIVERY_ALLOW_CIDRS: '127.0.0.1/32',
    DELIVERY_TIMEOUT_MS: '1000',
    ...overrides,
  });
  const system = await startSystem({ config: env.config, roles: [...ROLES], log: env.log });
  const api = await openApiChecker(system.url);
  const acc = await api.call('POST', `${system.url}/api/admin/accounts`, { key: ADMIN, body: { name: 'Dental clinic' } });
  await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/wabas`, { key: ADMIN, body: { waba_id: WABA_A } });
  const key = await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/keys`, { key: ADMIN });
  return { env, system, api, key: key.json.key, secret: key.json.signing_secret, accountId: acc.json.id };
}

/** Stops what setUp started, and the receiver. */
async function tearDown(s: Setup | undefined, rx: Receiver | undefined) {
  await s?.system.stop();
  await rx?.close();
  await s?.env.cleanup();
}

const hmac = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('outbound webhooks', () => {
  let s: Setup;
  let rx: Receiver;
  const endpoints: Record<string, string> = {};
  const endpointSecrets: Record<string, string> = {};
  const call = (method: string, path: string, body?: unknown) => s.api.call(method, `${s.system.url}${path}`, { key: s.key, body });
  const deliveriesOf = async (name: string, status?: string) =>
    (await call('GET', `/api/webhooks/endpoints/${endpoints[name]}/deliveries${status ? `?status=${status}` : ''}`)).json.data as any[];
  const settled = (name: string, status: string) =>
    waitFor(
      async () => {
        const d = (await deliveriesOf(name))[0];
        return d?.status === status ? d : undefined;
      },
      60_000,
      `the ${name} delivery to be ${status}`,
    );
  /** The attempt records of a delivery on the tier topics, in attempt order, each with the tier it waited on. */
  const queuedAttempts = async (deliveryId: string) => {
    const tiers = topicNames(s.env.config.kafka.topicPrefix).deliveryTiers;
    const parsed = (await readTopics(s.env.config, tiers)).map((r) => {
      try {
        return { tier: tiers.indexOf(r.topic), ...(JSON.parse(r.value.toString('utf8')) as AttemptRecord) };
      } catch {
        return null; // not an attempt record
      }
    });
    return parsed
      .filter((r) => r?.delivery_id === deliveryId)
      .map((r) => r!)
      .sort((a, b) => a.round - b.round || a.attempt - b.attempt);
  };

  beforeAll(async () => {
    rx = await startReceiver();
    s = await setUp({ ENDPOINT_FAILING_NOTICE_SECONDS: '1' }); // a failure streak of 1 s writes a failing notice
    rx.script('/ok', [{ status: 204 }]);
    rx.script('/flaky', [{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }, { status: 200 }]);
    rx.script('/hang', [{ status: 200, delayMs: 5_000, body: 'too late' }, { status: 200 }]);
    rx.script('/down', [{ status: 500, body: 'database is down' }]);
    rx.script('/later', [{ status: 503, headers: { 'retry-after': '300' } }, { status: 200 }]);
    rx.script('/std', [{ status: 200 }]);
    rx.script('/abort', [{ status: 422, headers: { 'webhook-delivery': 'abort-message' }, body: 'unknown customer' }]);
    rx.script('/disable', [{ status: 400, headers: { 'webhook-delivery': 'disable' } }]);
    for (const name of ['ok', 'flaky', 'hang', 'down', 'later', 'std', 'abort', 'disable']) {
      const res = await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/${name}`, categories: ['message.inbound'] });
      expect(res.status).toBe(201);
      expect(res.json.signing_secret).toMatch(/^whsec_/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      endpoints[name] = res.json.id;
      endpointSecrets[name] = res.json.signing_secret;
    }
    // One inbound message: one delivery to each endpoint.
    expect((await postFixture(s.system.url, fixture('messages.text.json'))).status).toBe(200);
  }, 120_000);

  afterAll(() => tearDown(s, rx));

  test("2xx the first time: one delivery, signed with the key's secret, with event id and timestamp headers", async () => {
    const d = await settled('ok', 'delivered');
    const got = rx.at('/ok');
    expect(got).toHaveLength(1);
    const r = got[0]!;
    expect(r.headers['x-echocue-signature']).toBe(hmac(r.body, s.secret));
    expect(r.headers['x-echocue-event-id']).toBe(d.event_id);
    // The timestamp is the attempt's own (the one its record shows), in whole seconds, not the event's time.
    const ts = Number(r.headers['x-echocue-timestamp']);
    expect(ts).toBe(Math.floor(Date.parse(d.attempts[0].at) / 1000));
    expect(Math.floor(Date.parse(d.created_at) / 1000)).toBeLessThanOrEqual(ts); // stamped after the delivery was made...
    expect(ts).toBeLessThanOrEqual(Math.floor(r.at / 1000)); // ...and before the receiver got it
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const envelope = JSON.parse(r.body);
    expect(envelope).toMatchObject({ id: d.event_id, type: 'message.inbound', created_at: expect.any(String) });
    expect(envelope.data.message).toMatchObject({ text: 'Hi! Do you have any openings for a cleaning next week?', from: '15550199001' });
    expect(envelope.data.thread).toMatchObject({ contact: { wa_id: '15550199001' } });
    expect(d).toMatchObject({ attempt_count: 1, attempts: [{ n: 1, outcome: 'success', status_code: 204 }] });
    // The attempt keeps the headers it was sent with, exactly as the receiver got them.
    const sent = d.attempts[0].request_headers;
    for (const h of ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'X-EchoCue-Signature', 'X-EchoCue-Attempt'])
      expect([h, sent[h]]).toEqual([h, r.headers[h.toLowerCase()]]);
    // The secret the dashboard reveals is the one that signed it.
    expect((await call('GET', '/api/webhooks/signing-secret')).json.signing_secret).toBe(s.secret);
  });

  // Only order and the schedule the worker wrote are checked here, no elapsed time (the project bans timing
  // assertions): how late each tier's retry arrives after its due_at is `make bench`'s "retry scheduling error by
  // tier" (bench/stages/outbound.ts, phase C).
  test('500 five times then 200: delivered on the sixth attempt, each retry queued on its tier and sent when due, in order', async () => {
    const d = await settled('flaky', 'delivered');
    expect(d.attempts.map((a: any) => a.status_code)).toEqual([500, 500, 500, 500, 500, 200]);
    const got = rx.at('/flaky');
    expect(got.map((r) => r.headers['x-echocue-attempt'])).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(new Set(got.map((r) => r.headers['x-echocue-event-id'])).size).toBe(1);
    // Attempt k+1 waited on retry tier k (30 s, 2 m, 10 m, 1 h, 6 h), once each.
    const queued = await queuedAttempts(d.id);
    expect(queued.map((q) => [q.round, q.attempt, q.tier])).toEqual(DELIVERY_TIERS.map((_, k) => [1, k + 1, k]));
    for (let k = 1; k < DELIVERY_TIERS.length; k++) {
      const failedAt = Date.parse(d.attempts[k - 1].at);
      // Due the tier's (scaled) delay after the failed attempt ended, within the ±20 % jitter (the end is known to
      // the ms from the attempt's start and latency; the store's clock read after it may add a few ms)...
      const delay = DELIVERY_TIERS[k]!.delayMs * SCALE;
      const wait = queued[k]!.due_at - (failedAt + d.attempts[k - 1].latency_ms);
      expect([k, wait >= delay * (1 - JITTER) - 1 && wait <= delay * (1 + JITTER) + 100, wait]).toEqual([k, true, wait]);
      // ...and not sent before it was due, nor before the previous attempt.
      expect([k, got[k]!.at >= queued[k]!.due_at, got[k]!.seq > got[k - 1]!.seq]).toEqual([k, true, true]);
    }
  });

  test('endpoint health over time and notices: failing after the streak lasted, recovered at the next success', async () => {
    const flaky = (await call('GET', `/api/webhooks/endpoints/${endpoints['flaky']}/health`)).json;
    expect(flaky).toMatchObject({ endpoint_id: endpoints['flaky'], bucket_seconds: 300, totals: { attempts: 6, successes: 1 } });
    expect(flaky.totals.success_rate).toBeCloseTo(1 / 6);
    const attempts = flaky.buckets.reduce((a: number, b: any) => a + b.attempts, 0);
    expect(attempts).toBe(6);
    for (const b of flaky.buckets) {
      expect(b.failures).toBe(b.attempts - b.successes);
      expect(b.latency_p95_ms).toBeGreaterThanOrEqual(b.latency_p50_ms);
      expect(b.latency_max_ms).toBeGreaterThanOrEqual(0);
    }
    const ok = (await call('GET', `/api/webhooks/endpoints/${endpoints['ok']}/health`)).json;
    expect(ok.totals).toEqual({ attempts: 1, successes: 1, success_rate: 1 });
    // Its five failures spanned ~13 s (scaled): one failing notice, then recovered with the sixth attempt.
    const notices = (await call('GET', `/api/webhooks/notices?endpoint_id=${endpoints['flaky']}`)).json.data;
    expect(notices.map((n: any) => n.kind)).toEqual(['recovered', 'failing']);
    expect(notices[1].detail).toMatch(/^every attempt failed since /);
    const all = (await call('GET', '/api/webhooks/notices?limit=100')).json.data;
    expect(all.some((n: any) => n.endpoint_id === endpoints['disable'] && n.kind === 'disabled')).toBe(true);
    expect(all.filter((n: any) => n.endpoint_id === endpoints['ok'])).toEqual([]);
    // Bad input named; another key's endpoint is not found.
    const old = await call('GET', `/api/webhooks/endpoints/${endpoints['ok']}/health?since=2020-01-01T00:00:00Z`);
    expect([old.status, old.json.error.details.parameter]).toEqual([400, 'since']);
    expect((await call('GET', '/api/webhooks/notices?limit=0')).status).toBe(400);
    expect((await call('GET', '/api/webhooks/notices?endpoint_id=ep_nope')).status).toBe(404);
  });

  test('a receiver that answers only after the timeout: the attempt times out (that answer never used), the retry succeeds', async () => {
    const d = await settled('hang', 'delivered');
    expect(d.attempts).toMatchObject([
      { n: 1, outcome: 'failure', status_code: null, response_body: null },
      { n: 2, outcome: 'success', status_code: 200 },
    ]);
    expect(d.attempts[0]).toMatchObject({ error_code: 'timeout', error: expect.stringContaining('1000 ms') });
    // A timeout waits at least 60 s (scaled), on the 2 m tier, not the 30 s the first retry would wait.
    const [, retryRecord] = await queuedAttempts(d.id);
    expect(retryRecord).toMatchObject({ attempt: 2, tier: 2 });
    expect(retryRecord!.due_at - Date.parse(d.attempts[0].at)).toBeGreaterThanOrEqual(60_000 * SCALE);
    // The sender hung up on the first request before it sent the retry (and before the late answer).
    const [first, retry] = rx.at('/hang');
    expect(first!.hungUp).not.toBeNull();
    expect(first!.hungUp!).toBeLessThan(retry!.seq);
  });

  test('Retry-After on a 503 pushes the next attempt later than its tier', async () => {
    const d = await settled('later', 'delivered');
    const [first, second] = rx.at('/later');
    const [, retry] = await queuedAttempts(d.id);
    // 300 s asked after the first attempt: honoured up to twice its tier's 30 s, so due 60 s (scaled) after the 503
    // at the earliest, waiting on the 2 m tier (its own, 30 s, cannot hold it), and not sent before that.
    expect(retry).toMatchObject({ attempt: 2, tier: 2 });
    expect(retry!.due_at).toBeGreaterThanOrEqual(Date.parse(d.attempts[0].at) + 60_000 * SCALE);
    expect(retry!.due_at).toBeLessThan(Date.parse(d.attempts[0].at) + 300_000 * SCALE);
    expect(second!.at).toBeGreaterThanOrEqual(retry!.due_at);
    expect(second!.seq).toBeGreaterThan(first!.seq);
  });

  test('webhook-delivery: abort-message stops the retries of that message (the endpoint stays enabled); disable disables it', async () => {
    const aborted = await settled('abort', 'failed');
    expect(aborted).toMatchObject({
      attempt_count: 1,
      failure_reason: ABORTED_REASON,
      attempts: [{ n: 1, status_code: 422, response_body: 'unknown customer', directive: 'abort-message' }],
    });
    expect(rx.at('/abort')).toHaveLength(1);
    expect((await call('GET', `/api/webhooks/endpoints/${endpoints['abort']}`)).json.enabled).toBe(true);
    const disabled = await settled('disable', 'failed');
    expect(disabled).toMatchObject({ attempt_count: 1, failure_reason: 'endpoint_disabled', attempts: [{ directive: 'disable' }] });
    expect(await disabledEndpoint(call, endpoints['disable']!)).toMatchObject({
      enabled: false,
      disabled_reason: 'the endpoint answered webhook-delivery: disable',
    });
  });

  test(
    'always 500: failed after the sixth attempt, listed as failed with each response, then replayed successfully',
    { timeout: 90_000 },
    async () => {
      const d = await settled('down', 'failed');
      expect(d.attempts).toHaveLength(6);
      expect(d.attempts.every((a: any) => a.status_code === 500 && a.response_body === 'database is down')).toBe(true);
      expect(d.failure_reason).toBe('all 6 attempts failed');
      expect((await deliveriesOf('down', 'failed')).map((x) => x.id)).toEqual([d.id]);
      expect(await deliveriesOf('down', 'delivered')).toEqual([]);
      const endpoint = (await call('GET', `/api/webhooks/endpoints/${endpoints['down']}`)).json;
      expect(endpoint.failing_since).not.toBeNull();

      rx.script('/down', [{ status: 200 }]);
      const replayed = await call('POST', `/api/webhooks/deliveries/${d.id}/replay`);
      expect(replayed.json.status).toBe('pending');
      const done = await settled('down', 'delivered');
      expect(done.attempts.map((a: any) => [a.round, a.n, a.outcome])).toEqual([
        [1, 1, 'failure'],
        [1, 2, 'failure'],
        [1, 3, 'failure'],
        [1, 4, 'failure'],
        [1, 5, 'failure'],
        [1, 6, 'failure'],
        [2, 1, 'success'],
      ]);
      expect(rx.at('/down').at(-1)!.headers['x-echocue-event-id']).toBe(d.event_id); // same event id: receivers dedupe
      expect((await call('POST', `/api/webhooks/deliveries/${d.id}/replay`)).status).toBe(400); // delivered: nothing to replay
      expect((await call('GET', `/api/webhooks/endpoints/${endpoints['down']}`)).json.failing_since).toBeNull();
    },
  );

  test('"replay all failed since" replays only failed deliveries of that endpoint', { timeout: 120_000 }, async () => {
    // Each filter has a delivery only it keeps out: on the endpoint, one failed before `since` and one delivered
    // after it; on another endpoint of the same key, failed ones after it. Exactly one is left to replay.
    const statusOf = (body: string) => (JSON.parse(body) as { data: { status: string } }).data.status;
    rx.script('/ok2', (body) => [{ status: statusOf(body) === 'delivered' ? 200 : 500 }]);
    rx.script('/other2', [{ status: 500 }]);
    const ep = (await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/ok2`, categories: ['message.status'] })).json;
    const other = (await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/other2`, categories: ['message.status'] })).json;
    endpoints['ok2'] = ep.id;
    endpoints['other2'] = other.id;
    const byStatus = async (name: string) => {
      const list = await deliveriesOf(name);
      return new Map(list.map((d) => [d.payload.data.status as string, d]));
    };
    expect((await postFixture(s.system.url, fixture('statuses.sent.json'))).status).toBe(200);
    const before = await waitFor(async () => (await byStatus('ok2')).get('sent'), 30_000, 'the delivery of "sent"');
    const since = new Date(Date.parse(before.created_at) + 1).toISOString();
    for (const f of ['statuses.delivered.json', 'statuses.read.json'])
      expect((await postFixture(s.system.url, fixture(f))).status).toBe(200);
    const want = {
      ok2: { sent: 'failed', delivered: 'delivered', read: 'failed' },
      other2: { sent: 'failed', delivered: 'failed', read: 'failed' },
    };
    const states = async () => {
      const [mine, theirs] = await Promise.all([byStatus('ok2'), byStatus('other2')]);
      return { ok2: mine, other2: theirs };
    };
    const stateOf = (m: Map<string, any>) => Object.fromEntries([...m].map(([k, d]) => [k, d.status]));
    let seen = {};
    const settledAll = await waitFor(
      async () => {
        const now = await states();
        seen = { ok2: stateOf(now.ok2), other2: stateOf(now.other2) };
        return isDeepStrictEqual(seen, want) ? now : undefined;
      },
      90_000,
      'three deliveries on each endpoint to settle',
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen ${JSON.stringify(seen)}`);
    });
    expect(Date.parse(settledAll.ok2.get('read').created_at)).toBeGreaterThanOrEqual(Date.parse(since));
    expect(Date.parse(settledAll.ok2.get('delivered').created_at)).toBeGreaterThanOrEqual(Date.parse(since));
    expect(Date.parse(settledAll.other2.get('read').created_at)).toBeGreaterThanOrEqual(Date.parse(since));

    rx.script('/ok2', [{ status: 200 }]);
    const sentBefore = rx.received.length;
    expect((await call('POST', `/api/webhooks/endpoints/${ep.id}/replay`, { since, limit: 0 })).status).toBe(400);
    expect((await call('POST', `/api/webhooks/endpoints/${ep.id}/replay`, { since, limit: 1001 })).status).toBe(400);
    // limit 1: the one replayed must be the one failed delivery the filters leave (a restart of a delivered one is
    // refused anyway, so without the status filter the delivered one, being older, would use up the limit).
    const res = await call('POST', `/api/webhooks/endpoints/${ep.id}/replay`, { since, limit: 1 });
    expect(res.json).toEqual({ replayed: 1, more: false });
    const target = settledAll.ok2.get('read');
    const done = await waitFor(
      async () => {
        const d = (await call('GET', `/api/webhooks/deliveries/${target.id}`)).json;
        return d.status === 'delivered' ? d : undefined;
      },
      30_000,
      'the replayed delivery',
    );
    expect(done.attempts.at(-1)).toMatchObject({ round: 2, n: 1, outcome: 'success' });
    // Nothing else moved: the others are where they were, in their first round, and only the replay was sent.
    const after = await states();
    expect({ ok2: stateOf(after.ok2), other2: stateOf(after.other2) }).toEqual({ ...want, ok2: { ...want.ok2, read: 'delivered' } });
    for (const m of [after.ok2, after.other2])
      for (const [status, d] of m)
        if (d.id !== target.id) expect([status, d.attempts.every((a: any) => a.round === 1)]).toEqual([status, true]);
    const replayedTo = rx.received.slice(sentBefore);
    expect(replayedTo.map((r) => [r.path, r.headers['x-echocue-event-id']])).toEqual([['/ok2', target.event_id]]);
    expect(JSON.parse(replayedTo[0]!.body)).toMatchObject({
      type: 'message.status',
      data: { status: 'read', notification: { delivery_status: expect.any(String) } },
    });
  });

  test('a replay restarts at most `limit` deliveries per call and says when more remain', async () => {
    rx.script('/bounded', [{ status: 500 }]);
    const ep = (await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/bounded`, categories: ['template.status'] })).json;
    endpoints['bounded'] = ep.id;
    for (const f of ['template-status.approved.json', 'template-status.pending-deletion.json'])
      expect((await postFixture(s.system.url, fixture(f))).status).toBe(200);
    const failed = await waitFor(
      async () => {
        const d = await deliveriesOf('bounded', 'failed');
        return d.length === 2 ? d : undefined;
      },
      60_000,
      'two failed deliveries',
    );
    const since = new Date(Math.min(...failed.map((d) => Date.parse(d.created_at))) - 1000).toISOString();
    expect((await call('POST', `/api/webhooks/endpoints/${ep.id}/replay`, { since, limit: 1 })).json).toEqual({ replayed: 1, more: true });
    expect((await call('POST', `/api/webhooks/endpoints/${ep.id}/replay`, { since, limit: 1 })).json).toEqual({ replayed: 1, more: false });
  }, 90_000);

  test('SSRF: private, loopback (not allow-listed), link-local and metadata URLs are refused at registration', async () => {
    for (const [url, reason] of [
      ['https://10.0.0.8/hook', 'private'],
      ['https://127.0.0.2/hook', 'loopback'],
      ['https://169.254.169.254/latest/meta-data', 'metadata'],
      ['https://[::ffff:192.168.1.1]/hook', 'private'],
      ['https://100.64.0.1/hook', 'cgnat'],
      ['https://localhost/hook', 'hostname'],
      ['ftp://example.com/hook', 'scheme'],
    ] as const) {
      const res = await call('POST', '/api/webhooks/endpoints', { url });
      expect([url, res.status, res.json.error.code, res.json.error.details?.reason]).toEqual([url, 400, 'EC_URL_REFUSED', reason]);
    }
    const bad = await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/x`, categories: ['message.nope'] });
    expect([bad.status, bad.json.error.details.parameter]).toEqual([400, 'categories.0']);
  });

  test('SSRF again at delivery time: an endpoint whose address turned private is refused when delivering', async () => {
    rx.script('/moved', [{ status: 200 }]);
    const ep = (await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/moved`, categories: ['template.status'] })).json;
    endpoints['moved'] = ep.id;
    // As if its DNS now answered a private address (the store holds what registration vetted).
    const mongo = new MongoClient(s.env.config.mongo.uri);
    await mongo.connect();
    await mongo
      .db()
      .collection('ec_endpoint')
      .updateOne({ _id: ep.id as never }, { $set: { url: 'http://10.1.2.3/moved' } });
    await mongo.close();
    expect((await postFixture(s.system.url, fixture('template-status.approved.json'))).status).toBe(200);
    const d = await waitFor(
      async () => {
        const x = (await deliveriesOf('moved'))[0];
        return x && x.attempts.length > 0 && x.attempts[0].outcome === 'failure' ? x : undefined;
      },
      30_000,
      'the refused attempt',
    );
    expect(d.attempts[0].error).toMatch(/server-side request forgery/);
    expect(rx.at('/moved')).toHaveLength(0);
  });

  test("endpoints, deliveries and secrets are the key's own: another key sees 404", async () => {
    const acc = await s.api.call('POST', `${s.system.url}/api/admin/accounts`, { key: ADMIN, body: { name: 'Other' } });
    const other = (await s.api.call('POST', `${s.system.url}/api/admin/accounts/${acc.json.id}/keys`, { key: ADMIN })).json.key;
    const d = (await deliveriesOf('ok'))[0];
    for (const path of [
      `/api/webhooks/endpoints/${endpoints['ok']}`,
      `/api/webhooks/endpoints/${endpoints['ok']}/deliveries`,
      `/api/webhooks/deliveries/${d.id}`,
      `/api/webhooks/endpoints/${endpoints['ok']}/secret`,
    ]) {
      expect([path, (await s.api.call('GET', `${s.system.url}${path}`, { key: other })).status]).toEqual([path, 404]);
    }
    const stolen = await s.api.call('POST', `${s.system.url}/api/webhooks/endpoints/${endpoints['ok']}/secret/rotate`, { key: other });
    expect(stolen.status).toBe(404);
    expect(stolen.text).not.toContain('whsec_');
    expect((await s.api.call('GET', `${s.system.url}/api/webhooks/endpoints`, { key: other })).json.data).toEqual([]);
    const rotated = await call('POST', '/api/webhooks/signing-secret/rotate');
    expect(rotated.json.signing_secret).not.toBe(s.secret);
    expect((await call('GET', '/api/webhooks/signing-secret')).json.signing_secret).toBe(rotated.json.signing_secret);
    s.secret = rotated.json.signing_secret;
  });

  test("endpoints can be changed, re-enabled and deleted; a deleted endpoint's id is gone", async () => {
    const ep = (await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/spare` })).json;
    expect(ep.categories).toEqual(['message.inbound', 'message.status', 'template.status', 'template.quality', 'consent.event']);
    const changed = await call('POST', `/api/webhooks/endpoints/${ep.id}`, { categories: ['consent.event'] });
    expect(changed.json).toMatchObject({ id: ep.id, categories: ['consent.event'], url: `${rx.base}/spare` });
    expect((await call('POST', `/api/webhooks/endpoints/${ep.id}`, { url: 'https://192.168.0.10/x' })).json.error.code).toBe(
      'EC_URL_REFUSED',
    );
    expect((await call('POST', `/api/webhooks/endpoints/${ep.id}/enable`)).json.enabled).toBe(true);
    expect((await call('GET', '/api/webhooks/endpoints')).json.data.map((e: any) => e.id)).toContain(ep.id);
    expect((await call('DELETE', `/api/webhooks/endpoints/${ep.id}`)).json).toEqual({ id: ep.id, deleted: true });
    expect((await call('GET', `/api/webhooks/endpoints/${ep.id}`)).status).toBe(404);
  });

  test('a record on a delivery topic that is not an attempt (or a notification that is not JSON) is skipped, not retried forever', async () => {
    const events = testEvents(s.env.config);
    const producer = await events.createProducer();
    const prefix = s.env.config.kafka.topicPrefix;
    await producer.send(
      [
        { topic: `${prefix}echocue.delivery.attempt.v1`, key: 'x', value: Buffer.from('not json') },
        { topic: `${prefix}echocue.delivery.attempt.v1`, key: 'y', value: Buffer.from('{"delivery_id":1}') },
        { topic: `${prefix}echocue.notifications.v1`, key: WABA_A, value: Buffer.from('not json') },
      ],
      { timeoutMs: 10_000 },
    );
    await producer.disconnect();
    // Deliveries keep flowing behind them.
    rx.script('/after-poison', [{ status: 200 }]);
    const ep = (await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/after-poison`, categories: ['template.status'] })).json;
    endpoints['after-poison'] = ep.id;
    expect((await postFixture(s.system.url, fixture('template-status.pending-deletion.json'))).status).toBe(200);
    await waitFor(async () => (rx.at('/after-poison').length > 0 ? true : undefined), 30_000, 'a delivery after the poison records');
    // Both groups committed past every record of their topic, the bad ones included (nothing stuck behind them).
    try {
      for (const [group, topic] of [
        [`${prefix}echocue.delivery.worker`, `${prefix}echocue.delivery.attempt.v1`],
        [`${prefix}echocue.delivery.planner`, `${prefix}echocue.notifications.v1`],
      ] as const) {
        await waitFor(
          async () => {
            const high = (await events.admin.endOffsets([topic])).get(topic)!;
            const committed = (await events.admin.committedOffsets(group, [topic])).get(topic)!;
            return high.every((h, p) => Math.max(0, Number(committed[p] ?? -1n)) >= Number(h)) ? true : undefined;
          },
          30_000,
          `${group} to commit past every record of ${topic}`,
        );
      }
    } finally {
      await events.close();
    }
  });

  test('Standard Webhooks: the standardwebhooks library verifies a real delivery and refuses it replayed 6 minutes later or changed', async () => {
    const d = await settled('std', 'delivered');
    const r = rx.at('/std')[0]!;
    const secret = (await call('GET', `/api/webhooks/endpoints/${endpoints['std']}/secret`)).json;
    expect(secret).toEqual({ endpoint_id: endpoints['std'], secret: endpointSecrets['std'], old_secrets_expire_at: null });
    const wh = new Webhook(secret.secret);
    expect(wh.verify(r.body, r.headers as Record<string, string>)).toEqual(JSON.parse(r.body));
    expect(r.headers['webhook-id']).toBe(d.event_id);
    expect(r.headers['webhook-timestamp']).toBe(String(Math.floor(Date.parse(d.attempts[0].at) / 1000)));
    // The same bytes and headers sent again 6 minutes later (an attacker replaying a captured request): the
    // library's 5-minute tolerance refuses it. verify is synchronous, so nothing else runs under the moved clock.
    const realNow = Date.now;
    Date.now = () => realNow() + 6 * 60_000;
    try {
      expect(() => wh.verify(r.body, r.headers as Record<string, string>)).toThrow(/too old/);
    } finally {
      Date.now = realNow;
    }
    expect(() => wh.verify(r.body.replace('cleaning', 'whitening'), r.headers as Record<string, string>)).toThrow(/No matching signature/);
    expect(() =>
      wh.verify(r.body, { ...r.headers, 'webhook-timestamp': String(Number(r.headers['webhook-timestamp']) - 1) } as never),
    ).toThrow(/No matching signature/);
    expect(() => new Webhook(endpointSecrets['ok']!).verify(r.body, r.headers as Record<string, string>)).toThrow(/No matching signature/);
  });

  test('rotating an endpoint secret: with an overlap both secrets sign (two v1 signatures); with none only the new one', async () => {
    const old = endpointSecrets['std']!;
    const rotate = async (overlap: number) => {
      const res = await call('POST', `/api/webhooks/endpoints/${endpoints['std']}/secret/rotate`, { overlap_seconds: overlap });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      return res.json;
    };
    let wamid = 0;
    const nextDelivery = async () => {
      const before = rx.at('/std').length;
      const res = await postInboundText(s.system.url, {
        waba: WABA_A,
        from: '15550199001',
        wamid: `wamid.rotation-${wamid++}`,
        timestamp: Math.floor(Date.now() / 1000),
        text: 'rotation check',
      });
      expect(res.status).toBe(200);
      return waitFor(async () => rx.at('/std')[before], 30_000, 'the next delivery to /std');
    };
    const verifies = (secret: string, r: { body: string; headers: object }) => {
      try {
        new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
        return true;
      } catch {
        return false;
      }
    };

    const overlapping = await rotate(3600);
    expect(overlapping.secret).toMatch(/^whsec_/);
    expect(overlapping.secret).not.toBe(old);
    expect(Date.parse(overlapping.old_secrets_expire_at) - Date.now()).toBeGreaterThan(3500_000);
    expect((await call('GET', `/api/webhooks/endpoints/${endpoints['std']}/secret`)).json.secret).toBe(overlapping.secret);
    const during = await nextDelivery();
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect([verifies(overlapping.secret, during), verifies(old, during)]).toEqual([true, true]);

    const abrupt = await rotate(0);
    expect(abrupt.old_secrets_expire_at).toBeNull();
    const after = await nextDelivery();
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect([verifies(abrupt.secret, after), verifies(overlapping.secret, after), verifies(old, after)]).toEqual([true, false, false]);

    // Bad input: an overlap beyond 7 days or negative is refused, naming the field; nothing changed.
    for (const bad of [604_801, -1, 1.5, 'soon']) {
      const res = await call('POST', `/api/webhooks/endpoints/${endpoints['std']}/secret/rotate`, { overlap_seconds: bad });
      expect(res.status).toBe(400);
      expect(res.json.error.message).toMatch(/overlap_seconds/);
    }
    expect((await call('GET', `/api/webhooks/endpoints/${endpoints['std']}/secret`)).json.secret).toBe(abrupt.secret);
  });

  test('subscriptions: only the subscribed types, filtered, each in its subscribed payload version', { timeout: 90_000 }, async () => {
    const sub = async (name: string, subscriptions: unknown) => {
      rx.script(`/${name}`, [{ status: 200 }]);
      const res = await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/${name}`, subscriptions });
      expect([name, res.status]).toEqual([name, 201]);
      endpoints[name] = res.json.id;
      endpointSecrets[name] = res.json.signing_secret;
      return res.json;
    };
    const failedV2 = await sub('failed-v2', [{ type: 'message.status', version: 2, filter: { statuses: ['failed'] } }]);
    expect(failedV2.subscriptions).toEqual([{ type: 'message.status', version: 2, filter: { statuses: ['failed'] } }]);
    expect(failedV2.categories).toEqual(['message.status']);
    const allV1 = await sub('status-v1', [{ type: 'message.status', version: 1 }]);
    expect(allV1.subscriptions).toEqual([{ type: 'message.status', version: 1, filter: null }]);
    const latest = await sub('status-latest', [{ type: 'message.status' }]); // no version: the latest, kept from now on
    expect(latest.subscriptions[0].version).toBe(2);
    await sub('paused', [{ type: 'template.status', filter: { template_events: ['paused', 'DISABLED'] } }]);
    await sub('templates', [{ type: 'template.status' }]);
    await sub('our-phone', [{ type: 'message.inbound', filter: { phone_number_ids: ['112356789045671'] } }]);
    await sub('other-phone', [{ type: 'message.inbound', filter: { phone_number_ids: ['999999999999'] } }]);
    // The template fixtures come from a second WABA of the account.
    await s.api.call('POST', `${s.system.url}/api/admin/accounts/${s.accountId}/wabas`, {
      key: ADMIN,
      body: { waba_id: '120554298871346' },
    });

    for (const f of [
      'statuses.played.json',
      'statuses.failed-131026.json',
      'template-status.rejected-invalid-format.json',
      'template-status.paused.json',
      'template-status.disabled.json',
    ])
      expect([f, (await postFixture(s.system.url, fixture(f))).status]).toEqual([f, 200]);
    expect(
      (
        await postInboundText(s.system.url, {
          waba: WABA_A,
          from: '15550199001',
          wamid: 'wamid.subscriptions-1',
          timestamp: Math.floor(Date.now() / 1000),
          text: 'subscriptions',
        })
      ).status,
    ).toBe(200);

    // The unfiltered endpoints get everything: once they have, the filtered ones were planned too (same notifications).
    await waitFor(
      async () => (rx.at('/status-v1').length >= 2 && rx.at('/status-latest').length >= 2 ? true : undefined),
      30_000,
      'both statuses',
    );
    await waitFor(async () => (rx.at('/templates').length >= 3 ? true : undefined), 30_000, 'three template changes');
    await waitFor(async () => (rx.at('/our-phone').length >= 1 ? true : undefined), 30_000, 'the inbound message');
    const parse = (name: string) =>
      rx.at(`/${name}`).map((r) => {
        expect(new Webhook(endpointSecrets[name]!).verify(r.body, r.headers as Record<string, string>)).toBeTruthy();
        return JSON.parse(r.body);
      });
    const statusesV1 = parse('status-v1');
    expect(statusesV1.map((e) => e.data.status).sort()).toEqual(['failed', 'played']);
    for (const e of statusesV1) expect(envelopeSchema('message.status', 1).safeParse(e).success).toBe(true);
    expect(statusesV1.every((e) => !('version' in e) && 'notification' in e.data)).toBe(true);
    expect(parse('status-latest').every((e) => e.version === 2 && envelopeSchema('message.status', 2).safeParse(e).success)).toBe(true);
    const failed = parse('failed-v2');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      type: 'message.status',
      version: 2,
      data: { status: 'failed', message: { delivery_status: 'failed' } },
    });
    expect(envelopeSchema('message.status', 2).safeParse(failed[0]).success).toBe(true);
    expect(failed[0].data.message).not.toHaveProperty('status_history');
    // (Three templates: their events are ordered per template, not across them.)
    expect(
      parse('paused')
        .map((e) => e.data.event)
        .sort(),
    ).toEqual(['DISABLED', 'PAUSED']);
    expect(
      parse('templates')
        .map((e) => e.data.event)
        .sort(),
    ).toEqual(['DISABLED', 'PAUSED', 'REJECTED']);
    expect(parse('our-phone').map((e) => e.data.message.text)).toEqual(['subscriptions']);
    expect(rx.at('/other-phone')).toHaveLength(0);
    expect(await deliveriesOf('other-phone')).toEqual([]);
    // The deliveries list filters by event type and creation time.
    const list = async (name: string, q: string) =>
      (await call('GET', `/api/webhooks/endpoints/${endpoints[name]}/deliveries?${q}`)).json.data as any[];
    expect((await list('templates', 'type=template.status')).length).toBe(3);
    expect(await list('templates', 'type=message.status')).toEqual([]);
    const created = (await list('templates', '')).map((d) => Date.parse(d.created_at)).sort((a, b) => a - b);
    const after = new Date(created[0]! + 1).toISOString();
    expect((await list('templates', `created_after=${encodeURIComponent(after)}`)).length).toBe(
      created.filter((t) => t >= created[0]! + 1).length,
    );
    expect(await list('templates', `created_before=${encodeURIComponent(new Date(created[0]!).toISOString())}`)).toEqual([]);
    const bad = await call('GET', `/api/webhooks/endpoints/${endpoints['templates']}/deliveries?created_after=yesterday`);
    expect([bad.status, bad.json.error.details.parameter]).toEqual([400, 'created_after']);

    // The OpenAPI document lists every (type, version) under webhooks, with the envelope each one sends.
    const doc = (await fetch(`${s.system.url}/api/openapi.json`).then((r) => r.json())) as any;
    expect(Object.keys(doc.webhooks)).toEqual(expect.arrayContaining(['message.status.v1', 'message.status.v2', 'consent.event.v1']));
    expect(doc.webhooks['message.status.v2'].post.requestBody.content['application/json'].schema.$ref).toMatch(
      /WebhookEvent_message_status_v2/,
    );
  });

  test('subscriptions refused with a 400 naming the field: a type twice, a version that does not exist, a filter on the wrong type', async () => {
    const cases: [unknown, string][] = [
      [{ subscriptions: [{ type: 'message.status' }, { type: 'message.status', version: 1 }] }, 'subscriptions.1.type'],
      [{ subscriptions: [{ type: 'message.status', version: 9 }] }, 'subscriptions.0.version'],
      [{ subscriptions: [{ type: 'template.status', filter: { statuses: ['failed'] } }] }, 'subscriptions.0.filter.statuses'],
      [{ subscriptions: [{ type: 'message.status', filter: { colour: 'red' } }] }, 'subscriptions.0.filter.colour'],
      [{ subscriptions: [{ type: 'message.status', filter: { statuses: ['lost'] } }] }, 'subscriptions.0.filter.statuses.0'],
      [{ subscriptions: [] }, 'subscriptions'],
      [{ categories: ['message.status'], subscriptions: [{ type: 'message.status' }] }, 'subscriptions'],
    ];
    for (const [extra, parameter] of cases) {
      const res = await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/refused`, ...(extra as object) });
      expect([parameter, res.status, res.json.error.details?.parameter]).toEqual([parameter, 400, parameter]);
    }
    const change = await call('POST', `/api/webhooks/endpoints/${endpoints['status-v1']}`, {
      subscriptions: [{ type: 'message.status', version: 3 }],
    });
    expect([change.status, change.json.error.message]).toEqual([400, 'message.status has no version 3; its latest is 2']);
    expect((await call('GET', `/api/webhooks/endpoints/${endpoints['status-v1']}`)).json.subscriptions[0].version).toBe(1); // unchanged
    expect((await call('GET', '/api/webhooks/endpoints')).json.data.some((e: any) => e.url.endsWith('/refused'))).toBe(false);
  });

  test('a test event: a signed example in the subscribed version, marked test, delivered and listed like any other', async () => {
    const res = await call('POST', `/api/webhooks/endpoints/${endpoints['failed-v2']}/test`, { type: 'message.status' });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ status: 'pending', category: 'message.status', payload: { test: true, version: 2 } });
    const d = await deliveryIn(call, res.json.id, 'delivered', 'the test event to be delivered');
    const r = rx.at('/failed-v2').find((x) => x.headers['webhook-id'] === d.event_id)!;
    const envelope = new Webhook(endpointSecrets['failed-v2']!).verify(r.body, r.headers as Record<string, string>) as any;
    expect(envelope).toMatchObject({ id: d.event_id, type: 'message.status', version: 2, test: true });
    expect(envelopeSchema('message.status', 2).safeParse(envelope).success).toBe(true);
    // Any type, in the latest version when the endpoint does not subscribe to it; or the version asked.
    const other = await call('POST', `/api/webhooks/endpoints/${endpoints['paused']}/test`, { type: 'consent.event' });
    expect(other.json.payload).toMatchObject({ type: 'consent.event', test: true, data: { value: 'stop' } });
    const v1 = await call('POST', `/api/webhooks/endpoints/${endpoints['failed-v2']}/test`, { type: 'message.status', version: 1 });
    expect(v1.json.payload).not.toHaveProperty('version');
    expect(envelopeSchema('message.status', 1).safeParse(v1.json.payload).success).toBe(true);
    const listed = await waitFor(
      async () => (await deliveriesOf('failed-v2')).find((x) => x.id === res.json.id),
      10_000,
      'the test delivery in the list',
    );
    expect(listed.payload.test).toBe(true);
    // Bad input: an unknown type, a version that does not exist, an endpoint of another key or disabled.
    for (const [body, parameter] of [
      [{ type: 'message.nope' }, 'type'],
      [{ type: 'message.status', version: 3 }, 'version'],
      [{}, 'type'],
    ] as const) {
      const bad = await call('POST', `/api/webhooks/endpoints/${endpoints['failed-v2']}/test`, body);
      expect([parameter, bad.status, bad.json.error.details?.parameter]).toEqual([parameter, 400, parameter]);
    }
    expect((await call('POST', '/api/webhooks/endpoints/ep_nope/test', { type: 'message.status' })).status).toBe(404);
    const gone = await call('POST', `/api/webhooks/endpoints/${endpoints['disable']}/test`, { type: 'message.status' });
    expect([gone.status, gone.json.error.message]).toEqual([400, expect.stringMatching(/is disabled .*enable it first/)]);
  });

  test('every webhook operation was exercised and answered as documented', () => {
    const missing = s.api.operations().filter((o) => o.tag === 'webhooks' && !s.api.seen.get(o.operationId)?.size);
    expect(missing.map((o) => o.operationId)).toEqual([]);
  });
});

describe('outbound webhooks > an endpoint failing continuously is disabled, visibly, and can be re-enabled', () => {
  let s: Setup;
  let rx: Receiver;
  beforeAll(async () => {
    rx = await startReceiver();
    s = await setUp({ ENDPOINT_DISABLE_AFTER_SECONDS: '1' });
  }, 60_000);
  afterAll(() => tearDown(s, rx));

  test('disabled after failing for the configured period; re-enabled, it receives again', { timeout: 90_000 }, async () => {
    rx.script('/dead', [{ status: 502 }]);
    const call = caller(s);
    const ep = (await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/dead`, categories: ['message.inbound'] })).json;
    expect((await postFixture(s.system.url, fixture('messages.text.json'))).status).toBe(200);
    const disabled = await disabledEndpoint(call, ep.id);
    expect(disabled.disabled_reason).toMatch(/every attempt failed since/);
    const d = (await call('GET', `/api/webhooks/endpoints/${ep.id}/deliveries`)).json.data[0];
    await deliveryIn(call, d.id, 'failed', 'the delivery to fail');
    expect((await call('GET', `/api/webhooks/deliveries/${d.id}`)).json.failure_reason).toBe('endpoint_disabled');
    const sent = rx.at('/dead').length;
    // While disabled nothing new is planned for it.
    expect((await postFixture(s.system.url, fixture('messages.image.json'))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3000));
    expect(rx.at('/dead')).toHaveLength(sent);

    rx.script('/dead', [{ status: 200 }]);
    const enabled = await call('POST', `/api/webhooks/endpoints/${ep.id}/enable`);
    expect(enabled.json).toMatchObject({ enabled: true, disabled_at: null, failing_since: null });
    expect((await call('POST', `/api/webhooks/deliveries/${d.id}/replay`)).status).toBe(200);
    await deliveryIn(call, d.id, 'delivered', 'the replay');
    // The notice says it was disabled, and why (no failing notice: ENDPOINT_FAILING_NOTICE_SECONDS is 300 here).
    const notices = (await call('GET', `/api/webhooks/notices?endpoint_id=${ep.id}`)).json.data;
    expect(notices.map((n: any) => [n.kind, n.endpoint_id])).toEqual([['disabled', ep.id]]);
    expect(notices[0].detail).toBe(disabled.disabled_reason);
  });
});

describe('outbound webhooks > 410 Gone disables at once; ended deliveries expire; per-endpoint rate limit and circuit breaker', () => {
  let s: Setup;
  let rx: Receiver;
  let call: Call;
  let n = 0;
  const postMessages = async (count: number) => {
    for (let i = 0; i < count; i++) {
      n++;
      const res = await postInboundText(s.system.url, {
        waba: WABA_A,
        from: '15550199001',
        wamid: `wamid.isolation-${n}`,
        timestamp: 1_781_100_000 + n,
        text: `isolation ${n}`,
      });
      expect(res.status).toBe(200);
    }
  };
  const deliveries = async (id: string) => (await call('GET', `/api/webhooks/endpoints/${id}/deliveries?limit=100`)).json.data as any[];
  beforeAll(async () => {
    rx = await startReceiver();
    // The default disable period (days): only the 410 can disable it within this test. A retention sweep each
    // second. A breaker cooldown of 1000 s, scaled like every wait here (DELIVERY_DELAY_SCALE 0.001): 1 s.
    s = await setUp({ DELIVERY_RETENTION_SWEEP_SECONDS: '1', DELIVERY_BREAKER_FAILURES: '3', DELIVERY_BREAKER_COOLDOWN_MS: '1000000' });
    call = caller(s);
  }, 60_000);
  afterAll(() => tearDown(s, rx));

  test(
    'one attempt, no retry, the endpoint disabled naming the 410, the delivery failed as endpoint_disabled',
    { timeout: 90_000 },
    async () => {
      rx.script('/gone', [{ status: 410, body: 'this hook was removed' }]);
      const call = caller(s);
      const ep = (await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/gone`, categories: ['message.inbound'] })).json;
      expect((await postFixture(s.system.url, fixture('messages.text.json'))).status).toBe(200);
      const disabled = await disabledEndpoint(call, ep.id);
      expect(disabled.disabled_reason).toBe('the endpoint answered 410 Gone');
      const d = (await call('GET', `/api/webhooks/endpoints/${ep.id}/deliveries`)).json.data[0];
      const failed = await deliveryIn(call, d.id, 'failed', 'the delivery to fail');
      expect(failed.failure_reason).toBe('endpoint_disabled');
      expect(failed.attempts).toHaveLength(1);
      expect(failed.attempts[0]).toMatchObject({ status_code: 410 });
      // No retry tier sends it again (the tiers are scaled down to milliseconds in these tests).
      await new Promise((r) => setTimeout(r, 3000));
      expect(rx.at('/gone')).toHaveLength(1);
    },
  );

  test(
    'the retention sweep deletes ended deliveries unchanged for DELIVERY_RETENTION_DAYS (30), never pending ones',
    { timeout: 60_000 },
    async () => {
      rx.script('/kept', [{ status: 200 }]);
      const call = caller(s);
      const ep = (await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/kept`, categories: ['message.inbound'] })).json;
      const post = (n: number) =>
        postInboundText(s.system.url, {
          waba: WABA_A,
          from: '15550199001',
          wamid: `wamid.retention-${n}`,
          timestamp: 1_781_000_000 + n,
          text: `r${n}`,
        });
      for (const n of [1, 2, 3]) expect((await post(n)).status).toBe(200);
      const list = await waitFor(
        async () => {
          const data = (await call('GET', `/api/webhooks/endpoints/${ep.id}/deliveries`)).json.data as any[];
          return data.length === 3 && data.every((d) => d.status === 'delivered') ? data : undefined;
        },
        30_000,
        'three delivered deliveries',
      );
      const byText = new Map(list.map((d) => [d.payload.data.message.text as string, d.id as string]));
      const day = 86_400_000;
      const mongo = new MongoClient(s.env.config.mongo.uri);
      await mongo.connect();
      try {
        const deliveries = mongo.db().collection('ec_delivery');
        // r1 ended 31 days ago: past retention. r2 ended 29 days ago: within it. r3 "pending" for 40 days: never swept.
        await deliveries.updateOne({ _id: byText.get('r1') as never }, { $set: { changed_at: new Date(Date.now() - 31 * day) } });
        await deliveries.updateOne({ _id: byText.get('r2') as never }, { $set: { changed_at: new Date(Date.now() - 29 * day) } });
        await deliveries.updateOne(
          { _id: byText.get('r3') as never },
          { $set: { status: 'pending', changed_at: new Date(Date.now() - 40 * day) } },
        );
      } finally {
        await mongo.close();
      }
      const pruned = async () =>
        Number(
          /^echocue_delivery_deliveries_pruned_total (\d+)$/m.exec(await (await fetch(`${s.system.metricsUrl}/metrics`)).text())?.[1] ?? 0,
        );
      await waitFor(
        async () => ((await call('GET', `/api/webhooks/deliveries/${byText.get('r1')}`)).status === 404 ? true : undefined),
        30_000,
        'r1 to be deleted',
      );
      expect(await pruned()).toBe(1);
      expect((await call('GET', `/api/webhooks/deliveries/${byText.get('r2')}`)).status).toBe(200);
      expect((await call('GET', `/api/webhooks/deliveries/${byText.get('r3')}`)).json.status).toBe('pending');
    },
  );
  test(
    'rate_limit_per_second: 2: eight deliveries take at least 3 s, each sent once, none failed for it',
    { timeout: 60_000 },
    async () => {
      rx.script('/limited', [{ status: 200 }]);
      const ep = (
        await call('POST', '/api/webhooks/endpoints', {
          url: `${rx.base}/limited`,
          categories: ['message.inbound'],
          rate_limit_per_second: 2,
        })
      ).json;
      expect(ep.rate_limit_per_second).toBe(2);
      for (const bad of [0, 1001, 1.5, 'fast']) {
        const res = await call('POST', `/api/webhooks/endpoints/${ep.id}`, { rate_limit_per_second: bad });
        expect([bad, res.status, res.json.error.details.parameter]).toEqual([bad, 400, 'rate_limit_per_second']);
      }
      await postMessages(8);
      const done = await waitFor(
        async () => {
          const list = await deliveries(ep.id);
          return list.length === 8 && list.every((d) => d.status === 'delivered') ? list : undefined;
        },
        45_000,
        'eight deliveries',
      );
      expect(done.map((d) => d.attempt_count)).toEqual(Array(8).fill(1)); // waiting for the limit is not an attempt
      expect(rx.at('/limited')).toHaveLength(8);
      // Four seconds' worth at two per second: the first and the last attempt are at least three windows apart.
      const starts = done.map((d) => Date.parse(d.attempts[0].at)).sort((a, b) => a - b);
      expect(Math.floor(starts.at(-1)! / 1000) - Math.floor(starts[0]! / 1000)).toBeGreaterThanOrEqual(3);
      const metrics = await (await fetch(`${s.system.metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(/echocue_delivery_attempts_total\{outcome="deferred_rate_limited",tier="\d"\} [1-9]/);
      // Lifted (null): the next ones go at once.
      expect(
        (await call('POST', `/api/webhooks/endpoints/${ep.id}`, { rate_limit_per_second: null })).json.rate_limit_per_second,
      ).toBeNull();
      expect((await call('DELETE', `/api/webhooks/endpoints/${ep.id}`)).status).toBe(200);
    },
  );

  test(
    'an endpoint that times out opens its circuit: its attempts wait unsent, another endpoint gets everything, and it recovers',
    { timeout: 90_000 },
    async () => {
      rx.script('/slow', ['hang']);
      rx.script('/fast', [{ status: 200 }]);
      const slow = (await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/slow`, categories: ['message.inbound'] })).json;
      const fast = (await call('POST', '/api/webhooks/endpoints', { url: `${rx.base}/fast`, categories: ['message.inbound'] })).json;
      await postMessages(12);
      await waitFor(
        async () => ((await deliveries(fast.id)).filter((d) => d.status === 'delivered').length === 12 ? true : undefined),
        30_000,
        'fast',
      );
      // Five seconds on: without the breaker the 30 ms, 120 ms and 600 ms retries (scaled) would each have timed out
      // against it by now, at least 48 requests; with it, the first ones and about one probe per second.
      await new Promise((r) => setTimeout(r, 5000));
      expect(rx.at('/slow').length).toBeLessThan(30);
      const pending = await deliveries(slow.id);
      expect(pending).toHaveLength(12);
      expect(pending.every((d) => d.status === 'pending' && d.attempt_count <= 3)).toBe(true);
      expect((await deliveries(fast.id)).every((d) => d.attempt_count === 1)).toBe(true);

      rx.script('/slow', [{ status: 200 }]);
      const recovered = await waitFor(
        async () => {
          const list = await deliveries(slow.id);
          return list.every((d) => d.status === 'delivered') ? list : undefined;
        },
        60_000,
        'the slow endpoint to recover',
      );
      expect(recovered).toHaveLength(12);
      const metrics = await (await fetch(`${s.system.metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(/echocue_delivery_attempts_total\{outcome="deferred_circuit_open",tier="\d"\} [1-9]/);
    },
  );
});
