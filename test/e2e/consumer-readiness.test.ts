// GET /readyz of the consumer roles (issue 17): an actors process is ready once its member has joined the group and
// says how many partitions it holds; a second member takes its share (the two shares add up to every partition);
// a batch that stays in the handler past READINESS_STUCK_AFTER_MS (the store answering, but slowly) makes the
// process not ready, naming the stuck partition; once the store is quick again it is ready again by itself.
// The delivery role reports its two groups (planner and worker) the same way.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { ACTOR_EVENT_TYPES } from '../../src/actors/apply.ts';
import { fixtures, services, testEnv, uniqueName, waitFor, withDatabase, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { readyz } from '../../harness/readiness.ts';

/** Waits for /readyz to answer 200; a timeout names the checks of the last answer. */
const ready = (url: string, timeoutMs: number, what: string) =>
  waitFor(
    async () => {
      const r = await readyz(url);
      if (r.status !== 200) throw new Error(JSON.stringify(r.checks));
      return r;
    },
    timeoutMs,
    what,
  );

describe('readiness of the consumer roles', () => {
  let proxy: TcpProxy;
  let env: TestEnv;
  const systems: RunningSystem[] = [];
  const start = async (roles: Parameters<typeof startSystem>[0]['roles']) => {
    const s = await startSystem({ config: env.config, roles, log: env.log });
    systems.push(s);
    return s;
  };

  beforeAll(async () => {
    const direct = new URL(services().MONGODB_URI.replace(/^mongodb:/, 'http:'));
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port) });
    const viaProxy = withDatabase(
      services().MONGODB_URI.replace(`${direct.hostname}:${direct.port}`, `127.0.0.1:${proxy.port}`),
      uniqueName('ready'),
    );
    // The store's deadline is long, so a slow store keeps a batch in the handler instead of failing it.
    env = testEnv({ MONGODB_URI: viaProxy, MONGODB_TIMEOUT_MS: '20000', READINESS_STUCK_AFTER_MS: '1000' });
  });
  afterAll(async () => {
    proxy?.slow(0);
    for (const s of systems.reverse()) await s.stop();
    await env?.cleanup();
    await proxy?.close();
  });

  test('ready once joined, shares that add up, not ready while a batch is stuck, ready again by itself', { timeout: 180_000 }, async () => {
    const total = ACTOR_EVENT_TYPES.length * env.config.kafka.partitions;
    const first = await start(['ingest', 'actors']);
    const alone = await waitFor(
      async () => {
        const r = await readyz(first.url);
        return r.status === 200 && r.shares.actors === total ? r : undefined;
      },
      60_000,
      'the actors member to join with every partition',
    );
    expect(alone.checks['actors']!.detail).toContain(`${env.config.kafka.topicPrefix}echocue.actors`);

    const second = await start(['actors']);
    const shares = await waitFor(
      async () => {
        const [a, b] = [await readyz(first.url), await readyz(second.url)];
        const [pa, pb] = [a.shares.actors ?? NaN, b.shares.actors ?? NaN];
        return a.status === 200 && b.status === 200 && pa > 0 && pb > 0 && pa + pb === total ? [pa, pb] : undefined;
      },
      60_000,
      'both members to hold a share of the partitions',
    );
    expect(shares[0]! + shares[1]!).toBe(total);
    await second.stop();
    systems.splice(systems.indexOf(second), 1);
    await waitFor(
      async () => ((await readyz(first.url)).shares.actors === total ? true : undefined),
      60_000,
      'the remaining member to take every partition back',
    );

    // Every store answer held back 3 s: the batch of the next webhook stays in the handler past the 1 s limit.
    proxy.slow(3000);
    const [fixture] = fixtures();
    expect((await postWebhook(first.url, fixture!.body, { 'x-hub-signature-256': fixture!.signature })).status).toBe(200);
    const stuck = await waitFor(
      async () => {
        const r = await readyz(first.url);
        return r.status === 503 && /stuck/.test(r.checks['actors']?.error ?? '') ? r : undefined;
      },
      60_000,
      '/readyz to say the actors are stuck',
    );
    expect(stuck.checks['actors']!.error).toMatch(/echocue\.actors: stuck: a batch of .+\[\d+\] has been in the handler/);

    proxy.slow(0);
    await ready(first.url, 90_000, '/readyz to say ready again');
  });

  test('the delivery role reports its planner and its worker', { timeout: 120_000 }, async () => {
    const delivery = await start(['delivery']);
    const r = await ready(delivery.url, 60_000, 'the delivery member to join its groups');
    expect(r.checks['delivery']!.detail).toMatch(
      /echocue\.delivery\.planner: \d+ partitions?; .*echocue\.delivery\.worker: \d+ partitions?/,
    );
  });
});
