// Marking a thread read (issue 16, defect 3) through HTTP ingest, the REST API, Kafka and the actors: unread_count
// follows the mark, a mark never moves back, a redelivered old message stays read, and bad calls are clear 4xx.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { createTenant } from '../../harness/load/tenant.ts';
import { FIXTURE_SECRET, testEnv, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';
import { waitForActors } from '../../harness/topics.ts';
import { messagesValue, webhookBody } from '../../harness/load/bodies.ts';

const ADMIN = 'admin-token-for-thread-read-tests';
const WABA = '100000000000884';
const OTHER_WABA = '100000000000885';
const PHONE = '199999999999884';
const T0 = Math.floor(Date.now() / 1000) - 3600;
const IVY = '15558000001';
const iso = (s: number) => new Date(s * 1000).toISOString();

const text = (n: number) =>
  webhookBody(WABA, [
    messagesValue(PHONE, {
      contacts: [{ wa_id: IVY, profile: { name: 'Ivy' } }],
      messages: [{ from: IVY, id: `wamid.read.${n}`, timestamp: String(T0 + n), type: 'text', text: { body: `message ${n}` } }],
    }),
  ]);

describe('threads > mark read', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let api: OpenApiChecker;
  let key = '';
  let otherKey = '';
  let threadId = '';

  const post = async (b: string) =>
    expect((await postWebhook(system.url, b, { 'x-hub-signature-256': signBody(b, FIXTURE_SECRET) })).status).toBe(200);
  const thread = async () => {
    await waitForActors(env.config);
    const res = await api.call('GET', `${system.url}/api/thread/${threadId}`, { key });
    expect(res.status).toBe(200);
    return res.json;
  };
  const markRead = (body: unknown, k = key, id = threadId) => api.call('POST', `${system.url}/api/thread/${id}/read`, { key: k, body });

  beforeAll(async () => {
    env = testEnv({ ADMIN_TOKEN: ADMIN });
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log: env.log });
    api = await openApiChecker(system.url);
    key = (await createTenant(system.url, ADMIN, [WABA])).key;
    otherKey = (await createTenant(system.url, ADMIN, [OTHER_WABA])).key;
    for (const n of [1, 2, 3]) await post(text(n));
    await waitForActors(env.config);
    threadId = (await api.call('GET', `${system.url}/api/contact/${IVY}`, { key })).json.thread_ids[0];
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    await env?.cleanup();
  });

  test('a mark reads what is at or before it; the default reads everything; an earlier mark changes nothing', async () => {
    expect(await thread()).toMatchObject({ unread_count: 3, unread_capped: false, read_up_to: null });
    const first = await markRead({ up_to: iso(T0 + 2) });
    expect([first.status, first.json]).toEqual([202, { thread_id: threadId, read_up_to: iso(T0 + 2) }]);
    expect(await thread()).toMatchObject({ unread_count: 1, read_up_to: iso(T0 + 2) });
    const unreadList = (await api.call('GET', `${system.url}/api/thread/list?unread=true`, { key })).json.data.map(
      (t: { id: string }) => t.id,
    );
    expect(unreadList).toEqual([threadId]);
    // Meta redelivers an old message: still read. A new one is unread.
    await post(text(1));
    await post(text(4));
    expect(await thread()).toMatchObject({ unread_count: 2 });
    expect((await markRead({})).json).toEqual({ thread_id: threadId, read_up_to: iso(T0 + 4) });
    expect(await thread()).toMatchObject({ unread_count: 0, read_up_to: iso(T0 + 4) });
    expect((await markRead({ up_to: iso(T0 + 1) })).status).toBe(202);
    expect(await thread()).toMatchObject({ unread_count: 0, read_up_to: iso(T0 + 4) });
    expect((await api.call('GET', `${system.url}/api/thread/list?unread=true`, { key })).json.data).toEqual([]);
  });

  test('bad calls are clear 4xx and write nothing', async () => {
    const before = await thread();
    const cases: [unknown, number, string][] = [
      [{ up_to: 'yesterday' }, 400, 'EC_BAD_REQUEST'],
      [{ up_to: 1781500000 }, 400, 'EC_BAD_REQUEST'],
      [{ up_to: new Date(Date.now() + 3600_000).toISOString() }, 400, 'EC_BAD_REQUEST'],
      [{ up_to: iso(T0 + 9), extra: true }, 400, 'EC_BAD_REQUEST'],
    ];
    for (const [body, status, code] of cases) {
      const res = await markRead(body);
      expect([JSON.stringify(body), res.status, res.json.error?.code]).toEqual([JSON.stringify(body), status, code]);
    }
    for (const [k, id] of [
      [key, 'thr_doesnotexist'],
      [otherKey, threadId],
    ] as const) {
      const res = await markRead({}, k, id);
      expect([res.status, res.json.error.code]).toEqual([404, 'EC_NOT_FOUND']);
    }
    expect(await thread()).toEqual(before);
  });
});
