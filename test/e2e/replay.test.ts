// `echocue replay` as an operator runs it (issue 17, docs/operations/replay.md): the system takes the fixtures and a
// few hundred generated bodies, the actors apply them, and a replay of the raw topic into a fresh database gives no
// difference, with the documents really there (served by the REST API on that database, with the copied keys).
// Then one live document is changed behind the actors' back and the replay reports exactly it. Real bin, broker,
// registry and store.
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { type ReplayReport } from '../../src/cli/replay.ts';
import { type Config } from '../../src/config/index.ts';
import { e2eBatch, PHONE_A, WABA_A } from '../../harness/load/bodies.ts';
import { createTenant } from '../../harness/load/tenant.ts';
import { waitForActors } from '../../harness/topics.ts';
import { FIXTURE_SECRET, fixtures, testEnv, uniqueName, withDatabase, type TestEnv } from '../helpers/env.ts';
import { getJson, postFixture, postWebhook } from '../helpers/http.ts';
import { runEchocue } from '../helpers/process.ts';

const ADMIN = 'admin-token-for-replay-tests';
const PROBE_PHONE = '112356789045699';
const COLLECTIONS = ['ec_message', 'ec_thread', 'ec_contact', 'ec_template', 'ec_waba_state'];

/** The report as `--json` prints it (src/cli/replay.ts). */
type Report = ReplayReport;

const echocue = (env: TestEnv, ...args: string[]) => runEchocue(env, args, { timeoutMs: 180_000 });

const differences = (r: Report) => Object.fromEntries(r.collections.map((c) => [c.collection, [c.onlyLive, c.onlyReplay, c.different]]));
const none = Object.fromEntries(COLLECTIONS.map((c) => [c, [0, 0, 0]]));

describe('cli > replay', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let mongo: MongoClient;
  let key = '';
  let posts = 0;
  const extraDbs: string[] = [];
  const freshDb = () => {
    const name = uniqueName('replay');
    extraDbs.push(name);
    return name;
  };

  beforeAll(async () => {
    env = testEnv({ ADMIN_TOKEN: ADMIN });
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log: env.log });
    key = (await createTenant(system.url, ADMIN, [WABA_A])).key;
    for (const f of fixtures()) {
      expect((await postFixture(system.url, f)).status, f.file).toBe(200);
      posts++;
    }
    // A few hundred generated bodies: statuses of outbound messages, inbound texts from a pool of contacts.
    const run = uniqueName('r');
    for (let seq = 0; seq < 200; seq++) {
      const b = e2eBatch(FIXTURE_SECRET, { run, seq, wabaId: WABA_A, phoneId: PHONE_A, probePhoneId: PROBE_PHONE, size: 6 });
      expect((await postWebhook(system.url, b.body, { 'x-hub-signature-256': b.signature })).status).toBe(200);
      posts++;
    }
    await waitForActors(env.config, 180_000);
    // A thread read through the API: on the thread-read topic, not in any raw body; the replay applies it too.
    const threads = await getJson(`${system.url}/api/thread/list?limit=5`, key);
    const thread = (threads.json['data'] as { id: string; unread_count: number }[]).find((t) => t.unread_count > 0)!;
    const marked = await fetch(`${system.url}/api/thread/${thread.id}/read`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(marked.status).toBe(202);
    await waitForActors(env.config, 60_000);
    mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
  }, 600_000);

  afterAll(async () => {
    for (const name of extraDbs)
      await mongo
        ?.db(name)
        .dropDatabase()
        .catch(() => undefined);
    await mongo?.close();
    await system?.stop();
    await env?.cleanup();
  });

  test('replay into a fresh database gives no difference, and that database holds the documents the API serves', async () => {
    const into = freshDb();
    const r = await echocue(env, 'replay', '--into', into, '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report).toMatchObject({ live: env.dbName, replay: into, compared: 'all documents', difference: false });
    expect(report.ignoredFields).toEqual(['changed_at', '_v']);
    expect(differences(report)).toEqual(none);
    // Every raw body and the one thread read, read up to the stop point.
    expect(report.counts).toMatchObject({ records: posts + 1, bodies: posts, rejected: 0, skippedBeforeFrom: 0 });
    expect(report.counts!.events).toBeGreaterThan(1000);
    expect(report.tenancyCopied).toMatchObject({ ec_account: 1, ec_waba: 1, ec_api_key: 1 });
    // Progress on stderr (not a TTY here: plain lines), the report alone on stdout.
    expect(r.stderr).toMatch(/replay \[.*\] \d+% \| \d+\/\d+ \| \d+\/s \| ETA/);
    expect(r.stderr).toMatch(/compare \[/);

    const live = mongo.db();
    const replayed = mongo.db(into);
    for (const c of COLLECTIONS)
      expect(await replayed.collection(c).countDocuments({}), c).toBe(await live.collection(c).countDocuments({}));
    const same = Object.fromEntries(report.collections.map((c) => [c.collection, c.same]));
    expect(same['ec_message']).toBeGreaterThan(1000);
    expect(same['ec_thread']).toBeGreaterThan(200);

    // The REST API on the replayed database, with the live key (copied tenancy): the same threads as live.
    const config: Config = { ...env.config, mongo: { ...env.config.mongo, uri: withDatabase(env.config.mongo.uri, into) } };
    const api = await startSystem({ config, roles: ['api'], log: env.log });
    try {
      // Every page of the tenant's threads, as id and unread count.
      const ids = async (url: string) => {
        const out: string[] = [];
        let cursor: string | null = null;
        do {
          const res = await getJson(`${url}/api/thread/list?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, key);
          expect(res.status).toBe(200);
          out.push(...(res.json['data'] as { id: string; unread_count: number }[]).map((t) => `${t.id}:${t.unread_count}`));
          cursor = res.json['next_cursor'] as string | null;
        } while (cursor);
        return out.sort();
      };
      const fromReplay = await ids(api.url);
      expect(fromReplay.length).toBeGreaterThan(200);
      expect(fromReplay).toEqual(await ids(system.url));
    } finally {
      await api.stop();
    }
  }, 300_000);

  test('a live document changed behind the actors is reported, exactly that one, with exit 3', async () => {
    const messages = mongo.db().collection<{ _id: string; delivery_status: string | null }>('ec_message');
    const victim = (await messages.findOne({ delivery_status: 'delivered' }))!;
    await messages.updateOne({ _id: victim._id }, { $set: { delivery_status: 'failed' } });
    try {
      const r = await echocue(env, 'replay', '--into', freshDb(), '--json');
      expect(r.code, r.stderr).toBe(3);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.difference).toBe(true);
      expect(differences(report)).toEqual({ ...none, ec_message: [0, 0, 1] });
      expect(report.collections.find((c) => c.collection === 'ec_message')!.examples.different).toEqual([
        { id: victim._id, fields: ['delivery_status'] },
      ]);
      // The table for people names it too.
      const text = await echocue(env, 'replay', '--into', freshDb());
      expect(text.code).toBe(3);
      expect(text.stdout).toContain(`different:   ${victim._id} (delivery_status)`);
      expect(text.stdout).toContain('DIFFERENT: the replay does not match the live database');
    } finally {
      await messages.updateOne({ _id: victim._id }, { $set: { delivery_status: 'delivered' } });
    }
  }, 300_000);

  test('--from after the last body: nothing applied, only what the replay wrote is compared (nothing), no difference', async () => {
    const r = await echocue(env, 'replay', '--from', new Date(Date.now() + 60_000).toISOString(), '--into', freshDb(), '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report).toMatchObject({ compared: 'documents the replay wrote', difference: false });
    expect(report.counts).toMatchObject({ records: posts + 1, bodies: 0, events: 0, skippedBeforeFrom: posts + 1 });
    const messages = report.collections.find((c) => c.collection === 'ec_message')!;
    expect(messages).toMatchObject({ same: 0, onlyLive: 0, notReplayed: await mongo.db().collection('ec_message').countDocuments({}) });
  }, 300_000);

  test('bad input: a bad --from, the live database, a database not empty, no --into, an unknown option (exit 2)', async () => {
    const from = await echocue(env, 'replay', '--from', 'last tuesday', '--into', freshDb());
    expect([from.code, from.stderr.trim()]).toEqual([
      2,
      'echocue: --from must be an ISO 8601 time or a duration such as 15m (got "last tuesday")',
    ]);
    const liveDb = await echocue(env, 'replay', '--into', env.dbName);
    expect([liveDb.code, liveDb.stderr.trim()]).toEqual([
      2,
      `echocue: --into names the live database (${env.dbName}); replay into a fresh one`,
    ]);
    const liveUri = await echocue(env, 'replay', '--into', env.config.mongo.uri);
    expect(liveUri.code).toBe(2);
    const used = extraDbs[0]!; // the first test's replay
    const notEmpty = await echocue(env, 'replay', '--into', used);
    expect([notEmpty.code, notEmpty.stderr]).toEqual([
      2,
      expect.stringMatching(new RegExp(`^echocue: EC_REPLAY_TARGET_NOT_EMPTY: database ${used} is not empty \\(ec_account, .*ec_message`)),
    ]);
    const noInto = await echocue(env, 'replay');
    expect([noInto.code, noInto.stderr.trim()]).toEqual([2, 'echocue: --into is required']);
    const unknown = await echocue(env, 'replay', '--into', freshDb(), '--form', '1h');
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining("Unknown option '--form'")]);
    const badName = await echocue(env, 'replay', '--into', 'no/such db');
    expect([badName.code, badName.stderr]).toEqual([2, expect.stringContaining('--into must be a database name')]);
  }, 120_000);
});
