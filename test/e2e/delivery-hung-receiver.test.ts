// A receiver that hangs longer than the delivery group's session timeout, with a real broker: two worker members,
// one partition per topic (so every first attempt sits on the partition of one member and the other is free to take
// it over), a 6 s session and a 15 s DELIVERY_TIMEOUT_MS. The member sending to the hung receiver must keep its
// membership (heartbeats during the batch): had it been dropped, the other member would get the partition, find
// the attempts still in flight and send them a second time. Meanwhile the healthy endpoint's deliveries on the same
// partition go out while the hung ones are still hanging.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createMetrics } from '../../src/core/metrics.ts';
import { createSecretBox } from '../../src/core/secret-box.ts';
import { startPlanner } from '../../src/delivery/planner.ts';
import { createSender, type HttpSender } from '../../src/delivery/send.ts';
import { startWorker } from '../../src/delivery/worker.ts';
import { type EventProducer, type RunningConsumer } from '../../src/events/port.ts';
import { testEvents } from '../../harness/kafka.ts';
import { topicNames } from '../../src/events/topics.ts';
import { createAccountStore } from '../../src/store/accounts.ts';
import { createWebhookStore } from '../../src/store/webhooks.ts';
import { createEndpointHealthStore } from '../../src/store/endpoint-health.ts';
import { createEndpointRates } from '../../src/store/endpoint-rates.ts';
import { testEnv, waitFor, type TestEnv } from '../helpers/env.ts';
import { postInboundText } from '../helpers/http.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';
import { startReceiver, type Receiver, type Received } from '../helpers/receiver.ts';

const ADMIN = 'admin-token-for-hung-receiver-tests';
const WABA = '104719385562013';
/** Deliveries per endpoint: more hung ones than the old 16 keys at once, fewer than the 64 now. */
const EVENTS = 40;
const SESSION_TIMEOUT_MS = 6_000; // the broker's group.min.session.timeout.ms default
const HEARTBEAT_INTERVAL_MS = 1_000;
const overrides = {
  ADMIN_TOKEN: ADMIN,
  DELIVERY_DELAY_SCALE: '0.001',
  DELIVERY_ALLOW_CIDRS: '127.0.0.1/32',
  DELIVERY_TIMEOUT_MS: '15000', // well past the session timeout: a batch with a hung attempt outlives the session
  KAFKA_PARTITIONS: '1',
};

const attemptOf = (r: Received) => `${String(r.headers['x-echocue-event-id'])}#${String(r.headers['x-echocue-attempt'])}`;

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of items) out.set(key(t), (out.get(key(t)) ?? 0) + 1);
  return out;
}

describe('outbound webhooks > a receiver that hangs past the session timeout', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let api: OpenApiChecker;
  let rx: Receiver;
  let mongo: MongoClient;
  let producer: EventProducer;
  let sender: HttpSender;
  const consumers: RunningConsumer[] = [];
  let key = '';
  const endpoint: Record<'hang' | 'ok', string> = { hang: '', ok: '' };

  beforeAll(async () => {
    env = testEnv(overrides);
    expect(env.config.delivery.timeoutMs).toBeGreaterThan(SESSION_TIMEOUT_MS);
    rx = await startReceiver();
    rx.script('/hang', ['hang', { status: 200 }], { perEvent: true }); // each event: the first attempt hangs, the retry answers
    rx.script('/ok', [{ status: 200 }]);
    // Delivery is wired below, not by startSystem, so that the workers get the short session.
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log: env.log });
    api = await openApiChecker(system.url);
    const acc = await api.call('POST', `${system.url}/api/admin/accounts`, { key: ADMIN, body: { name: 'Hung receiver' } });
    await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/wabas`, { key: ADMIN, body: { waba_id: WABA } });
    key = (await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/keys`, { key: ADMIN })).json.key;
    for (const name of ['hang', 'ok'] as const) {
      endpoint[name] = (
        await api.call('POST', `${system.url}/api/webhooks/endpoints`, {
          key,
          body: { url: `${rx.base}/${name}`, categories: ['message.inbound'] },
        })
      ).json.id;
    }
    mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
  }, 120_000);

  afterAll(async () => {
    for (const c of consumers.reverse()) await c.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await sender?.close().catch(() => undefined);
    await system?.stop();
    await rx?.close();
    await mongo?.close();
    await env?.cleanup();
  });

  test(
    'each hung attempt reaches the receiver once (no rebalance resends it); the healthy endpoint is not held up',
    { timeout: 180_000 },
    async () => {
      const { config, log } = env;
      const topics = topicNames(config.kafka.topicPrefix);
      const db = mongo.db();
      const box = createSecretBox(config.secrets.masterKeys);
      const webhooks = createWebhookStore(db, box);
      const accounts = createAccountStore(db, box);
      const events = testEvents(config, 'hung-receiver-test');
      producer = await events.createProducer();
      sender = createSender({ timeoutMs: config.delivery.timeoutMs, allow: config.delivery.allowCidrs });
      try {
        // 1. Every notification is on its topic before anything plans them, so their attempts are queued in one go.
        for (let i = 0; i < EVENTS; i++) {
          const res = await postInboundText(system.url, {
            waba: WABA,
            from: `1555500${String(i).padStart(4, '0')}`,
            wamid: `wamid.hung.${i}`,
            timestamp: 1_781_700_000 + i,
            text: `m${i}`,
          });
          expect(res.status).toBe(200);
        }
        await waitFor(
          async () => {
            const n = (await events.admin.endOffsets([topics.notifications])).get(topics.notifications)!.reduce((a, o) => a + Number(o), 0);
            return n >= EVENTS ? true : undefined;
          },
          60_000,
          `${EVENTS} notifications`,
        );

        // 2. Two worker members, settled in one group before any attempt exists (no rebalance of their own making later).
        const groupId = `${config.kafka.topicPrefix}echocue.delivery.worker`;
        for (let i = 0; i < 2; i++) {
          consumers.push(
            await startWorker({
              events,
              groupId,
              topics,
              webhooks,
              accounts,
              sender,
              producer,
              clock: systemClock,
              metrics: createMetrics(),
              delayScale: config.delivery.delayScale,
              disableAfterMs: config.delivery.disableAfterMs,
              failingNoticeAfterMs: config.delivery.failingNoticeAfterMs,
              health: createEndpointHealthStore(db),
              rates: createEndpointRates(db),
              breaker: config.delivery.breaker,
              concurrency: config.delivery.partitionConcurrency,
              produceTimeoutMs: config.kafka.produceTimeoutMs,
              log,
              sessionTimeoutMs: SESSION_TIMEOUT_MS,
              heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
            }),
          );
        }
        await waitFor(
          async () => {
            const g = await events.admin.describeGroup(groupId);
            return g.state === 'Stable' && g.members.length === 2 && g.members.every((m) => m.partitions > 0) ? true : undefined;
          },
          60_000,
          'both workers in a stable group',
        );

        // 3. Plan: one delivery per endpoint and event, all first attempts on the one attempt partition.
        consumers.push(
          await startPlanner({
            events,
            groupId: `${config.kafka.topicPrefix}echocue.delivery.planner`,
            topics,
            webhooks,
            accounts,
            producer,
            clock: systemClock,
            concurrency: config.delivery.partitionConcurrency,
            produceTimeoutMs: config.kafka.produceTimeoutMs,
            log,
          }),
        );

        const delivered = async (name: 'hang' | 'ok') => {
          const res = await api.call(
            'GET',
            `${system.url}/api/webhooks/endpoints/${endpoint[name]}/deliveries?status=delivered&limit=100`,
            { key },
          );
          return res.json.data as any[];
        };
        await waitFor(async () => ((await delivered('ok')).length === EVENTS ? true : undefined), 60_000, `${EVENTS} healthy deliveries`);
        const hung = await waitFor(
          async () => {
            const d = await delivered('hang');
            return d.length === EVENTS ? d : undefined;
          },
          120_000,
          `${EVENTS} deliveries to the hung receiver, on their retry`,
        );

        // The receiver saw every attempt exactly once: attempts 1 and 2 of each event, none twice.
        const atHang = rx.at('/hang');
        const hangCounts = countBy(atHang, attemptOf);
        expect(hangCounts.size).toBe(EVENTS * 2);
        expect([...hangCounts].filter(([, n]) => n !== 1)).toEqual([]);
        expect(countBy(atHang, (r) => String(r.headers['x-echocue-attempt']))).toEqual(
          new Map([
            ['1', EVENTS],
            ['2', EVENTS],
          ]),
        );
        const okCounts = countBy(rx.at('/ok'), attemptOf);
        expect(okCounts.size).toBe(EVENTS);
        expect([...okCounts].filter(([, n]) => n !== 1)).toEqual([]);
        // Each hung delivery: the first attempt timed out, the second succeeded.
        for (const d of hung) {
          expect(d.attempts.map((a: any) => [a.n, a.outcome, a.error_code])).toEqual([
            [1, 'failure', 'timeout'],
            [2, 'success', null],
          ]);
        }
        // The healthy endpoint was not held up by the hung one on the same partition: all its deliveries arrived
        // before any hung attempt had timed out (the first retry to the hung receiver comes only after a timeout).
        const firstRetry = rx.received.findIndex((r) => r.path === '/hang' && r.headers['x-echocue-attempt'] === '2');
        const lastOk = rx.received.findLastIndex((r) => r.path === '/ok');
        expect(lastOk).toBeLessThan(firstRetry);
      } finally {
        await events.close();
      }
    },
  );
});
