// REST API for pollers, end to end: the shared fixtures go through real ingest (signed POSTs -> Kafka -> actors ->
// FerretDB), then every endpoint is read over HTTP with API keys made through the admin API. Every response is
// checked against the served OpenAPI document (test/helpers/openapi.ts).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { startSystem, ROLES, type RunningSystem } from '../../src/cli/system.ts';
import { createSecretBox } from '../../src/core/secret-box.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { createAccountStore } from '../../src/store/accounts.ts';
import { createBroadcastStore } from '../../src/store/broadcasts.ts';
import { FIXTURE_SECRET, fixtures, testEnv, type TestEnv } from '../helpers/env.ts';
import { postFixture, postWebhook } from '../helpers/http.ts';
import { openApiChecker, type ApiResponse, type OpenApiChecker } from '../helpers/openapi.ts';
import { waitForActors } from '../../harness/topics.ts';

const ADMIN = 'admin-token-for-the-api-tests';
const WABA_A = '104719385562013';
const WABA_B = '120554298871346';
const WABA_C = '100000000000777';
const PHONE = '112356789045671';
const MAYA = { wa_id: '15550199001', user_id: 'US.60418273950617283945' };
const DIEGO = { wa_id: '15550199002', user_id: 'US.71529384061728394056' };
const TEXT_WAMID = 'wamid.HBgLMTU1NTAxOTkwMDEVAgASGBQwMTMwMUI0MDkwNTZBRUYxMThFNAA=';
const READ_WAMID = 'wamid.HBgLMTU1NTAxOTkwMDEVAgARGBJBMTU2MUQ5QzlGMDc1OUY3REQA';
const FAILED_WAMID = 'wamid.HBgLMTU1NTAxOTkwNzEVAgARGBIwMUQ2REIyM0Q3NkZDOEVFMkUA';
const TEMPLATE_A = '1480293746152038';
const TEMPLATE_B = '1513749260318847';
const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

/** One inbound text on WABA C from a generated contact, signed like Meta would. */
function inbound(n: number, seq: number, text = `hello ${n}`) {
  const from = `1555300${String(n).padStart(4, '0')}`;
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: WABA_C,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550140000', phone_number_id: '199999999999999' },
              contacts: [{ profile: { name: `Contact ${n}` }, wa_id: from }],
              messages: [{ from, id: `wamid.gen.${n}.${seq}`, timestamp: String(1_781_600_000 + seq), type: 'text', text: { body: text } }],
            },
          },
        ],
      },
    ],
  });
  return { body, signature: signBody(body, FIXTURE_SECRET) };
}

describe('REST API for pollers', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let api: OpenApiChecker;
  let mongo: MongoClient;
  let offset = 0;
  const clock = { now: () => new Date(Date.now() + offset) };
  const keys: Record<'A' | 'B' | 'C', string> = { A: '', B: '', C: '' };
  const accounts: Record<'A' | 'B' | 'C', string> = { A: '', B: '', C: '' };
  let seq = 0;

  const get = (path: string, key: string, headers: Record<string, string> = {}) =>
    api.call('GET', `${system.url}${path}`, { key, headers });
  const admin = (method: string, path: string, body?: unknown, token = ADMIN) =>
    api.call(method, `${system.url}${path}`, { key: token, body });
  const send = async (n: number, text?: string) => {
    const m = inbound(n, (seq += 1), text);
    expect((await postWebhook(system.url, m.body, { 'x-hub-signature-256': m.signature })).status).toBe(200);
  };
  /** Every page of a list, following next_cursor; `between` runs after each page. */
  async function allPages(path: string, key: string, between: (page: number) => Promise<void> = async () => {}) {
    const pages: ApiResponse[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res: ApiResponse = await get(`${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`, key);
      expect(res.status).toBe(200);
      pages.push(res);
      cursor = res.json.next_cursor;
      await between(pages.length);
    } while (cursor);
    return { pages, items: pages.flatMap((p) => p.json.data as Record<string, any>[]), last: pages[pages.length - 1]!.json };
  }

  beforeAll(async () => {
    env = testEnv({ ADMIN_TOKEN: ADMIN, API_CHANGE_SETTLE_MS: '300' });
    system = await startSystem({ config: env.config, roles: [...ROLES], log: env.log, clock });
    api = await openApiChecker(system.url);
    for (const [name, waba] of [
      ['A', WABA_A],
      ['B', WABA_B],
      ['C', WABA_C],
    ] as const) {
      const acc = await admin('POST', '/api/admin/accounts', { name: `Tenant ${name}` });
      expect(acc.status).toBe(201);
      accounts[name] = acc.json.id;
      expect((await admin('POST', `/api/admin/accounts/${acc.json.id}/wabas`, { waba_id: waba })).status).toBe(200);
      const key = await admin('POST', `/api/admin/accounts/${acc.json.id}/keys`);
      expect(key.status).toBe(201);
      keys[name] = key.json.key;
    }
    mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
    // The sending side records a broadcast's recipients (and the wamids Meta accepted) before the statuses arrive.
    await createBroadcastStore(mongo.db()).recordRecipients([
      {
        _id: 'rcp_1',
        broadcast_id: 'bc_june',
        waba_id: WABA_A,
        wa_id: MAYA.wa_id,
        user_id: null,
        wamid: READ_WAMID,
        status: 'pending',
        skip_reason: null,
        skipped_at: null,
      },
      {
        _id: 'rcp_2',
        broadcast_id: 'bc_june',
        waba_id: WABA_A,
        wa_id: '15550199071',
        user_id: null,
        wamid: FAILED_WAMID,
        status: 'pending',
        skip_reason: null,
        skipped_at: null,
      },
      {
        _id: 'rcp_3',
        broadcast_id: 'bc_june',
        waba_id: WABA_A,
        wa_id: DIEGO.wa_id,
        user_id: null,
        wamid: null,
        status: 'pending',
        skip_reason: null,
        skipped_at: null,
      },
      {
        _id: 'rcp_4',
        broadcast_id: 'bc_june',
        waba_id: WABA_A,
        wa_id: '15550199099',
        user_id: null,
        wamid: null,
        status: 'pending',
        skip_reason: null,
        skipped_at: null,
      },
    ]);
    // Every fixture but the opt-back-in, which a later test sends.
    for (const f of fixtures().filter((x) => x.file !== 'user-preferences.resume.json'))
      expect((await postFixture(system.url, f)).status).toBe(200);
    for (let n = 0; n < 25; n++) await send(n);
    await waitForActors(env.config);
  }, 180_000);

  afterAll(async () => {
    await mongo?.close();
    await system?.stop();
    await env?.cleanup();
  });

  test('the OpenAPI document is valid OpenAPI 3.1 and names every route with its parameters', async () => {
    expect((await api.call('GET', `${system.url}/api/openapi.json`)).json).toEqual(api.doc);
    expect(api.doc).toMatchObject({ openapi: '3.1.0' });
    const ops = api.operations().map((o) => `${o.method.toUpperCase()} ${o.path}`);
    for (const path of [
      '/api/thread/list',
      '/api/thread/{id}',
      '/api/thread/{id}/messages',
      '/api/whatsapp/window',
      '/api/notification/{id}',
      '/api/template/list',
      '/api/template/{id}',
      '/api/contact/{id}',
      '/api/broadcast/{id}',
      '/api/openapi.json',
    ]) {
      expect(ops).toContain(`GET ${path}`);
    }
  });

  test("thread/list: the tenant's threads, newest message first, with contact, unread count and window", async () => {
    const { items } = await allPages('/api/thread/list?limit=100', keys.A);
    expect(items.length).toBeGreaterThan(1);
    expect(items.every((t) => t['waba_id'] === WABA_A)).toBe(true);
    const times = items.map((t) => t['last_message_at'] ?? '');
    expect(times).toEqual([...times].sort().reverse());
    const maya = items.find((t) => t['contact'].wa_id === MAYA.wa_id && t['phone_number_id'] === PHONE)!;
    expect(maya.contact).toMatchObject({ name: 'Maya Okafor', user_id: MAYA.user_id, opted_out_at: null });
    expect(maya.unread_count).toBeGreaterThan(0);
    expect(Date.parse(maya.window_expires_at) - Date.parse(maya.last_inbound_at)).toBe(24 * 3600 * 1000);
  });

  test("thread/{id}/messages: the conversation, oldest first, with Meta's message as content", async () => {
    const list = await get('/api/thread/list?limit=100', keys.A);
    const maya = list.json.data.find((t: any) => t.contact.wa_id === MAYA.wa_id && t.phone_number_id === PHONE);
    const { items } = await allPages(`/api/thread/${maya.id}/messages?limit=3`, keys.A);
    expect(items.length).toBeGreaterThan(3);
    expect(items.every((m) => m['thread_id'] === maya.id)).toBe(true);
    const stamps = items.map((m) => m['timestamp']);
    expect(stamps).toEqual([...stamps].sort());
    expect(new Set(items.map((m) => m['id'])).size).toBe(items.length);
    const text = items.find((m) => m['wamid'] === TEXT_WAMID)!;
    expect(text).toMatchObject({
      direction: 'inbound',
      type: 'text',
      text: 'Hi! Do you have any openings for a cleaning next week?',
      from: MAYA.wa_id,
      timestamp: iso(1781514060),
    });
    expect(text['content']).toMatchObject({
      id: TEXT_WAMID,
      type: 'text',
      text: { body: 'Hi! Do you have any openings for a cleaning next week?' },
    });
    expect(maya.last_message_at).toBe(stamps[stamps.length - 1]);
    // The thread by its id: what the list shows.
    expect((await get(`/api/thread/${maya.id}`, keys.A)).json).toEqual(maya);
  });

  test("notification/{id}: an outbound message's delivery state by wamid or EchoCue id, failure with Meta's code", async () => {
    const failed = await get(`/api/notification/${encodeURIComponent(FAILED_WAMID)}`, keys.A);
    expect(failed.status).toBe(200);
    expect(failed.json).toMatchObject({
      wamid: FAILED_WAMID,
      delivery_status: 'failed',
      recipient: { wa_id: '15550199071' },
      error: { code: 131026, title: 'Message undeliverable' },
    });
    const read = await get(`/api/notification/${encodeURIComponent(READ_WAMID)}`, keys.A);
    expect(read.json).toMatchObject({
      delivery_status: 'read',
      error: null,
      biz_opaque_callback_data: 'echocue:msg:6651f0a2c9e4',
      pricing: { billable: false, pricing_model: 'PMP' },
    });
    expect(read.json.status_history.map((h: any) => h.status)).toEqual(['sent', 'delivered', 'read']);
    const byId = await get(`/api/notification/${read.json.id}`, keys.A);
    expect(byId.json).toEqual(read.json);
    // An inbound message is not a notification.
    expect((await get(`/api/notification/${encodeURIComponent(TEXT_WAMID)}`, keys.A)).status).toBe(404);
  });

  test('template/list and template/{id}: status, quality, category; filters by status', async () => {
    const { items } = await allPages('/api/template/list?limit=2', keys.A);
    const approved = items.find((t) => t['template_id'] === TEMPLATE_A)!;
    expect(approved).toMatchObject({
      name: 'appointment_reminder_v2',
      language: 'en_US',
      whatsapp_status: 'approved',
      broadcastable: true,
      category: 'UTILITY',
    });
    const onlyApproved = await get('/api/template/list?status=approved', keys.A);
    expect(onlyApproved.json.data.length).toBeGreaterThan(0);
    expect(onlyApproved.json.data.every((t: any) => t.whatsapp_status === 'approved')).toBe(true);
    expect(onlyApproved.json.data.length).toBeLessThan(items.length);
    expect((await get(`/api/template/${TEMPLATE_A}`, keys.A)).json).toEqual(approved);
    expect((await get(`/api/template/${approved['id']}`, keys.A)).json).toEqual(approved);
    const red = await get(`/api/template/${TEMPLATE_B}`, keys.B);
    expect(red.json).toMatchObject({ whatsapp_quality_rating: 'RED', previous_quality_rating: 'YELLOW', name: 'june_service_promo' });
    const byQuality = await get('/api/template/list?quality=RED', keys.B);
    expect(byQuality.json.data.map((t: any) => t.template_id)).toEqual([TEMPLATE_B]);
  });

  test('contact/{id}: by wa_id, business-scoped user id or EchoCue id, with both opt-out levels', async () => {
    const byWa = await get(`/api/contact/${DIEGO.wa_id}`, keys.A);
    expect(byWa.status).toBe(200);
    expect(byWa.json).toMatchObject({
      wa_id: DIEGO.wa_id,
      user_id: DIEGO.user_id,
      opted_out_at: null,
      marketing_opted_out_at: iso(1781523000),
      needs_review: null,
    });
    expect(byWa.json.consent).toEqual([
      { at: iso(1781523000), value: 'stop', scope: 'marketing', source: 'user_preferences', category: 'marketing_messages' },
    ]);
    // Nothing to review: clearing is harmless and answers the contact as it is.
    const cleared = await api.call('POST', `${system.url}/api/contact/${DIEGO.wa_id}/review/clear`, { key: keys.A });
    expect(cleared.status).toBe(200);
    expect(cleared.json).toMatchObject({ id: byWa.json.id, needs_review: null });
    expect((await api.call('POST', `${system.url}/api/contact/${DIEGO.wa_id}/review/clear`, { key: keys.B })).status).toBe(404); // another tenant
    expect((await get(`/api/contact/${DIEGO.user_id}`, keys.A)).json).toEqual(byWa.json);
    expect((await get(`/api/contact/${byWa.json.id}`, keys.A)).json).toEqual(byWa.json);
  });

  test('whatsapp/window: open until the newest user message + 24 h, closed after, closed for strangers', async () => {
    const thread = (await get('/api/thread/list?limit=100', keys.A)).json.data.find(
      (t: any) => t.contact.wa_id === MAYA.wa_id && t.phone_number_id === PHONE,
    );
    const lastInbound = Date.parse(thread.last_inbound_at);
    try {
      offset = lastInbound + 3600_000 - Date.now();
      const open = await get(`/api/whatsapp/window?phone_number_id=${PHONE}&contact=${MAYA.wa_id}`, keys.A);
      expect(open.json).toEqual({
        phone_number_id: PHONE,
        contact_id: thread.contact.id,
        thread_id: thread.id,
        open: true,
        expires_at: thread.window_expires_at,
        last_inbound_at: thread.last_inbound_at,
      });
      offset = lastInbound + 25 * 3600_000 - Date.now();
      const closed = await get(`/api/whatsapp/window?phone_number_id=${PHONE}&contact=${MAYA.user_id}`, keys.A);
      expect(closed.json).toMatchObject({ open: false, expires_at: thread.window_expires_at });
    } finally {
      offset = 0;
    }
    const stranger = await get(`/api/whatsapp/window?phone_number_id=${PHONE}&contact=15559999999`, keys.A);
    expect(stranger.json).toEqual({
      phone_number_id: PHONE,
      contact_id: null,
      thread_id: null,
      open: false,
      expires_at: null,
      last_inbound_at: null,
    });
    expect((await get('/api/whatsapp/window?contact=15559999999', keys.A)).json.error.details).toEqual({
      parameter: 'phone_number_id',
      in: 'query',
    });
  });

  test('broadcast/{id}: recipients with their states and counts; opted-out contacts skipped', async () => {
    const { pages, items } = await allPages('/api/broadcast/bc_june?limit=3', keys.A);
    expect(pages).toHaveLength(2);
    expect(pages[0]!.json.counts).toEqual({ total: 4, pending: 1, sent: 0, delivered: 0, read: 1, failed: 1, skipped: 1 });
    expect(Object.fromEntries(items.map((r) => [r['id'], r['status']]))).toEqual({
      rcp_1: 'read',
      rcp_2: 'failed',
      rcp_3: 'skipped',
      rcp_4: 'pending',
    });
    expect(items.find((r) => r['id'] === 'rcp_2')!['error']).toMatchObject({ code: 131026 });
    expect(items.find((r) => r['id'] === 'rcp_3')!['skip_reason']).toBe('marketing_opted_out:user_preferences');
    expect((await get('/api/broadcast/bc_unknown', keys.A)).status).toBe(404);
  });

  test("another tenant's thread, messages, notification, template, contact or broadcast is 404, like a missing id", async () => {
    const thread = (await get('/api/thread/list', keys.A)).json.data[0];
    const template = (await get(`/api/template/${TEMPLATE_A}`, keys.A)).json;
    const contact = (await get(`/api/contact/${DIEGO.wa_id}`, keys.A)).json;
    const notification = (await get(`/api/notification/${encodeURIComponent(READ_WAMID)}`, keys.A)).json;
    const cases: [string, string][] = [
      [`/api/thread/${thread.id}`, '/api/thread/thr_doesnotexist'],
      [`/api/thread/${thread.id}/messages`, '/api/thread/thr_doesnotexist/messages'],
      [`/api/notification/${encodeURIComponent(READ_WAMID)}`, '/api/notification/wamid.doesnotexist'],
      [`/api/notification/${notification.id}`, '/api/notification/msg_doesnotexist'],
      [`/api/template/${TEMPLATE_A}`, '/api/template/999999999999'],
      [`/api/template/${template.id}`, '/api/template/tpl_doesnotexist'],
      [`/api/contact/${DIEGO.wa_id}`, '/api/contact/15559999999'],
      [`/api/contact/${contact.id}`, '/api/contact/con_doesnotexist'],
      ['/api/broadcast/bc_june', '/api/broadcast/bc_doesnotexist'],
    ];
    for (const [theirs, missing] of cases) {
      const other = await get(theirs, keys.B);
      const none = await get(missing, keys.B);
      expect([theirs, other.status, other.json.error.code]).toEqual([theirs, 404, 'EC_NOT_FOUND']);
      expect(Object.keys(other.json.error)).toEqual(Object.keys(none.json.error));
      expect(none.status).toBe(404);
    }
    // Lists and the window only ever show the caller's own data.
    const theirThreads = await allPages('/api/thread/list?limit=100', keys.B);
    expect(theirThreads.items.length).toBeGreaterThan(0);
    expect(theirThreads.items.every((t) => t['waba_id'] === WABA_B)).toBe(true);
    expect((await allPages('/api/template/list?limit=100', keys.B)).items.every((t) => t['waba_id'] === WABA_B)).toBe(true);
    expect((await get(`/api/whatsapp/window?phone_number_id=${PHONE}&contact=${MAYA.wa_id}`, keys.B)).json.contact_id).toBeNull();
  });

  test('pagination with concurrent inserts: every thread once, nothing skipped or repeated, in both orders', async () => {
    const before = (await allPages('/api/thread/list?limit=100', keys.C)).items.map((t) => t['id'] as string);
    expect(before).toHaveLength(25);
    let next = 100;
    const insert = async () => {
      await send(next++);
      await send(next++);
      await waitForActors(env.config);
    };
    // Inbox order: new threads land on top, before the cursor.
    const recent = await allPages('/api/thread/list?limit=4', keys.C, async (page) => {
      if (page % 2 === 1) await insert();
    });
    const recentIds = recent.items.map((t) => t['id'] as string);
    expect(new Set(recentIds).size).toBe(recentIds.length);
    expect(recentIds.filter((id) => before.includes(id)).sort()).toEqual([...before].sort());
    // Change order: new threads land after the cursor, so this pass sees them too.
    const inserted = next;
    const changes = await allPages('/api/thread/list?limit=4&updated_since=2000-01-01T00:00:00Z', keys.C, async (page) => {
      if (page <= 3) await insert();
    });
    const changeIds = changes.items.map((t) => t['id'] as string);
    expect(new Set(changeIds).size).toBe(changeIds.length);
    const now = (await allPages('/api/thread/list?limit=100', keys.C)).items.map((t) => t['id'] as string);
    expect(now).toHaveLength(25 + (next - 100));
    expect([...changeIds].sort()).toEqual([...now].sort());
    const updated = changes.items.map((t) => t['updated_at'] as string);
    expect(updated).toEqual([...updated].sort());
    expect(inserted).toBeGreaterThan(100);
  });

  test("updated_since: a poll returns only what changed since the last poll's watermark; unchanged polls get 304", async () => {
    const first = await allPages('/api/thread/list?limit=10&updated_since=2000-01-01T00:00:00Z', keys.C);
    await new Promise((r) => setTimeout(r, 400)); // past API_CHANGE_SETTLE_MS: the watermark now depends on the data only
    const settled = await allPages('/api/thread/list?limit=10&updated_since=2000-01-01T00:00:00Z', keys.C);
    const watermark: string = settled.last.next_updated_since;
    expect(Date.parse(watermark)).toBe(Math.max(...first.items.map((t) => Date.parse(t['updated_at']))));

    const quiet = await get(`/api/thread/list?updated_since=${watermark}`, keys.C);
    expect(quiet.json.data.every((t: any) => t.updated_at >= watermark)).toBe(true);
    const again = await get(`/api/thread/list?updated_since=${watermark}`, keys.C, { 'if-none-match': quiet.headers.get('etag')! });
    expect(again.status).toBe(304);

    await send(3, 'one more thing');
    await waitForActors(env.config);
    const changed = await get(`/api/thread/list?updated_since=${watermark}`, keys.C, { 'if-none-match': quiet.headers.get('etag')! });
    expect(changed.status).toBe(200);
    const three = changed.json.data.find((t: any) => t.contact.wa_id === '15553000003');
    expect(three).toMatchObject({ unread_count: 2 });
    expect(changed.json.data.some((t: any) => t.contact.wa_id === '15553000004')).toBe(false);
    expect(changed.headers.get('etag')).not.toBe(quiet.headers.get('etag'));

    // The messages of a thread poll the same way.
    const msgs = await get(`/api/thread/${three.id}/messages?updated_since=${watermark}`, keys.C);
    expect(msgs.json.data.map((m: any) => m.text)).toEqual(['one more thing']);
    // Opting back in changes the contact and its thread: both show up as changed.
    const contactBefore = await get(`/api/contact/${DIEGO.wa_id}`, keys.A);
    const resume = fixtures().find((f) => f.file === 'user-preferences.resume.json')!;
    expect((await postFixture(system.url, resume)).status).toBe(200);
    await waitForActors(env.config);
    const contactAfter = await get(`/api/contact/${DIEGO.wa_id}`, keys.A, { 'if-none-match': contactBefore.headers.get('etag')! });
    expect(contactAfter.status).toBe(200);
    expect(contactAfter.json).toMatchObject({ opted_out_at: null, marketing_opted_out_at: null });
    const diegoThreads = await get(`/api/thread/list?updated_since=${contactBefore.json.updated_at}`, keys.A);
    expect(diegoThreads.json.data.map((t: any) => t.contact.wa_id)).toContain(DIEGO.wa_id);
  });

  test('ETag and 304 on every read', async () => {
    const thread = (await get('/api/thread/list', keys.A)).json.data[0];
    for (const path of [
      '/api/thread/list',
      `/api/thread/${thread.id}/messages`,
      `/api/notification/${encodeURIComponent(READ_WAMID)}`,
      '/api/template/list',
      `/api/template/${TEMPLATE_A}`,
      `/api/contact/${DIEGO.wa_id}`,
      '/api/broadcast/bc_june',
      `/api/whatsapp/window?phone_number_id=${PHONE}&contact=${MAYA.wa_id}`,
    ]) {
      const first = await get(path, keys.A);
      const tag = first.headers.get('etag');
      expect([path, tag]).toEqual([path, expect.stringMatching(/^W\/"/)]);
      const second = await get(path, keys.A, { 'if-none-match': tag! });
      expect([path, second.status, second.text]).toEqual([path, 304, '']);
      expect(second.headers.get('ratelimit-remaining')).not.toBeNull();
    }
  });

  test('bad parameters are 400 naming the parameter', async () => {
    const cases: [string, string][] = [
      ['/api/thread/list?limit=0', 'limit'],
      ['/api/thread/list?limit=101', 'limit'],
      ['/api/thread/list?limit=ten', 'limit'],
      ['/api/thread/list?unread=maybe', 'unread'],
      ['/api/thread/list?updated_since=yesterday', 'updated_since'],
      ['/api/thread/list?updatedSince=2026-01-01T00:00:00Z', 'updatedSince'],
      ['/api/thread/list?cursor=garbage', 'cursor'],
      ['/api/template/list?status=APPROVED', 'status'],
      ['/api/template/list?limit=1&limit=2', 'limit'],
    ];
    for (const [path, parameter] of cases) {
      const res = await get(path, keys.A);
      expect([path, res.status, res.json.error.code, res.json.error.details?.parameter]).toEqual([path, 400, 'EC_BAD_REQUEST', parameter]);
      expect(res.json.error.message).toContain(parameter);
    }
    // A cursor only works with the query that made it.
    const page = await get('/api/template/list?limit=1', keys.A);
    const other = await get(`/api/thread/list?limit=1&cursor=${page.json.next_cursor}`, keys.A);
    expect([other.status, other.json.error.details]).toEqual([400, { parameter: 'cursor', in: 'query' }]);
    // A forged cursor (right fingerprint, wrong key or times) is a 400 too, never a 500.
    const real = JSON.parse(Buffer.from(page.json.next_cursor, 'base64url').toString());
    for (const forged of [
      { ...real, k: ['x'] },
      { ...real, r: -1e300 },
      { ...real, k: [{ $d: 'soon' }, 1, 'a'] },
      { ...real, m: 'x' },
    ]) {
      const res = await get(`/api/template/list?limit=1&cursor=${Buffer.from(JSON.stringify(forged)).toString('base64url')}`, keys.A);
      expect([res.status, res.json.error.details?.parameter]).toEqual([400, 'cursor']);
    }
  });

  test('unread filter', async () => {
    const unread = await allPages('/api/thread/list?unread=true&limit=100', keys.C);
    expect(unread.items.length).toBeGreaterThan(0);
    expect(unread.items.every((t) => t['unread_count'] > 0)).toBe(true);
    expect((await get('/api/thread/list?unread=false&limit=100', keys.C)).json.data).toEqual([]);
  });

  test('keys: missing or unknown 401, revoked 401 on the next request; stored only as a hash, secret encrypted', async () => {
    expect((await api.call('GET', `${system.url}/api/thread/list`)).status).toBe(401);
    expect((await get('/api/thread/list', 'eck_unknown')).json.error.code).toBe('EC_UNAUTHENTICATED');
    const made = await admin('POST', `/api/admin/accounts/${accounts.A}/keys`);
    expect((await get('/api/thread/list', made.json.key)).status).toBe(200);
    const revoked = await admin('DELETE', `/api/admin/accounts/${accounts.A}/keys/${made.json.id}`);
    expect(revoked.json).toMatchObject({ id: made.json.id, revoked_at: expect.any(String) });
    expect((await get('/api/thread/list', made.json.key)).status).toBe(401);
    const listed = await admin('GET', `/api/admin/accounts/${accounts.A}/keys`);
    expect(listed.json.data.map((k: any) => k.id)).toContain(made.json.id);
    expect(JSON.stringify(listed.json)).not.toContain(made.json.key);
    const stored = JSON.stringify(
      await mongo
        .db()
        .collection('ec_api_key')
        .findOne({ _id: made.json.id as never }),
    );
    expect(stored).not.toContain(made.json.key);
    expect(stored).not.toContain(made.json.signing_secret);
    const store = createAccountStore(mongo.db(), createSecretBox(env.config.secrets.masterKeys));
    expect(await store.liveSigningSecret(made.json.id)).toBeNull(); // revoked
    const live = await admin('POST', `/api/admin/accounts/${accounts.A}/keys`);
    expect(await store.liveSigningSecret(live.json.id)).toBe(live.json.signing_secret);
  });

  test('admin API: token required, clear errors', async () => {
    expect((await admin('POST', '/api/admin/accounts', { name: 'x' }, 'not-the-admin-token')).status).toBe(401);
    expect((await admin('POST', '/api/admin/accounts', { name: 'x' }, keys.A)).status).toBe(401);
    const bad = await admin('POST', `/api/admin/accounts/${accounts.A}/wabas`, { waba_id: 'abc' });
    expect([bad.status, bad.json.error.details]).toEqual([400, { parameter: 'waba_id' }]);
    expect((await admin('POST', '/api/admin/accounts', {})).json.error.details).toEqual({ parameter: 'name', in: 'body' });
    expect((await admin('POST', '/api/admin/accounts/acc_nope/keys')).status).toBe(404);
    const account = await admin('GET', `/api/admin/accounts/${accounts.A}`);
    expect(account.json).toMatchObject({ id: accounts.A, name: 'Tenant A', waba_ids: [WABA_A] });
  });

  test('rate limit per key: RateLimit-* headers, then 429 with Retry-After; other keys unaffected; admin disabled without a token', async () => {
    const limitedEnv = {
      ...env,
      config: {
        ...env.config,
        http: { ...env.config.http },
        api: { ...env.config.api, adminToken: null, rateLimit: { points: 3, windowSeconds: 60 } },
      },
    };
    const limited = await startSystem({ config: limitedEnv.config, roles: ['api'], log: env.log });
    try {
      const call = (key: string) => api.call('GET', `${limited.url}/api/template/list`, { key });
      const remaining: (string | null)[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await call(keys.B);
        expect(res.status).toBe(200);
        expect(res.headers.get('ratelimit-limit')).toBe('3');
        remaining.push(res.headers.get('ratelimit-remaining'));
      }
      expect(remaining).toEqual(['2', '1', '0']);
      const over = await call(keys.B);
      expect(over.status).toBe(429);
      expect(over.json.error.code).toBe('EC_RATE_LIMITED');
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(over.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
      expect((await call(keys.C)).status).toBe(200);
      const disabled = await api.call('GET', `${limited.url}/api/admin/accounts/${accounts.A}`, { key: ADMIN });
      expect([disabled.status, disabled.json.error.code]).toEqual([403, 'EC_ADMIN_DISABLED']);
    } finally {
      await limited.stop();
    }
  });

  test('every documented operation was exercised and answered as documented (webhooks: test/e2e/webhooks.test.ts; markThreadRead: test/e2e/thread-read.test.ts; sending and creating broadcasts: test/e2e/sending.test.ts, broadcasts.test.ts)', () => {
    const elsewhere = new Set(['markThreadRead', 'createBroadcast', 'createAudience']);
    const missing = api
      .operations()
      .filter((o) => o.tag !== 'webhooks' && o.tag !== 'sending' && !elsewhere.has(o.operationId) && !api.seen.get(o.operationId)?.size);
    expect(missing).toEqual([]);
  });
});
