// Broadcasts end to end (issue 15): EchoCue's ingest, actors and API in this process, the broadcast sender in a real
// `echocue serve --role delivery` child that is SIGKILLed midway, and a fake of Meta's Graph API on loopback that
// posts signed status webhooks back to our ingest. A broadcast of 1,000 recipients with 50 opted out (some on
// another WABA of the account) sends 950 exactly once through a kill, rate-limit answers and a restart, and its
// counts match the statuses the fake sent; a STOP mid-broadcast is honoured, and a template paused mid-broadcast
// stops it.
import { type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { deterministicId } from '../../src/core/ids.ts';
import { recipientIdOf } from '../../src/store/doc-ids.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { createTenant } from '../../harness/load/tenant.ts';
import { waitForActors } from '../../harness/topics.ts';
import { PAIR_RATE_LIMIT, RATE_LIMIT, startFakeGraph, type FakeGraph } from '../../harness/fake-graph.ts';
import { FIXTURE_SECRET, testEnv, waitFor, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { marketingStopBody, nowSeconds, templateStatusBody, textBody } from '../helpers/meta-bodies.ts';
import { exited, explainedBy, serveProcess } from '../helpers/process.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';

const ADMIN = 'admin-token-for-broadcast-tests';
const APP_ID = '4455667799';
const WABA = '100000000001601';
const PHONE = '199999999991601';
const WABA2 = '100000000001602';
const PHONE2 = '199999999991602';
const now = nowSeconds;
const wa = (n: number) => `1555960${String(n).padStart(4, '0')}`;
const EVERYONE = Array.from({ length: 1000 }, (_, i) => wa(i));
// 25 STOPs on this WABA, 5 on the account's other WABA, 20 marketing opt-outs (Meta's user_preferences).
const STOPPED = EVERYONE.filter((_, i) => i % 20 === 0 && i < 600); // 30
const MARKETING_STOPPED = EVERYONE.filter((_, i) => i % 20 === 10 && i < 400); // 20
const OPTED_OUT = new Set([...STOPPED, ...MARKETING_STOPPED]);
/** What Meta reports for each recipient: every 13th fails as undeliverable, every 3rd is read, the rest delivered. */
const finalStatus = (to: string) => (Number(to) % 13 === 0 ? 'failed' : Number(to) % 3 === 0 ? 'read' : 'delivered');

const text = (waba: string, phone: string, from: string, body: string, seconds: number) =>
  textBody({ waba, phone, from, wamid: `wamid.bc.${from}.${seconds}.${body}`, seconds, text: body });
const templateStatus = (event: string, id: number, name: string, category: string) =>
  templateStatusBody(WABA, { event, id, name, category });
const marketingStop = (who: string) => marketingStopBody(WABA, PHONE, who);

describe('broadcasts', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let graph: FakeGraph;
  let api: OpenApiChecker;
  let tenant: { accountId: string; key: string };
  let sender: ChildProcess | undefined;

  const post = async (b: string) =>
    expect((await postWebhook(system.url, b, { 'x-hub-signature-256': signBody(b, FIXTURE_SECRET) })).status).toBe(200);
  const startSender = () =>
    serveProcess(env, 'delivery', {
      META_APP_ID: APP_ID,
      META_GRAPH_URL: graph.url,
      BROADCAST_MESSAGES_PER_SECOND: '100',
      BROADCAST_IN_DOUBT_SECONDS: '3',
    });
  const create = (key: string, body: unknown) =>
    api.call('POST', `${system.url}/api/broadcasts`, { key: tenant.key, body, headers: { 'idempotency-key': key } });
  const broadcast = async (id: string, query = '') => {
    const res = await api.call('GET', `${system.url}/api/broadcast/${id}${query}`, { key: tenant.key });
    expect(res.status).toBe(200);
    return res.json;
  };
  const sentOf = (template: string) => graph.sent.filter((s) => s.body['template']?.name === template);
  /** The broadcast's id, as EchoCue derives it from the account and the Idempotency-Key. */
  const idOf = (key: string) => deterministicId('brd', tenant.accountId, key);

  beforeAll(async () => {
    graph = await startFakeGraph({ appId: APP_ID, appSecret: FIXTURE_SECRET });
    graph.planStatuses((to) =>
      finalStatus(to) === 'failed'
        ? [{ status: 'failed', code: 131026, title: 'Message undeliverable' }]
        : finalStatus(to) === 'read'
          ? [{ status: 'sent' }, { status: 'delivered' }, { status: 'read' }]
          : [{ status: 'sent' }, { status: 'delivered' }],
    );
    env = testEnv({ ADMIN_TOKEN: ADMIN, META_APP_ID: APP_ID, META_GRAPH_URL: graph.url, TENANCY_REFRESH_MS: '200' });
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log: env.log });
    graph.setWebhookUrl(`${system.url}/v1/whatsapp/webhook`);
    api = await openApiChecker(system.url);
    tenant = await createTenant(system.url, ADMIN, [WABA2]);
    const business = graph.addBusiness(WABA, [{ id: PHONE, display: '15550001601' }]);
    const signup = await api.call('POST', `${system.url}/api/signup`, {
      key: tenant.key,
      body: { code: business.code, waba_id: WABA, phone_number_id: PHONE },
    });
    expect([signup.status, signup.json.state]).toEqual([200, 'connected']);
    await post(templateStatus('APPROVED', 9001601, 'spring_sale', 'MARKETING'));
    await post(templateStatus('APPROVED', 9001602, 'order_update', 'UTILITY'));
    // The opt-outs: typed STOPs (5 of them to the account's other WABA), and Meta's marketing preference.
    for (const [i, who] of STOPPED.entries())
      await post(i < 5 ? text(WABA2, PHONE2, who, 'STOP', now() - 600) : text(WABA, PHONE, who, 'STOP', now() - 600));
    for (const who of MARKETING_STOPPED) await post(marketingStop(who));
    await waitForActors(env.config);
  }, 180_000);
  afterAll(async () => {
    sender?.kill('SIGKILL');
    if (sender) await exited(sender);
    await graph?.close();
    await system?.stop();
    await env?.cleanup();
  });

  test('1,000 recipients, 50 opted out: 950 sent exactly once through a SIGKILL of the sender, counts as the status webhooks say', async () => {
    const body = { phone_number_id: PHONE, template: { name: 'spring_sale', language: 'en_US' }, recipients: EVERYONE };
    const created = await create('spring-2026', body);
    expect(created.status).toBe(202);
    expect(created.json).toMatchObject({ id: idOf('spring-2026'), state: 'sending', counts: { total: 1000, skipped: 50, pending: 950 } });
    // A retried call is the same broadcast; the same key with another request is refused.
    const retried = await create('spring-2026', body);
    expect([retried.status, retried.json.id, retried.json.counts.total]).toEqual([202, created.json.id, 1000]);
    const other = await create('spring-2026', { ...body, recipients: EVERYONE.slice(0, 10) });
    expect([other.status, other.json.error.details.reason]).toEqual([409, 'idempotency_key_reused']);

    // Meta answers a few sends with its rate limits: they wait and go again.
    graph.fail('messages', RATE_LIMIT, 3);
    graph.fail('messages', PAIR_RATE_LIMIT, 1);
    sender = startSender();
    await explainedBy(sender, () => waitFor(async () => (sentOf('spring_sale').length >= 300 ? true : undefined), 120_000, '300 sends'));
    sender.kill('SIGKILL');
    await exited(sender);
    const atKill = sentOf('spring_sale').length;
    expect(atKill).toBeLessThan(950);
    sender = startSender();
    const id = created.json.id as string;
    await explainedBy(sender, () =>
      waitFor(async () => ((await broadcast(id)).state === 'done' ? true : undefined), 180_000, 'every recipient sent or skipped'),
    );

    const sent = sentOf('spring_sale');
    expect(sent.length).toBe(950);
    expect(new Set(sent.map((s) => s.to)).size).toBe(950);
    expect(sent.filter((s) => OPTED_OUT.has(s.to))).toEqual([]);
    expect(sent.every((s) => s.phoneNumberId === PHONE && s.body['biz_opaque_callback_data'] === recipientIdOf(id, s.to))).toBe(true);

    // The counts follow the status webhooks the fake posted (each message's last status).
    await graph.settle();
    const last = new Map<string, string>();
    for (const p of graph.posted) last.set(p.wamid, p.status);
    const expected = { sent: 0, delivered: 0, read: 0, failed: 0 };
    for (const s of sent) expected[last.get(s.wamid) as keyof typeof expected] += 1;
    expect(expected.failed).toBe(sent.filter((s) => finalStatus(s.to) === 'failed').length);
    await waitFor(
      async () => {
        await waitForActors(env.config);
        const c = (await broadcast(id)).counts;
        return c.delivered === expected.delivered && c.read === expected.read && c.failed === expected.failed ? c : undefined;
      },
      60_000,
      'the counts to follow the status webhooks',
    );
    const final = await broadcast(id);
    expect(final).toMatchObject({ state: 'done', counts: { total: 1000, pending: 0, skipped: 50, ...expected } });

    // Every recipient once, a page at a time; the skipped ones say why.
    const seen: Record<string, any>[] = [];
    for (let cursor: string | null = null, pages = 0; ; pages++) {
      const page = await broadcast(id, `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      seen.push(...page.data);
      cursor = page.next_cursor;
      if (!cursor) {
        expect(pages + 1).toBe(10);
        break;
      }
    }
    expect(new Set(seen.map((r) => r['wa_id'])).size).toBe(1000);
    const skipped = seen.filter((r) => r['status'] === 'skipped');
    expect(Object.fromEntries(skipped.map((r) => [r['wa_id'], r['skip_reason']]))).toEqual(
      Object.fromEntries([...STOPPED.map((w) => [w, 'opted_out']), ...MARKETING_STOPPED.map((w) => [w, 'marketing_opted_out'])]),
    );
    const failed = seen.find((r) => r['status'] === 'failed')!;
    expect(failed['error']).toMatchObject({ code: 131026 });
  }, 300_000);

  test('a STOP mid-broadcast skips that contact from then on; a template paused mid-broadcast stops the rest', async () => {
    sender ??= startSender();
    const key = 'order-update-2026';
    const id = idOf(key);
    const list = EVERYONE.filter((w) => !OPTED_OUT.has(w)).slice(0, 800);
    // The sender goes through the recipients roughly in id order: the one at position 400 writes STOP after 30 sends.
    const order = [...list].sort((a, b) => (recipientIdOf(id, a) < recipientIdOf(id, b) ? -1 : 1));
    const late = order[400]!;
    // No status webhooks this time: the actors apply the STOP and the pause at once, not behind thousands of statuses.
    graph.planStatuses(() => []);
    const sentBefore = sentOf('order_update').length;
    const created = await create(key, { phone_number_id: PHONE, template: { name: 'order_update', language: 'en_US' }, recipients: list });
    expect([created.status, created.json.counts.pending]).toEqual([202, 800]);
    await waitFor(async () => (sentOf('order_update').length - sentBefore >= 30 ? true : undefined), 120_000, '30 sends');
    await post(text(WABA, PHONE, late, 'STOP', now()));
    await waitFor(async () => (sentOf('order_update').length - sentBefore >= 450 ? true : undefined), 120_000, '450 sends');
    await post(templateStatus('PAUSED', 9001602, 'order_update', 'UTILITY'));
    await waitFor(async () => ((await broadcast(id)).state !== 'sending' ? true : undefined), 120_000, 'the broadcast to end');

    const sent = sentOf('order_update').slice(sentBefore);
    expect(sent.map((s) => s.to)).not.toContain(late);
    expect(new Set(sent.map((s) => s.to)).size).toBe(sent.length);
    expect(sent.length).toBeLessThan(799);
    const result = await broadcast(id);
    expect(result).toMatchObject({ state: 'stopped', stopped_reason: 'template_paused' });
    const all: Record<string, any>[] = [];
    for (let cursor: string | null = null; ;) {
      const page = await broadcast(id, `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      all.push(...page.data);
      if (!(cursor = page.next_cursor)) break;
    }
    expect(all.find((r) => r['wa_id'] === late)).toMatchObject({ status: 'skipped', skip_reason: expect.stringMatching(/^opted_out/) });
    const stopped = all.filter((r) => r['skip_reason'] === 'broadcast_stopped:template_paused');
    expect(stopped.length).toBe(800 - sent.length - 1);
    expect(result.counts.skipped).toBe(stopped.length + 1);
  }, 240_000);

  test('bad calls are clear errors and create nothing', async () => {
    const ok = { phone_number_id: PHONE, template: { name: 'spring_sale', language: 'en_US' }, recipients: [wa(1)] };
    const cases: [unknown, number, string][] = [
      [{ ...ok, recipients: [] }, 400, 'recipients'],
      [{ ...ok, recipients: ['+1555'] }, 400, 'recipients.0'],
      [{ phone_number_id: PHONE, template: ok.template }, 400, 'recipients'],
      [{ ...ok, audience_id: 'aud_x' }, 400, 'recipients'],
      [{ ...ok, template: { name: 'order_update', language: 'en_US' } }, 422, 'template_not_approved'],
      [{ ...ok, template: { name: 'nope', language: 'en_US' } }, 422, 'template_unknown'],
      [{ ...ok, phone_number_id: '199999999990000' }, 422, 'not_connected'],
    ];
    for (const [i, [body, status, what]] of cases.entries()) {
      const res = await create(`bad-${i}`, body);
      if (!res.json.error) throw new Error(`${JSON.stringify(body).slice(0, 80)} answered ${res.status} ${JSON.stringify(res.json)}`);
      const named = status === 400 ? res.json.error.details.parameter : res.json.error.details.reason;
      expect([JSON.stringify(body).slice(0, 80), res.status, named]).toEqual([JSON.stringify(body).slice(0, 80), status, what]);
      expect((await api.call('GET', `${system.url}/api/broadcast/${idOf(`bad-${i}`)}`, { key: tenant.key })).status).toBe(404);
    }
    const noKey = await api.call('POST', `${system.url}/api/broadcasts`, { key: tenant.key, body: ok });
    expect([noKey.status, noKey.json.error.details.parameter]).toEqual([400, 'idempotency-key']);
    // A saved audience is a list to broadcast to; another account's audience is unknown.
    const audience = await api.call('POST', `${system.url}/api/audiences`, {
      key: tenant.key,
      body: { name: 'VIPs', wa_ids: [wa(1), wa(2), wa(1)] },
    });
    expect([audience.status, audience.json.size]).toEqual([201, 2]);
    const stranger = await createTenant(system.url, ADMIN, []);
    const foreign = await api.call('POST', `${system.url}/api/broadcasts`, {
      key: stranger.key,
      body: { phone_number_id: PHONE, template: ok.template, audience_id: audience.json.id },
      headers: { 'idempotency-key': 'foreign' },
    });
    expect(foreign.status).toBe(404);
    const paused = await create('vip', { phone_number_id: PHONE, template: ok.template, audience_id: audience.json.id });
    expect([paused.status, paused.json.counts.total]).toEqual([202, 2]);
  });

  test('every broadcast operation was exercised and answered as documented', () => {
    const ops = ['createBroadcast', 'createAudience', 'getBroadcast'];
    expect(ops.filter((id) => !api.operations().some((o) => o.operationId === id))).toEqual([]);
    expect(ops.filter((id) => !api.seen.get(id)?.size)).toEqual([]);
  });
});
