// The store stops answering (connections open, no replies) while webhooks keep arriving: EchoCue keeps answering
// Meta (the events are on Kafka), /readyz says not ready within seconds, the actors' batches fail with a clear
// error and are retried, and once the store answers again everything recovers by itself and the documents are
// exactly those of a run without the outage: nothing lost, nothing half-applied.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { fixtures, services, testEnv, uniqueName, waitFor, withDatabase, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { waitForActors } from '../../harness/topics.ts';
import { actorDocuments } from '../helpers/store-dump.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const readyz = async (url: string) => (await fetch(`${url}/readyz`)).status;
const ADMIN = 'store-outage-admin-token';
const admin = async (url: string, path: string, body?: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
};

describe('store outage', () => {
  let proxy: TcpProxy;
  let env: TestEnv;
  let reference: TestEnv;
  let system: RunningSystem | undefined;
  const all = fixtures();
  const half = Math.floor(all.length / 2);

  beforeAll(async () => {
    const direct = new URL(services().MONGODB_URI.replace(/^mongodb:/, 'http:'));
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port) });
    const db = uniqueName('outage');
    const viaProxy = withDatabase(services().MONGODB_URI.replace(`${direct.hostname}:${direct.port}`, `127.0.0.1:${proxy.port}`), db);
    env = testEnv({ MONGODB_URI: viaProxy, MONGODB_TIMEOUT_MS: '1500', ADMIN_TOKEN: ADMIN });
    reference = testEnv();
  });
  afterAll(async () => {
    proxy?.restore();
    await system?.stop();
    await env?.cleanup(); // through the proxy, before it closes
    await reference?.cleanup();
    await proxy?.close();
  });

  test(
    'not ready while the store hangs, 200s to Meta all along, then recovery by itself with every event applied once',
    { timeout: 240_000 },
    async () => {
      // Ingest stamps received_at from its clock: both runs see the same time for the same body.
      let now = 0;
      const clock = { now: () => new Date(now) };
      const post = async (url: string, i: number) => {
        now = 1_781_600_000_000 + i * 1000;
        return (await postWebhook(url, all[i]!.body, { 'x-hub-signature-256': all[i]!.signature })).status;
      };
      const ref = await startSystem({ config: reference.config, roles: ['ingest', 'actors'], log: reference.log, clock });
      for (let i = 0; i < all.length; i++) expect(await post(ref.url, i)).toBe(200);
      await waitForActors(reference.config, 120_000);
      await ref.stop();
      const expected = await actorDocuments(reference.config.mongo.uri);

      system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log: env.log, clock });
      // Ready once the actors' member has joined its group (a second or so after start-up).
      await waitFor(async () => ((await readyz(system!.url)) === 200 ? true : undefined), 30_000, '/readyz to say ready');
      const account = await admin(system.url, '/api/admin/accounts', { name: 'Outage' });
      expect((await admin(system.url, `/api/admin/accounts/${account.json.id}/wabas`, { waba_id: '104719385562013' })).status).toBe(200);
      const key = (await admin(system.url, `/api/admin/accounts/${account.json.id}/keys`)).json.key as string;
      const threads = () => fetch(`${system!.url}/api/thread/list`, { headers: { authorization: `Bearer ${key}` } });
      for (let i = 0; i < half; i++) expect(await post(system.url, i)).toBe(200);
      await waitForActors(env.config, 60_000);

      proxy.hang();
      await waitFor(async () => ((await readyz(system!.url)) === 503 ? true : undefined), 20_000, '/readyz to say not ready');
      const report = await (await fetch(`${system.url}/readyz`)).json();
      expect(report).toMatchObject({ ready: false, checks: { store: { ok: false } } });
      // Meta's webhooks are still answered: the events are durable on Kafka; the actors apply them later.
      for (let i = half; i < all.length; i++) expect(await post(system.url, i)).toBe(200);
      // Long enough for the actors' batches to fail on the store's deadline (1.5 s) a few times.
      await new Promise((r) => setTimeout(r, 6000));
      expect(await readyz(system.url)).toBe(503);
      // A poller meanwhile gets a 503 naming the store (and when to retry), not a 500 and not an endless wait.
      const refused = await threads();
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(await refused.json()).toMatchObject({ error: { code: 'EC_STORE_UNAVAILABLE' } });

      proxy.restore();
      await waitFor(async () => ((await readyz(system!.url)) === 200 ? true : undefined), 60_000, '/readyz to say ready again');
      await waitForActors(env.config, 120_000);
      expect(await actorDocuments(env.config.mongo.uri)).toEqual(expected);
      expect((await threads()).status).toBe(200);
    },
  );
});
