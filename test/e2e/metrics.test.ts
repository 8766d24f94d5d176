// /metrics under load (issue 17): one process with every role, real signed Meta bodies, REST calls, outbound
// endpoints on a loopback receiver (one failing once, one hanging once, one failing until it is disabled), an API
// key past its budget, a record no actor can decode and a notification planned twice. Each family the issue names
// is asserted on the exposition text of two scrapes: present, and its value moved. No timing assertions: where a
// value takes time to appear, the scrape is polled until it does.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, ROLES, type RunningSystem } from '../../src/cli/system.ts';
import { topicNames } from '../../src/events/topics.ts';
import { fixture, testEnv, waitFor, type TestEnv } from '../helpers/env.ts';
import { postFixture, postWebhook } from '../helpers/http.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { readTopic, withEvents } from '../../harness/kafka.ts';

const ADMIN = 'admin-token-for-metrics-tests';
const WABA = '104719385562013';
const WA_ID = '15550199001'; // the fixtures' customer
const RATE_LIMIT = 8;

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The exposition text's samples (prometheus text format 0.0.4: `name{a="b",...} value`). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

type Scrape = { text: string; samples: Sample[] };
const matching = (s: Scrape, name: string, labels: Record<string, string> = {}) =>
  s.samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
/** The sum of a family's samples with these labels (0 when there is none). */
const value = (s: Scrape, name: string, labels: Record<string, string> = {}) => matching(s, name, labels).reduce((a, x) => a + x.value, 0);

describe('metrics > every family of issue 17 is exposed and moves under load', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let rx: Receiver;
  let api: OpenApiChecker;
  let key: string;
  let floodKey: string;
  const scrape = async (): Promise<Scrape> => {
    const res = await fetch(`${system.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    return { text, samples: parse(text) };
  };
  /** Scrapes until `ok` holds for a scrape (then returns it). */
  const scrapeUntil = (what: string, ok: (s: Scrape) => boolean, timeoutMs = 60_000) =>
    waitFor(
      async () => {
        const s = await scrape();
        return ok(s) ? s : undefined;
      },
      timeoutMs,
      what,
    );

  beforeAll(async () => {
    rx = await startReceiver();
    env = testEnv({
      ADMIN_TOKEN: ADMIN,
      DELIVERY_DELAY_SCALE: '0.001',
      DELIVERY_ALLOW_CIDRS: '127.0.0.1/32',
      // The hanging endpoint holds its worker partition this long: the window in which its lag is seen.
      DELIVERY_TIMEOUT_MS: '6000',
      // Longer than the hang (an attempt's outcome is stored after its whole batch), shorter than the 30 s -> 6 h
      // chain at 1/1000 (about 26 s): only the endpoint failing every attempt is disabled, on its last tier.
      ENDPOINT_DISABLE_AFTER_SECONDS: '20',
      API_RATE_LIMIT: String(RATE_LIMIT),
      API_RATE_WINDOW_SECONDS: '3600',
    });
    system = await startSystem({ config: env.config, roles: [...ROLES], log: env.log });
    api = await openApiChecker(system.url);
    const acc = await api.call('POST', `${system.url}/api/admin/accounts`, { key: ADMIN, body: { name: 'Metrics clinic' } });
    await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/wabas`, { key: ADMIN, body: { waba_id: WABA } });
    key = (await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/keys`, { key: ADMIN })).json.key;
    floodKey = (await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/keys`, { key: ADMIN })).json.key;
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    await rx?.close();
    await env?.cleanup();
  });

  test(
    'webhooks, events, lag, batches, store, dead letters, deliveries, disablements, REST latency, rate limits',
    { timeout: 240_000 },
    async () => {
      const prefix = env.config.kafka.topicPrefix;
      const groups = {
        actors: `${prefix}echocue.actors`,
        planner: `${prefix}echocue.delivery.planner`,
        worker: `${prefix}echocue.delivery.worker`,
      };
      const before = await scrape();

      // Outbound endpoints (3 of the key's RATE_LIMIT requests): failing once, hanging once, failing for good.
      rx.script('/flaky', [{ status: 500 }, { status: 200 }]);
      rx.script('/hang', ['hang', { status: 200 }]);
      rx.script('/dead', [{ status: 502 }]);
      for (const name of ['flaky', 'hang', 'dead']) {
        const res = await api.call('POST', `${system.url}/api/webhooks/endpoints`, {
          key,
          body: { url: `${rx.base}/${name}`, categories: ['message.inbound'] },
        });
        expect(res.status).toBe(201);
      }

      // Meta's webhooks: accepted ones and one with a bad signature.
      for (const f of ['messages.text.json', 'messages.image.json', 'statuses.delivered.json', 'template-status.approved.json'])
        expect((await postFixture(system.url, fixture(f))).status).toBe(200);
      expect(
        (await postWebhook(system.url, fixture('messages.text.json').body, { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` })).status,
      ).toBe(401);

      // While the hanging endpoint holds its attempt, its tier-0 record is not committed: the worker group lags.
      await waitFor(async () => (rx.pending().some((r) => r.path === '/hang') ? true : undefined), 60_000, 'the hanging attempt');
      const lagging = await scrapeUntil(
        'the worker group to lag',
        (s) => value(s, 'echocue_kafka_consumer_lag', { group: groups.worker }) >= 1,
        5_000,
      );
      expect(
        matching(lagging, 'echocue_kafka_consumer_lag', { group: groups.worker }).some(
          (x) => x.labels['topic'] === topicNames(prefix).deliveryTiers[0] && x.value >= 1,
        ),
      ).toBe(true);

      // A record no actor can decode (dead-lettered), and a notification written twice (planned again: the store
      // refuses the duplicate deliveries, which the store error counter shows).
      const topics = topicNames(prefix);
      const note = await waitFor(async () =>
        (await readTopic(env.config, topics.notifications)).find((r) => r.headers['category'] === 'message.inbound'),
      );
      await withEvents(env.config, async (events) => {
        const producer = await events.createProducer();
        await producer.send(
          [
            { topic: topics.events['message.inbound'], key: WABA, value: Buffer.from('not avro'), headers: { event_id: 'evt_garbage' } },
            { topic: note.topic, key: note.key ?? WABA, value: note.value, headers: note.headers },
          ],
          { timeoutMs: 10_000 },
        );
        await producer.disconnect();
      });

      // REST: reads by route (the key's last RATE_LIMIT budget), one with a phone number in its path, then a key
      // past its budget.
      expect((await api.call('GET', `${system.url}/api/thread/list`, { key })).status).toBe(200);
      expect([200, 404]).toContain((await api.call('GET', `${system.url}/api/contact/${WA_ID}`, { key })).status);
      const flood = await Promise.all(
        Array.from({ length: RATE_LIMIT + 3 }, () =>
          fetch(`${system.url}/api/thread/list`, { headers: { authorization: `Bearer ${floodKey}` } }),
        ),
      );
      expect(flood.filter((r) => r.status === 429).length).toBe(3);

      const after = await scrapeUntil(
        'deliveries to settle: retries delivered on tiers 1 and 2, the dead endpoint disabled, the dead letter and the duplicate counted',
        (s) =>
          // flaky's retry on tier 1 (30 s); hang's on tier 2, as a retry after a timeout waits at least 60 s.
          value(s, 'echocue_delivery_attempts_total', { outcome: 'success', tier: '1' }) >= 1 &&
          value(s, 'echocue_delivery_attempts_total', { outcome: 'success', tier: '2' }) >= 1 &&
          value(s, 'echocue_delivery_endpoints_disabled_total') >= 1 &&
          value(s, 'echocue_actor_events_dead_lettered_total', { code: 'EC_EVENT_DECODING' }) >= 1 &&
          value(s, 'echocue_store_call_errors_total', { collection: 'ec_delivery', operation: 'insert', code: '11000' }) >= 1,
        90_000,
      );
      const moved = (name: string, labels: Record<string, string> = {}) => {
        expect(after.text, `${name} is exposed`).toMatch(new RegExp(`^# TYPE ${name.replace(/_(count|sum|bucket)$/, '')} `, 'm'));
        expect(value(after, name, labels), `${name} ${JSON.stringify(labels)} moved`).toBeGreaterThan(value(before, name, labels));
      };

      // Webhook requests by outcome, events produced per type.
      moved('echocue_ingest_webhook_requests_total', { status: '200' });
      moved('echocue_ingest_webhook_requests_total', { status: '401' });
      moved('echocue_ingest_events_produced_total', { event_type: 'message.inbound' });
      moved('echocue_ingest_events_produced_total', { event_type: 'message.status' });
      // Consumer lag per partition and group: every group of the process, each partition of what it reads; the
      // worker's lag was seen above; the committed offsets moved.
      for (const [group, read] of [
        [groups.actors, topics.events['message.inbound']],
        [groups.planner, topics.notifications],
        [groups.worker, topics.deliveryTiers[1]!],
      ] as const) {
        const parts = matching(after, 'echocue_kafka_consumer_lag', { group, topic: read }).map((x) => x.labels['partition']);
        expect(parts.sort(), `lag of ${group} on ${read}`).toEqual(['0', '1', '2']);
        moved('echocue_kafka_consumer_committed_offset', { group, topic: read });
      }
      // Batch apply time.
      moved('echocue_actor_batch_apply_seconds_count', { event_type: 'message.inbound', outcome: 'ok' });
      moved('echocue_actor_batch_apply_seconds_sum', { event_type: 'message.inbound', outcome: 'ok' });
      // Store call latency and errors, by collection and command.
      moved('echocue_store_call_seconds_count', { collection: 'ec_message', operation: 'insert' });
      moved('echocue_store_call_seconds_count', { collection: 'ec_delivery', operation: 'update' });
      moved('echocue_store_call_seconds_count', { collection: 'ec_endpoint', operation: 'find' });
      moved('echocue_store_call_errors_total', { collection: 'ec_delivery', operation: 'insert', code: '11000' });
      // Dead-lettered events.
      moved('echocue_actor_events_dead_lettered_total', { code: 'EC_EVENT_DECODING' });
      // Deliveries by outcome and tier: the first attempts failed (500, timeout, 502), the retries delivered.
      moved('echocue_delivery_attempts_total', { outcome: 'http_status', tier: '0' });
      moved('echocue_delivery_attempts_total', { outcome: 'timeout', tier: '0' });
      moved('echocue_delivery_attempts_total', { outcome: 'success', tier: '1' });
      moved('echocue_delivery_attempts_total', { outcome: 'success', tier: '2' });
      moved('echocue_delivery_attempts_total', { outcome: 'http_status', tier: '3' });
      // Endpoint disablements.
      moved('echocue_delivery_endpoints_disabled_total');
      // REST latency by route: the route pattern, never the path (the wa_id is in no label).
      moved('echocue_api_request_duration_seconds_count', { method: 'GET', route: '/api/thread/list', status: '200' });
      moved('echocue_api_request_duration_seconds_count', { method: 'POST', route: '/api/webhooks/endpoints', status: '201' });
      moved('echocue_api_request_duration_seconds_count', { method: 'GET', route: '/api/contact/:id' });
      moved('echocue_api_request_duration_seconds_count', { method: 'GET', route: '/api/thread/list', status: '429' });
      expect(after.text).not.toContain(WA_ID);
      // Rate-limit refusals.
      moved('echocue_api_rate_limited_total');
      expect(value(after, 'echocue_api_rate_limited_total') - value(before, 'echocue_api_rate_limited_total')).toBe(3);
    },
  );
});
