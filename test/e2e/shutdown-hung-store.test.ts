// SIGTERM while the actors' batch hangs on a store that stopped answering (issue 16, defect 7): past
// SHUTDOWN_TIMEOUT_MS the process abandons the batch uncommitted, says so, and exits; the next actors process applies
// it, and the documents are exactly those of a run without the hang. (The MongoDB driver gives up on a hung server
// by itself after its server-selection time, at most 10 s here, so without the deadline the stop also ends, later;
// what this test pins is the abandon-and-replay path and its message, not how long a stop takes.)
import { type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../harness/load/processes.ts';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { fixtures, services, testEnv, uniqueName, waitFor, withDatabase, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { exited, lastLogLines, serveProcess, healthzOf } from '../helpers/process.ts';
import { actorDocuments } from '../helpers/store-dump.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { waitForActors } from '../../harness/topics.ts';
import { withEvents } from '../../harness/kafka.ts';
import { ACTOR_EVENT_TYPES } from '../../src/actors/apply.ts';
import { topicNames } from '../../src/events/topics.ts';

describe('shutdown with a hung store', () => {
  let proxy: TcpProxy;
  let env: TestEnv;
  let reference: TestEnv;
  let ingest: RunningSystem | undefined;
  let child: ChildProcess | undefined;
  let viaProxy = '';
  const all = fixtures();

  beforeAll(async () => {
    const direct = new URL(services().MONGODB_URI.replace(/^mongodb:/, 'http:'));
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port) });
    const db = uniqueName('hungstop');
    viaProxy = withDatabase(services().MONGODB_URI.replace(`${direct.hostname}:${direct.port}`, `127.0.0.1:${proxy.port}`), db);
    env = testEnv({ MONGODB_URI: withDatabase(services().MONGODB_URI, db) });
    reference = testEnv();
  });
  afterAll(async () => {
    proxy?.restore();
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await ingest?.stop();
    await env?.cleanup();
    await reference?.cleanup();
    await proxy?.close();
  });

  test(
    'the actors stop within the deadline, the batch is applied by the next process, nothing lost or doubled',
    { timeout: 240_000 },
    async () => {
      let now = 0;
      const clock = { now: () => new Date(now) };
      const postAll = async (url: string) => {
        for (let i = 0; i < all.length; i++) {
          now = 1_781_600_000_000 + i * 1000;
          expect((await postWebhook(url, all[i]!.body, { 'x-hub-signature-256': all[i]!.signature })).status).toBe(200);
        }
      };
      const ref = await startSystem({ config: reference.config, roles: ['ingest', 'actors'], log: reference.log, clock });
      await postAll(ref.url);
      await waitForActors(reference.config, 120_000);
      await ref.stop();
      const expected = await actorDocuments(reference.config.mongo.uri);

      // The actors in their own process, on the store through the proxy, with store calls that may take 10 minutes.
      const port = await freePort();
      child = serveProcess(env, 'actors', {
        MONGODB_URI: viaProxy,
        MONGODB_TIMEOUT_MS: '600000',
        SHUTDOWN_TIMEOUT_MS: '2000',
        PORT: String(port),
      });
      await healthzOf(child, `http://127.0.0.1:${port}`);
      proxy.hang();
      ingest = await startSystem({ config: env.config, roles: ['ingest'], log: env.log, clock });
      await postAll(ingest.url);
      // The actors have taken a batch and wait on the store: records are fetched, none committed.
      const topics = topicNames(env.config.kafka.topicPrefix);
      await waitFor(
        async () =>
          withEvents(env.config, async (events) => {
            const group = await events.admin.describeGroup(`${env.config.kafka.topicPrefix}echocue.actors`);
            return group.state === 'Stable' ? true : undefined;
          }),
        60_000,
        'the actors group to be stable',
      );
      await new Promise((r) => setTimeout(r, 3000));

      child.kill('SIGTERM');
      // A bound 30 times the deadline, for a liveness failure to show as one (the store would hold it 10 minutes).
      const stopped = await Promise.race([exited(child).then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 60_000))]);
      expect(stopped, 'the actors process still runs 60 s after SIGTERM with SHUTDOWN_TIMEOUT_MS=2000').toBe(true);
      expect(child.exitCode).toBe(0);
      expect(lastLogLines(child)).toContain(
        'the actors did not stop within SHUTDOWN_TIMEOUT_MS: the batch in flight is abandoned uncommitted',
      );
      const committed = await withEvents(env.config, (events) =>
        events.admin.committedOffsets(
          `${env.config.kafka.topicPrefix}echocue.actors`,
          ACTOR_EVENT_TYPES.map((t) => topics.events[t]),
        ),
      );
      const ends = await withEvents(env.config, (events) => events.admin.endOffsets(ACTOR_EVENT_TYPES.map((t) => topics.events[t])));
      let lag = 0;
      for (const [topic, high] of ends) high.forEach((h, p) => (lag += Number(h) - Number(committed.get(topic)?.[p] ?? 0)));
      expect(lag).toBeGreaterThan(0); // nothing was applied while the store hung

      proxy.restore();
      const next = await startSystem({ config: env.config, roles: ['actors'], log: env.log, clock });
      try {
        await waitForActors(env.config, 120_000);
      } finally {
        await next.stop();
      }
      expect(await actorDocuments(env.config.mongo.uri)).toEqual(expected);
    },
  );
});
