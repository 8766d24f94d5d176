// Meta gets 200 only for durably written events: with the broker down the POST answers 503 (Meta retries) and
// /readyz says not ready, naming Kafka (issue 17);
// after the broker is back the same POST is accepted and its events carry the same ids (no duplicate in meaning).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { fixture, testEnv, waitFor, type TestEnv } from '../helpers/env.ts';
import { postFixture } from '../helpers/http.ts';
import { readAllEvents } from '../../harness/topics.ts';
import { startPrivateKafka } from '../helpers/private-kafka.ts';

const DEADLINE_MS = 1500;

/** GET /readyz: its status and which checks passed. */
async function readiness(url: string) {
  const res = await fetch(`${url}/readyz`);
  const body = (await res.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> };
  return { status: res.status, ready: body.ready, ...Object.fromEntries(Object.entries(body.checks).map(([k, v]) => [k, v.ok])) };
}

describe('ingest > Kafka outage', () => {
  let kafka: Awaited<ReturnType<typeof startPrivateKafka>>;
  let env: TestEnv;
  let system: RunningSystem;

  beforeAll(async () => {
    kafka = await startPrivateKafka();
    env = testEnv({ KAFKA_BROKERS: kafka.brokers, INGEST_ACK_TIMEOUT_MS: String(DEADLINE_MS) });
    system = await startSystem({ config: env.config, roles: ['ingest'], log: env.log });
  });
  afterAll(async () => {
    await system?.stop();
    await env?.cleanup().catch(() => undefined);
    await kafka?.destroy();
  });

  test('503 and not ready while the broker is down; ready again by itself, and the retried POST then succeeds with the same event ids', async () => {
    const batch = fixture('batched.multi-entry.json');
    const first = await postFixture(system.url, batch);
    expect(first.status).toBe(200);

    expect(await readiness(system.url)).toMatchObject({ status: 200, ready: true, kafka: true, store: true, registry: true });
    await kafka.stop();
    // Readiness follows the broker: not ready (naming Kafka) while it is down, ready again by itself once it is back.
    await waitFor(async () => ((await readiness(system.url)).status === 503 ? true : undefined), 30_000, '/readyz to say not ready');
    expect(await readiness(system.url)).toMatchObject({ status: 503, ready: false, kafka: false, store: true, registry: true });
    // The client gives up far past the deadline: a hang would fail here rather than pass slowly.
    const down = await fetch(`${system.url}/v1/whatsapp/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': batch.signature },
      body: batch.body,
      signal: AbortSignal.timeout(DEADLINE_MS * 10),
    });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(((await down.json()) as any).error.code).toBe('EC_KAFKA_UNAVAILABLE');

    await kafka.start();
    await waitFor(async () => ((await readiness(system.url)).status === 200 ? true : undefined), 90_000, '/readyz to say ready again');
    // Meta keeps retrying; once the producer has reconnected the same POST is accepted.
    await waitFor(
      async () => ((await postFixture(system.url, batch)).status === 200 ? true : undefined),
      90_000,
      'a 200 after the broker restart',
    );

    const events = await readAllEvents(env.config);
    const ids = events.map((e) => e.event['event_id'] as string);
    const distinct = new Set(ids);
    // 6 events per delivery of this POST; however often it was written, only those 6 ids exist.
    expect(distinct.size).toBe(6);
    expect(ids.length % 6).toBe(0);
    expect(ids.length).toBeGreaterThanOrEqual(12);
  });
});
