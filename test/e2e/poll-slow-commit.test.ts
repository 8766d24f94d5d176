// A poller must never miss a change, whatever the commit times (issue 16, defect 1). changed_at is stamped when a
// commit starts; the API's watermark trails its reads by API_CHANGE_SETTLE_MS. A commit slower than that used to
// become visible after a poller's watermark had passed its stamp (a faster, later commit was read first), and the
// poller never saw it. The actor store now stamps a slow commit again when it ends (src/store/actor-store.ts).
// Real store and real API; the slow commit is the real actor store over a store connection whose thread inserts
// take 1.5 s (as a store under load may).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Db, MongoClient } from 'mongodb';
import { emptyWriteSet } from '../../src/actors/session.ts';
import { mergeContacts } from '../../src/actors/contact/reduce.ts';
import { emptyThread } from '../../src/actors/thread/reduce.ts';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { createActorStore } from '../../src/store/actor-store.ts';
import { createTenant } from '../../harness/load/tenant.ts';
import { testEnv, type TestEnv } from '../helpers/env.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';

const ADMIN = 'admin-token-for-slow-commit-tests';
const WABA = '100000000000883';
const SETTLE_MS = 400;
const SLOW_MS = 1500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The store, except that inserts into ec_thread take SLOW_MS before they reach it. */
const slowThreadInserts = (db: Db): Db =>
  new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'collection') return Reflect.get(target, prop, receiver);
      return (name: string) => {
        const real = target.collection(name);
        if (name !== 'ec_thread') return real;
        return new Proxy(real, {
          get: (c, p, r) =>
            p === 'insertMany'
              ? async (docs: never[], o: never) => {
                  await sleep(SLOW_MS);
                  return c.insertMany(docs, o);
                }
              : Reflect.get(c, p, r),
        });
      };
    },
  });

const threadWrite = (n: number) => {
  const contact = mergeContacts(WABA, [], [`wa:1555700000${n}`], new Date());
  const ws = emptyWriteSet();
  ws.inserts.thread = [{ ...emptyThread(`thr_slowcommit_${n}`, WABA, 'pn-slow', contact, new Date()), last_message_at: new Date() }];
  return ws;
};

describe('REST API > updated_since never misses a slow commit', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let api: OpenApiChecker;
  let mongo: MongoClient;
  let key = '';

  beforeAll(async () => {
    env = testEnv({ ADMIN_TOKEN: ADMIN, API_CHANGE_SETTLE_MS: String(SETTLE_MS) });
    system = await startSystem({ config: env.config, roles: ['api'], log: env.log });
    api = await openApiChecker(system.url);
    key = (await createTenant(system.url, ADMIN, [WABA])).key;
    mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
  }, 120_000);
  afterAll(async () => {
    await mongo?.close();
    await system?.stop();
    await env?.cleanup();
  });

  const poll = async (since: string) => {
    const res = await api.call('GET', `${system.url}/api/thread/list?updated_since=${encodeURIComponent(since)}&limit=100`, { key });
    expect(res.status).toBe(200);
    return { ids: (res.json.data as { id: string }[]).map((t) => t.id), next: res.json.next_updated_since as string };
  };

  test('a commit slower than the settle time, overtaken by a fast one, is read by the next poll', async () => {
    const start = new Date(Date.now() - 1000).toISOString();
    const slow = createActorStore(slowThreadInserts(mongo.db()), { settleMs: SETTLE_MS }).commit(threadWrite(1));
    await sleep(50);
    await createActorStore(mongo.db(), { settleMs: SETTLE_MS }).commit(threadWrite(2));
    // Past the settle time of the slow commit's stamp, while it is still invisible: the poller reads the fast one
    // and its watermark moves past the slow commit's stamp.
    await sleep(SETTLE_MS + 300);
    const first = await poll(start);
    expect(first.ids).toEqual(['thr_slowcommit_2']);
    await slow;
    const second = await poll(first.next);
    expect(second.ids).toContain('thr_slowcommit_1');
  });
});
