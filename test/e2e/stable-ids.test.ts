// Stable public ids through HTTP ingest and the REST API (issue 14, rule 6): a contact's and a thread's ids survive
// a number change, and when two contacts turn out to be one person every id either had keeps resolving (contact,
// thread, the thread's messages, the window), as does every wa_id the person was known by.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { createTenant } from '../../harness/load/tenant.ts';
import { FIXTURE_SECRET, testEnv, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';
import { waitForActors } from '../../harness/topics.ts';
import { messagesValue, webhookBody } from '../../harness/load/bodies.ts';

const ADMIN = 'admin-token-for-stable-id-tests';
const WABA = '100000000000882';
const PHONE = '199999999999882';
const T0 = Math.floor(Date.now() / 1000) - 600; // recent: the window is open
// Each new number sorts before the old one: an id derived from the smallest identity would change.
const EVA_OLD = '15556000009';
const EVA_NEW = '15556000001';
const FAY_OLD = '15556000019';
const FAY_NEW = '15556000011';

const body = (messages: Record<string, unknown>[], contacts: Record<string, unknown>[] = []) =>
  webhookBody(WABA, [messagesValue(PHONE, { contacts, messages })]);
const text = (from: string, n: number) =>
  body(
    [{ from, id: `wamid.ids.${from}.${n}`, timestamp: String(T0 + n), type: 'text', text: { body: `message ${n}` } }],
    [{ wa_id: from, profile: { name: `Sender ${from}` } }],
  );
const numberChange = (from: string, to: string, n: number) =>
  body([
    {
      from,
      id: `wamid.ids.${from}.${n}`,
      timestamp: String(T0 + n),
      type: 'system',
      system: { type: 'user_changed_number', wa_id: to, body: `User changed from ${from} to ${to}` },
    },
  ]);

describe('contacts and threads > stable ids', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let api: OpenApiChecker;
  let key = '';

  const post = async (b: string) =>
    expect((await postWebhook(system.url, b, { 'x-hub-signature-256': signBody(b, FIXTURE_SECRET) })).status).toBe(200);
  const get = async (path: string) => {
    await waitForActors(env.config);
    const res = await api.call('GET', `${system.url}${path}`, { key });
    expect(res.status, `${path}: ${JSON.stringify(res.json)}`).toBe(200);
    return res.json;
  };
  const threadOf = async (contactRef: string) => {
    const contact = await get(`/api/contact/${contactRef}`);
    expect(contact.thread_ids).toHaveLength(1);
    return { contact, thread: await get(`/api/thread/${contact.thread_ids[0]}`) };
  };
  const messagesOf = async (threadId: string) =>
    (await get(`/api/thread/${threadId}/messages`)).data.map((m: { wamid: string }) => m.wamid).sort();

  beforeAll(async () => {
    env = testEnv({ ADMIN_TOKEN: ADMIN });
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log: env.log });
    api = await openApiChecker(system.url);
    key = (await createTenant(system.url, ADMIN, [WABA])).key;
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    await env?.cleanup();
  });

  test('a number change keeps the contact id and the thread id; both numbers find the contact', async () => {
    await post(text(EVA_OLD, 1));
    const before = await threadOf(EVA_OLD);
    await post(numberChange(EVA_OLD, EVA_NEW, 2));
    await post(text(EVA_NEW, 3));
    const after = await threadOf(before.contact.id);
    expect(after.contact).toMatchObject({ id: before.contact.id, former_ids: [], wa_id: EVA_NEW, thread_ids: [before.thread.id] });
    expect(after.thread).toMatchObject({
      id: before.thread.id,
      former_ids: [],
      contact: { id: before.contact.id, wa_id: EVA_NEW },
      unread_count: 2,
    });
    for (const ref of [EVA_OLD, EVA_NEW]) expect((await get(`/api/contact/${ref}`)).id).toBe(before.contact.id);
    expect(await messagesOf(before.thread.id)).toEqual([`wamid.ids.${EVA_NEW}.3`, `wamid.ids.${EVA_OLD}.1`, `wamid.ids.${EVA_OLD}.2`]);
    const window = await get(`/api/whatsapp/window?phone_number_id=${PHONE}&contact=${EVA_NEW}`);
    expect(window).toMatchObject({ contact_id: before.contact.id, open: true });
  });

  test('two contacts that turn out to be one person: one keeps its ids, and every id of the other still resolves', async () => {
    // The new number writes before Meta's change notice arrives: two contacts, each with a thread on the number.
    await post(text(FAY_OLD, 1));
    await post(text(FAY_NEW, 3));
    const old = await threadOf(FAY_OLD);
    const fresh = await threadOf(FAY_NEW);
    expect(old.contact.id).not.toBe(fresh.contact.id);
    await post(numberChange(FAY_OLD, FAY_NEW, 2));
    const [keptContact, formerContact] = [old.contact.id, fresh.contact.id].sort();
    const [keptThread, formerThread] = [old.thread.id, fresh.thread.id].sort();
    for (const ref of [old.contact.id, fresh.contact.id, FAY_OLD, FAY_NEW]) {
      expect(await get(`/api/contact/${ref}`)).toMatchObject({
        id: keptContact,
        former_ids: [formerContact],
        thread_ids: [keptThread],
        wa_id: FAY_NEW,
      });
    }
    for (const ref of [old.thread.id, fresh.thread.id]) {
      expect(await get(`/api/thread/${ref}`)).toMatchObject({
        id: keptThread,
        former_ids: [formerThread],
        contact: { id: keptContact },
        unread_count: 2,
      });
      expect(await messagesOf(ref)).toEqual([`wamid.ids.${FAY_NEW}.3`, `wamid.ids.${FAY_OLD}.1`, `wamid.ids.${FAY_OLD}.2`]);
    }
    const listed = (await get(`/api/thread/list?phone_number_id=${PHONE}`)).data.filter(
      (t: { contact: { id: string } }) => t.contact.id === keptContact,
    );
    expect(listed.map((t: { id: string }) => t.id)).toEqual([keptThread]);
    expect(await get(`/api/whatsapp/window?phone_number_id=${PHONE}&contact=${formerContact}`)).toMatchObject({
      contact_id: keptContact,
      open: true,
    });
  });

  test("an id that never existed, or another tenant's, is a clear 404", async () => {
    for (const path of ['/api/thread/thr_doesnotexist', '/api/contact/con_doesnotexist']) {
      const res = await api.call('GET', `${system.url}${path}`, { key });
      expect(res.status).toBe(404);
      expect(res.json.error).toMatchObject({ code: 'EC_NOT_FOUND' });
    }
  });
});
