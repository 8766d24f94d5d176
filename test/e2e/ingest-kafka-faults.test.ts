// What Meta is promised: an event answered 200 is on Kafka, exactly once by event id. Faults between EchoCue and a
// private broker, injected by a Kafka-aware proxy (test/helpers/kafka-proxy.ts): produce acknowledgements lost for
// longer than the producer's retry budget, connections cut mid-request, a broker that stalls for 10 s. After each,
// every POST that got 200 has each of its events on its topic exactly once, a POST that got 503 at most once, and
// the producer recovers without a restart.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { FIXTURE_SECRET, testEnv, waitFor, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { readAllEvents } from '../../harness/topics.ts';
import { startPrivateKafka } from '../helpers/private-kafka.ts';
import { startKafkaProxy, type KafkaProxy } from '../helpers/kafka-proxy.ts';

const WABA = '109000000000001';
const STATUSES = 5;

/** A body of STATUSES delivery statuses, all for one WABA (one partition), unique per n: same record count each. */
function body(n: number): string {
  const statuses = Array.from({ length: STATUSES }, (_, k) => ({
    id: `wamid.fault${n}x${k}`,
    status: 'delivered',
    timestamp: String(1781514000 + n),
    recipient_id: '15550100001',
  }));
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: WABA,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550100000', phone_number_id: '119000000000001' },
              statuses,
            },
          },
        ],
      },
    ],
  });
}

describe('ingest > Kafka faults', () => {
  let proxy: KafkaProxy;
  let kafka: Awaited<ReturnType<typeof startPrivateKafka>>;
  let env: TestEnv;
  let system: RunningSystem;
  const answered = new Map<number, number>();
  let n = 0;
  const post = async () => {
    const i = n++;
    const b = body(i);
    const res = await postWebhook(system.url, b, { 'x-hub-signature-256': signBody(b, FIXTURE_SECRET) });
    answered.set(i, res.status);
    return res.status;
  };
  /** Posts new bodies (Meta retries with new ones arriving too) until one is answered 200. */
  const until200 = () => waitFor(async () => ((await post()) === 200 ? true : undefined), 120_000, 'a 200 after the fault');
  /** After a fault: a 200 again, then three more in a row (the producer recovered without a restart). */
  const recovered = async () => {
    await until200();
    for (let i = 0; i < 3; i++) expect(await post()).toBe(200);
  };

  beforeAll(async () => {
    proxy = await startKafkaProxy();
    kafka = await startPrivateKafka({ advertisedPort: proxy.port });
    proxy.target(Number(kafka.brokers.split(':')[1]));
    // A 2 s request timeout: the producer's retry budget (6 attempts, src/events/kafka/options.ts) runs out in about 15 s instead of 60.
    env = testEnv({
      KAFKA_BROKERS: `127.0.0.1:${proxy.port}`,
      INGEST_ACK_TIMEOUT_MS: '2000',
      KAFKA_PARTITIONS: '1',
      KAFKA_REQUEST_TIMEOUT_MS: '2000',
    });
    system = await startSystem({ config: env.config, roles: ['ingest'], log: env.log });
  }, 180_000);
  afterAll(async () => {
    proxy?.normal();
    await system?.stop();
    await env?.cleanup().catch(() => undefined);
    await kafka?.destroy();
    await proxy?.close();
  });

  test(
    'lost acknowledgements past the retry budget, cut connections, a 10 s stall: every 200 on the topic exactly once',
    { timeout: 400_000 },
    async () => {
      expect(await post()).toBe(200);

      // 1. The broker writes, the acknowledgements are lost, for longer than the producer retries.
      proxy.dropProduceResponses();
      expect(await post()).toBe(503);
      // Until the producer has given up on that write: no new Produce attempt for longer than its request timeout
      // (2 s here) and retry back-off together.
      await waitFor(
        async () => (proxy.dropped() > 0 && Date.now() - proxy.lastDropAt() > 5_000 ? true : undefined),
        200_000,
        'the producer to give up on the unacknowledged write',
      );
      proxy.normal();
      await recovered();

      // 2. Connections cut in the middle of requests.
      const inFlight = Promise.all(Array.from({ length: 4 }, () => post()));
      await new Promise((r) => setTimeout(r, 20));
      proxy.cut();
      await inFlight;
      await recovered();

      // 3. The broker stalls for 10 s (nothing answers, nothing closes).
      proxy.stall();
      const stalled = Promise.all(Array.from({ length: 3 }, () => post()));
      await new Promise((r) => setTimeout(r, 10_000));
      proxy.normal();
      await stalled;
      await recovered();

      // Reconcile: the events on the status topic, by id.
      const events = (await readAllEvents(env.config)).filter((e) => e.eventType === 'message.status');
      const count = new Map<string, number>();
      for (const e of events) count.set(e.event['wamid'] as string, (count.get(e.event['wamid'] as string) ?? 0) + 1);
      const bad: string[] = [];
      for (const [i, status] of answered) {
        for (let k = 0; k < STATUSES; k++) {
          const c = count.get(`wamid.fault${i}x${k}`) ?? 0;
          if (status === 200 && c !== 1) bad.push(`POST ${i} (200): wamid.fault${i}x${k} on the topic ${c} times`);
          if (status !== 200 && c > 1) bad.push(`POST ${i} (${status}): wamid.fault${i}x${k} on the topic ${c} times`);
        }
      }
      const oks = [...answered.values()].filter((s) => s === 200).length;
      expect({ bad, oks: oks > 10 }).toEqual({ bad: [], oks: true });
    },
  );
});
