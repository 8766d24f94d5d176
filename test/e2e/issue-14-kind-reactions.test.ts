// Issue 14, rules 4 and 8, end to end: hand-made Meta bodies, signed, through HTTP ingest, Kafka, the actors and the
// store, read back through the REST API (every answer checked against the served OpenAPI document). Every message
// has a kind from one list; a message shows its current reactions (added, changed, removed, in Meta's time order,
// whatever the arrival order, the target stored before or after); a redelivery of everything changes nothing.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { FIXTURE_SECRET, testEnv, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';
import { actorDocuments } from '../helpers/store-dump.ts';
import { waitForActors } from '../../harness/topics.ts';
import { messagesValue, webhookBody } from '../../harness/load/bodies.ts';

const ADMIN = 'admin-token-for-the-issue-14-kind-and-reaction-tests';
const WABA = '555140008';
const PHONE = '112356789045671';
const ANA = { wa_id: '15550140001', user_id: 'US.1400010000000000001', name: 'Ana' };
const BEN = { wa_id: '15550140002', user_id: 'US.1400020000000000002', name: 'Ben' };
const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

type Json = Record<string, unknown>;
const messages = (who: typeof ANA, items: Json[]) =>
  webhookBody(WABA, [
    messagesValue(PHONE, {
      contacts: [{ profile: { name: who.name }, wa_id: who.wa_id, user_id: who.user_id }],
      messages: items.map((m) => ({ from: who.wa_id, from_user_id: who.user_id, ...m })),
    }),
  ]);
let n = 0;
/** A reaction; no emoji: a removal as Meta sends it. */
const reaction = (who: typeof ANA, target: string, ts: number, emoji?: string) =>
  messages(who, [
    {
      id: `wamid.e2e.reaction.${(n += 1)}`,
      timestamp: String(ts),
      type: 'reaction',
      reaction: { message_id: target, ...(emoji === undefined ? {} : { emoji }) },
    },
  ]);
const text = (who: typeof ANA, wamid: string, ts: number, body: string) =>
  messages(who, [{ id: wamid, timestamp: String(ts), type: 'text', text: { body } }]);
const sent = (to: typeof ANA, wamid: string, ts: number) =>
  webhookBody(WABA, [
    messagesValue(PHONE, {
      statuses: [{ id: wamid, status: 'sent', timestamp: String(ts), recipient_id: to.wa_id, recipient_user_id: to.user_id }],
    }),
  ]);

const TEXT = 'wamid.e2e.text';
const OUT_ANA = 'wamid.e2e.out.ana';
const OUT_BEN = 'wamid.e2e.out.ben';

/** In the order Meta delivers them here: a reaction before the message it is on; a late older add after a removal. */
const BODIES = [
  reaction(ANA, TEXT, 1781700100, '🙏'),
  text(ANA, TEXT, 1781700000, 'Can I move my appointment?'),
  sent(ANA, OUT_ANA, 1781700200),
  reaction(ANA, OUT_ANA, 1781700300, '👍'),
  reaction(ANA, OUT_ANA, 1781700400, '❤️'), // changed
  sent(BEN, OUT_BEN, 1781700210),
  reaction(BEN, OUT_BEN, 1781700310, '😂'),
  reaction(BEN, OUT_BEN, 1781700500), // removed: no emoji
  reaction(BEN, OUT_BEN, 1781700450, '🔥'), // older than the removal, arriving after it: stays removed
  messages(ANA, [{ id: 'wamid.e2e.holo', timestamp: '1781700600', type: 'hologram', hologram: { depth: 3 } }]),
  text(BEN, 'wamid.e2e.stop', 1781700700, 'STOP'),
];

describe('issue 14 > message kinds and reactions, end to end', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let api: OpenApiChecker;
  let key = '';

  const get = (path: string) => api.call('GET', `${system.url}${path}`, { key });
  const admin = (method: string, path: string, body?: unknown) => api.call(method, `${system.url}${path}`, { key: ADMIN, body });
  const postAll = async (bodies: readonly string[]) => {
    for (const body of bodies) {
      const res = await postWebhook(system.url, body, { 'x-hub-signature-256': signBody(body, FIXTURE_SECRET) });
      expect(res.status, res.text).toBe(200);
    }
    await waitForActors(env.config, 90_000);
  };
  const threadOf = async (who: typeof ANA) => {
    const list = await get('/api/thread/list?limit=100');
    expect(list.status).toBe(200);
    return list.json.data.find((t: any) => t.contact.wa_id === who.wa_id);
  };
  const threadMessages = async (who: typeof ANA) => {
    const res = await get(`/api/thread/${(await threadOf(who)).id}/messages?limit=100`);
    expect(res.status).toBe(200);
    return res.json.data as Record<string, any>[];
  };

  beforeAll(async () => {
    env = testEnv({ ADMIN_TOKEN: ADMIN, API_CHANGE_SETTLE_MS: '300' });
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log: env.log });
    api = await openApiChecker(system.url);
    const account = await admin('POST', '/api/admin/accounts', { name: 'Reactions clinic' });
    expect((await admin('POST', `/api/admin/accounts/${account.json.id}/wabas`, { waba_id: WABA })).status).toBe(200);
    key = (await admin('POST', `/api/admin/accounts/${account.json.id}/keys`)).json.key;
    await postAll(BODIES);
  }, 180_000);

  afterAll(async () => {
    await system?.stop();
    await env?.cleanup();
  });

  test('every message has a kind: Meta types as themselves, a new type unknown (raw type and content kept), an opt-out entry consent', async () => {
    const ana = await threadMessages(ANA);
    expect(ana.map((m) => [m['wamid'], m['type'], m['kind']])).toEqual([
      [TEXT, 'text', 'text'],
      ['wamid.e2e.reaction.1', 'reaction', 'reaction'],
      ['wamid.e2e.reaction.2', 'reaction', 'reaction'],
      ['wamid.e2e.reaction.3', 'reaction', 'reaction'],
      ['wamid.e2e.holo', 'hologram', 'unknown'],
    ]);
    expect(ana.find((m) => m['wamid'] === 'wamid.e2e.holo')!['content']).toMatchObject({ type: 'hologram', hologram: { depth: 3 } });
    const ben = await threadMessages(BEN);
    expect(ben.filter((m) => m['direction'] === 'system').map((m) => [m['type'], m['kind']])).toEqual([['consent.stop', 'consent']]);
    expect(ben.find((m) => m['wamid'] === 'wamid.e2e.stop')!['kind']).toBe('text');
  });

  test('the OpenAPI document lists the kinds as an enum', async () => {
    const doc = (await api.call('GET', `${system.url}/api/openapi.json`)).json;
    const kind = doc.components.schemas.Message.properties.kind;
    expect(kind.enum).toEqual(expect.arrayContaining(['text', 'reaction', 'system', 'consent', 'placeholder', 'unknown']));
    expect(kind.description).toContain('unknown');
  });

  test('a reaction that arrived before its message is on the message', async () => {
    const msg = (await threadMessages(ANA)).find((m) => m['wamid'] === TEXT)!;
    expect(msg).toMatchObject({ direction: 'inbound', text: 'Can I move my appointment?', kind: 'text' });
    expect(msg['reactions']).toEqual([{ emoji: '🙏', from: ANA.wa_id, from_user_id: ANA.user_id, at: iso(1781700100) }]);
    // The reaction messages themselves carry no reactions.
    expect((await threadMessages(ANA)).filter((m) => m['kind'] === 'reaction').every((m) => m['reactions'].length === 0)).toBe(true);
  });

  test('outbound messages: a changed reaction shows the newest; a removed one is gone, and a late older add does not bring it back', async () => {
    const ana = await get(`/api/notification/${encodeURIComponent(OUT_ANA)}`);
    expect(ana.status).toBe(200);
    expect(ana.json.reactions).toEqual([{ emoji: '❤️', from: ANA.wa_id, from_user_id: ANA.user_id, at: iso(1781700400) }]);
    const ben = await get(`/api/notification/${encodeURIComponent(OUT_BEN)}`);
    expect(ben.json).toMatchObject({ delivery_status: 'sent', reactions: [] });
  });

  test(
    'everything delivered again, in reverse order, changes nothing (documents byte for byte, API answers equal)',
    { timeout: 180_000 },
    async () => {
      const before = await actorDocuments(env.config.mongo.uri, { withStamps: true });
      const answers = async () => [
        await threadMessages(ANA),
        await threadMessages(BEN),
        (await get(`/api/notification/${encodeURIComponent(OUT_ANA)}`)).json,
      ];
      const apiBefore = await answers();
      await postAll([...BODIES].reverse());
      expect(await actorDocuments(env.config.mongo.uri, { withStamps: true })).toEqual(before);
      expect(await answers()).toEqual(apiBefore);
    },
  );
});
