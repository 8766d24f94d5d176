// The sending side end to end (issue 15) over real HTTP: EchoCue (ingest, actors, api) on the local stack and a fake
// of Meta's Graph API on loopback, which answers like Meta and posts signed status webhooks back to our ingest.
// Embedded Signup links a WABA (and resumes after a failing step, linked exactly once); replies go out inside the
// window, templates outside it, at most once per Idempotency-Key, and never to a contact who opted out anywhere in
// the account.
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { createTenant } from '../../harness/load/tenant.ts';
import { waitForActors } from '../../harness/topics.ts';
import { SERVER_ERROR, startFakeGraph, type FakeGraph, type Business } from '../../harness/fake-graph.ts';
import { FIXTURE_SECRET, testEnv, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { marketingStopBody, nowSeconds, templateStatusBody, textBody } from '../helpers/meta-bodies.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';

const ADMIN = 'admin-token-for-sending-tests';
const APP_ID = '4455667788';
const WABA = '100000000001501';
const PHONE = '199999999991501';
const WABA2 = '100000000001502'; // a second WABA of the same account (linked by the operator)
const PHONE2 = '199999999991502';
const IVY = '15558001501';
const BOB = '15558001502';
const now = nowSeconds;

const inbound = (waba: string, phone: string, from: string, wamid: string, seconds: number, text: string) =>
  textBody({ waba, phone, from, wamid, seconds, text, name: from === IVY ? 'Ivy' : 'Bob' });
const templateStatus = (event: string, id: number, name: string, category: string) =>
  templateStatusBody(WABA, { event, id, name, category });
const marketingStop = (wa: string) => marketingStopBody(WABA, PHONE, wa);

describe('sending side', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let graph: FakeGraph;
  let api: OpenApiChecker;
  let tenant: { accountId: string; key: string };
  let other: { accountId: string; key: string };
  let business: Business;

  const post = async (b: string) =>
    expect((await postWebhook(system.url, b, { 'x-hub-signature-256': signBody(b, FIXTURE_SECRET) })).status).toBe(200);
  const signup = (body: unknown, key = tenant.key) => api.call('POST', `${system.url}/api/signup`, { key, body });
  const number = (id = PHONE, key = tenant.key) => api.call('GET', `${system.url}/api/phone-numbers/${id}`, { key });
  const threads = async (key = tenant.key) =>
    (await api.call('GET', `${system.url}/api/thread/list`, { key })).json.data as { id: string; contact: { wa_id: string } }[];
  const send = (threadId: string, body: unknown, idempotencyKey?: string) =>
    api.call('POST', `${system.url}/api/thread/${threadId}/messages`, {
      key: tenant.key,
      body,
      headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
    });
  const threadOf = async (wa: string, phone = PHONE) => {
    await waitForActors(env.config);
    const list = (await api.call('GET', `${system.url}/api/thread/list?phone_number_id=${phone}`, { key: tenant.key })).json.data;
    const found = (list as { id: string; contact: { wa_id: string } }[]).find((t) => t.contact.wa_id === wa);
    if (!found) throw new Error(`no thread of ${wa} on ${phone}`);
    return found.id;
  };

  beforeAll(async () => {
    graph = await startFakeGraph({ appId: APP_ID, appSecret: FIXTURE_SECRET });
    env = testEnv({ ADMIN_TOKEN: ADMIN, META_APP_ID: APP_ID, META_GRAPH_URL: graph.url, TENANCY_REFRESH_MS: '200' });
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log: env.log });
    graph.setWebhookUrl(`${system.url}/v1/whatsapp/webhook`);
    api = await openApiChecker(system.url);
    tenant = await createTenant(system.url, ADMIN, []);
    other = await createTenant(system.url, ADMIN, []);
    business = graph.addBusiness(WABA, [{ id: PHONE, display: '15550001501' }]);
  }, 120_000);
  afterAll(async () => {
    await graph?.close();
    await system?.stop();
    await env?.cleanup();
  });

  test('signup: a failing step is named and resumed; the WABA is linked exactly once and its webhooks route to the account', async () => {
    // Meta posts for the WABA before the signup finished: stored, but no account sees it yet.
    await post(inbound(WABA, PHONE, IVY, 'wamid.send.ivy.1', now() - 60, 'hello before signup'));
    await waitForActors(env.config);
    expect(await threads()).toEqual([]);

    // Bad calls write nothing.
    for (const [body, parameter] of [
      [{ code: business.code, waba_id: 'abc', phone_number_id: PHONE }, 'waba_id'],
      [{ code: business.code, waba_id: WABA }, 'phone_number_id'],
      [{ waba_id: WABA, phone_number_id: PHONE }, 'code'],
      [{ code: business.code, waba_id: WABA, phone_number_id: PHONE, pin: '123456' }, 'pin'],
    ] as const) {
      const res = await signup(body);
      expect([res.status, res.json.error.code, res.json.error.details.parameter]).toEqual([400, 'EC_BAD_REQUEST', parameter]);
    }
    expect((await number()).status).toBe(404);
    expect(graph.callsOf('code_exchange')).toBe(0);

    // Registration fails at Meta (a 5xx): 503 naming the step; the number shows failed there; nothing linked.
    graph.fail('register', SERVER_ERROR);
    const first = await signup({ code: business.code, waba_id: WABA, phone_number_id: PHONE });
    expect([first.status, first.json.error.code, first.json.error.details.step]).toEqual([503, 'EC_GRAPH_UNAVAILABLE', 'register_number']);
    const failed = (await number()).json;
    expect(failed).toMatchObject({ id: PHONE, waba_id: WABA, state: 'failed', failure: { step: 'register_number', meta_code: 131000 } });
    expect(failed.steps.code_exchange).not.toBeNull();
    expect(failed.steps.verify_waba).not.toBeNull();
    expect([failed.steps.register_number, failed.steps.link_account]).toEqual([null, null]);
    expect(await threads()).toEqual([]);

    // The retry resumes (the code is not exchanged again: Meta's codes are single-use); Meta then refuses the
    // subscription: a 502 naming that step.
    graph.fail('subscribed_apps', { status: 403, code: 200, message: 'Permissions error' });
    const second = await signup({ waba_id: WABA, phone_number_id: PHONE });
    expect([second.status, second.json.error.code, second.json.error.details.step]).toEqual([502, 'EC_GRAPH_REFUSED', 'subscribe_app']);
    expect((await number()).json).toMatchObject({ state: 'failed', failure: { step: 'subscribe_app', meta_code: 200 } });
    expect(await threads()).toEqual([]);

    const third = await signup({ waba_id: WABA, phone_number_id: PHONE });
    expect(third.status).toBe(200);
    expect(third.json).toMatchObject({ id: PHONE, waba_id: WABA, state: 'connected', failure: null, display_phone_number: '15550001501' });
    expect(Object.values(third.json.steps).every((t) => typeof t === 'string')).toBe(true);
    expect([graph.callsOf('code_exchange'), graph.callsOf('register'), graph.callsOf('subscribed_apps')]).toEqual([1, 2, 2]);
    expect([graph.isRegistered(PHONE), graph.isSubscribed(WABA)]).toEqual([true, true]);

    // Once more: nothing is called again, the answer is the same.
    const again = await signup({ code: 'a-new-code', waba_id: WABA, phone_number_id: PHONE });
    expect([again.status, again.json.state]).toEqual([200, 'connected']);
    expect([graph.callsOf('code_exchange'), graph.callsOf('register'), graph.callsOf('subscribed_apps')]).toEqual([1, 2, 2]);
    expect(
      (await api.call('GET', `${system.url}/api/phone-numbers`, { key: tenant.key })).json.data.map((n: { id: string }) => n.id),
    ).toEqual([PHONE]);

    // Linked: the account sees the WABA's data, the earlier message included; another account does not.
    const ivyThreads = await threads();
    expect(ivyThreads.map((t) => t.contact.wa_id)).toEqual([IVY]);
    expect(await threads(other.key)).toEqual([]);
    // A webhook now routes to the account (ingest's tenancy picks up the link).
    await post(inbound(WABA, PHONE, BOB, 'wamid.send.bob.1', now() - 25 * 3600, 'an old message from Bob'));
    await waitForActors(env.config);
    expect((await threads()).map((t) => t.contact.wa_id).sort()).toEqual([IVY, BOB]);

    // Another account cannot take the WABA or read the number.
    const taken = await signup({ code: business.code, waba_id: WABA, phone_number_id: PHONE }, other.key);
    expect([taken.status, taken.json.error.code, taken.json.error.details.reason]).toEqual([409, 'EC_CONFLICT', 'waba_taken']);
    expect((await number(PHONE, other.key)).status).toBe(404);

    // The token is in no answer, and stored sealed.
    const client = new MongoClient(env.config.mongo.uri);
    try {
      const stored = JSON.stringify(
        await client
          .db()
          .collection('ec_phone_number')
          .findOne({ _id: PHONE as never }),
      );
      expect(stored).not.toContain(business.token);
      expect(stored).toContain('"ct"');
    } finally {
      await client.close();
    }
    for (const r of [first, second, third, again]) expect(JSON.stringify(r.json)).not.toContain(business.token);
  });

  test("a signup that never proved the number holds nothing: its owner's signup takes it; a proven one is not taken", async () => {
    const [WABA3, PHONE3, WABA4] = ['100000000001503', '199999999991503', '100000000001504'];
    const owner = await createTenant(system.url, ADMIN, []);
    const theirs = graph.addBusiness(WABA3, [{ id: PHONE3, display: '15550001503' }]);
    const mine = graph.addBusiness(WABA4, [{ id: '199999999991504', display: '15550001504' }]);
    // Another account tries the number with a code that is not Meta's (a typo, or someone else's number id).
    const squat = await signup({ code: 'not-a-code-meta-issued', waba_id: WABA3, phone_number_id: PHONE3 }, other.key);
    expect([squat.status, squat.json.error.code, squat.json.error.details.step]).toEqual([502, 'EC_GRAPH_REFUSED', 'code_exchange']);
    expect((await number(PHONE3, other.key)).json).toMatchObject({ state: 'failed', failure: { step: 'code_exchange' } });

    // The number's owner signs it up: the failed attempt gives way.
    const taken = await signup({ code: theirs.code, waba_id: WABA3, phone_number_id: PHONE3 }, owner.key);
    expect([taken.status, taken.json.state]).toEqual([200, 'connected']);
    expect((await number(PHONE3, other.key)).status).toBe(404);
    expect((await number(PHONE3, owner.key)).json).toMatchObject({ id: PHONE3, waba_id: WABA3, state: 'connected' });

    // Now Meta has vouched for it: another account's signup is refused, even with a code Meta issued (for its own
    // business), and nothing of the owner's changes.
    const again = await signup({ code: mine.code, waba_id: WABA4, phone_number_id: PHONE3 }, other.key);
    expect([again.status, again.json.error.code, again.json.error.details.reason]).toEqual([409, 'EC_CONFLICT', 'number_taken']);
    expect((await number(PHONE3, owner.key)).json).toMatchObject({ waba_id: WABA3, state: 'connected', failure: null });
  });

  test('replies: inside the window once per Idempotency-Key, stored on the thread with its statuses; outside it templates only', async () => {
    await post(inbound(WABA, PHONE, IVY, 'wamid.send.ivy.2', now() - 30, 'can you confirm my order?'));
    const ivy = await threadOf(IVY);
    const text = { type: 'text', text: { body: 'Yes, it ships tomorrow.' } };

    const missingKey = await send(ivy, text);
    expect([missingKey.status, missingKey.json.error.details.parameter]).toEqual([400, 'idempotency-key']);
    const sentBefore = graph.sent.length;
    const ok = await send(ivy, text, 'reply-ivy-1');
    expect([ok.status, ok.json.status, ok.json.replayed, ok.json.thread_id]).toEqual([202, 'accepted', false, ivy]);
    // A retried call: the first answer again, nothing sent twice.
    const retried = await send(ivy, text, 'reply-ivy-1');
    expect([retried.status, retried.json.wamid, retried.json.replayed]).toEqual([202, ok.json.wamid, true]);
    const reused = await send(ivy, { type: 'text', text: { body: 'something else' } }, 'reply-ivy-1');
    expect([reused.status, reused.json.error.code, reused.json.error.details.reason]).toEqual([
      409,
      'EC_CONFLICT',
      'idempotency_key_reused',
    ]);
    expect(graph.sent.length - sentBefore).toBe(1);
    expect(graph.sent.at(-1)).toMatchObject({
      phoneNumberId: PHONE,
      to: IVY,
      body: { type: 'text', text: { body: 'Yes, it ships tomorrow.' } },
    });

    // The thread shows the conversation in order, the reply as outbound; Meta's statuses land on it.
    await graph.settle();
    await waitForActors(env.config);
    const messages = (await api.call('GET', `${system.url}/api/thread/${ivy}/messages`, { key: tenant.key })).json.data;
    const last = messages.at(-1);
    expect(messages.map((m: { direction: string }) => m.direction).slice(-2)).toEqual(['inbound', 'outbound']);
    expect(last).toMatchObject({
      id: ok.json.id,
      wamid: ok.json.wamid,
      direction: 'outbound',
      type: 'text',
      kind: 'text',
      text: 'Yes, it ships tomorrow.',
    });
    expect(last.delivery_status).toBe('delivered');
    const thread = (await api.call('GET', `${system.url}/api/thread/${ivy}`, { key: tenant.key })).json;
    expect(thread.last_message_at).toBe(last.timestamp);

    // Bob wrote 25 hours ago: free-form is refused, an approved template goes.
    const bob = await threadOf(BOB);
    const closed = await send(bob, { type: 'image', media: { link: 'https://example.com/a.png', caption: 'look' } }, 'reply-bob-1');
    expect([closed.status, closed.json.error.code, closed.json.error.details.reason]).toEqual([422, 'EC_SEND_REFUSED', 'window_closed']);
    const tpl = { type: 'template', template: { name: 'order_update', language: 'en_US' } };
    const unknown = await send(bob, tpl, 'reply-bob-2');
    expect([unknown.status, unknown.json.error.details.reason]).toEqual([422, 'template_unknown']);
    await post(templateStatus('APPROVED', 9001501, 'order_update', 'UTILITY'));
    await post(templateStatus('APPROVED', 9001502, 'spring_sale', 'MARKETING'));
    await post(templateStatus('PAUSED', 9001503, 'paused_promo', 'MARKETING'));
    await waitForActors(env.config);
    const paused = await send(bob, { type: 'template', template: { name: 'paused_promo', language: 'en_US' } }, 'reply-bob-3');
    expect([paused.status, paused.json.error.details.reason]).toEqual([422, 'template_not_approved']);
    expect((await send(bob, tpl, 'reply-bob-4')).status).toBe(202);

    // Bob stops marketing (Meta's user_preferences): marketing templates are refused, utility ones still go.
    await post(marketingStop(BOB));
    await waitForActors(env.config);
    const sale = await send(bob, { type: 'template', template: { name: 'spring_sale', language: 'en_US' } }, 'reply-bob-5');
    expect([sale.status, sale.json.error.details.reason]).toEqual([422, 'marketing_opted_out']);
    expect((await send(bob, tpl, 'reply-bob-6')).status).toBe(202);
    expect(graph.sent.filter((s) => s.to === BOB).map((s) => s.body['template']?.name)).toEqual(['order_update', 'order_update']);

    // Bad bodies are 400s naming the field, and send nothing.
    const sentNow = graph.sent.length;
    for (const [body, parameter] of [
      [{ type: 'text' }, 'text'],
      [{ type: 'text', text: { body: '' } }, 'text.body'],
      [{ type: 'text', text: { body: 'x' }, template: tpl.template }, 'template'],
      [{ type: 'image', media: { link: 'http://example.com/a.png' } }, 'media.link'],
      [{ type: 'audio', media: { link: 'https://example.com/a.ogg', caption: 'no' } }, 'media.caption'],
      [{ type: 'sticker', media: { link: 'https://example.com/a.webp' } }, 'type'],
      [{ type: 'template', template: { name: 'Bad Name', language: 'en_US' } }, 'template.name'],
    ] as const) {
      const res = await send(ivy, body, `bad-${parameter}`);
      expect([JSON.stringify(body), res.status, res.json.error.details.parameter]).toEqual([JSON.stringify(body), 400, parameter]);
    }
    expect((await send('thr_doesnotexist', text, 'nothread')).status).toBe(404);
    expect(graph.sent.length).toBe(sentNow);
  });

  test("a STOP on another of the account's WABAs suppresses the contact on this number too", async () => {
    // The operator links a second WABA; Ivy writes STOP to its number.
    const res = await fetch(`${system.url}/api/admin/accounts/${tenant.accountId}/wabas`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ waba_id: WABA2 }),
    });
    expect(res.status).toBeLessThan(300);
    await post(inbound(WABA2, PHONE2, IVY, 'wamid.send.ivy.stop', now() - 10, 'STOP'));
    await waitForActors(env.config);
    const ivy = await threadOf(IVY);
    const before = graph.sent.length;
    for (const [body, key] of [
      [{ type: 'text', text: { body: 'Are you still there?' } }, 'after-stop-1'],
      [{ type: 'template', template: { name: 'order_update', language: 'en_US' } }, 'after-stop-2'],
    ] as const) {
      const refused = await send(ivy, body, key);
      expect([refused.status, refused.json.error.code, refused.json.error.details.reason]).toEqual([422, 'EC_SEND_REFUSED', 'opted_out']);
      expect(refused.json.error.message).toContain(WABA2);
    }
    expect(graph.sent.length).toBe(before);
  });

  test('every sending operation was exercised and answered as documented', () => {
    const sending = api.operations().filter((o) => o.tag === 'sending');
    expect(sending.length).toBeGreaterThan(0);
    expect(sending.filter((o) => !api.seen.get(o.operationId)?.size).map((o) => o.operationId)).toEqual([]);
  });
});
