// Consent and reachability through HTTP ingest and the REST API (issue 14, rules 1, 3 and 7): two levels of opt-out,
// each resumed by its own kind of event; a 131050 failure as a marketing opt-out; an unreachable recipient visible
// as a contact until it writes; profiles from every contacts block, never blanked; pending broadcast recipients
// skipped by level.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { createBroadcastStore } from '../../src/store/broadcasts.ts';
import { FIXTURE_SECRET, testEnv, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';
import { waitForActors } from '../../harness/topics.ts';

const ADMIN = 'admin-token-for-consent-tests';
const WABA = '100000000000881';
const PHONE = '199999999999881';
const T0 = 1_781_700_000;
const ANA = '15554000001';
const BEN = '15554000002';
const CARL = '15554000003';
const DORA = '15554000004';

type Value = Record<string, unknown>;
const body = (field: string, value: Value) =>
  JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: WABA,
        changes: [
          {
            field,
            value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550148800', phone_number_id: PHONE }, ...value },
          },
        ],
      },
    ],
  });
const text = (from: string, n: number, textBody: string, name?: string) =>
  body('messages', {
    contacts: [{ wa_id: from, ...(name ? { profile: { name } } : {}) }],
    messages: [{ from, id: `wamid.consent.${from}.${n}`, timestamp: String(T0 + n), type: 'text', text: { body: textBody } }],
  });
const preference = (waId: string, n: number, value: 'stop' | 'resume', name?: string) =>
  body('user_preferences', {
    contacts: [{ wa_id: waId, ...(name ? { profile: { name } } : {}) }],
    user_preferences: [
      { wa_id: waId, detail: `User requested to ${value} marketing messages`, category: 'marketing_messages', value, timestamp: T0 + n },
    ],
  });
const status = (recipient: string, n: number, s: string, extra: Value = {}) =>
  body('messages', {
    statuses: [{ id: `wamid.out.${recipient}.${n}`, status: s, timestamp: String(T0 + n), recipient_id: recipient, ...extra }],
  });
const failure = (code: number, title: string) => ({ errors: [{ code, title, message: title, error_data: { details: title } }] });

describe('contacts > consent levels and reachability', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let api: OpenApiChecker;
  let key = '';
  let mongo: MongoClient;

  const post = async (b: string) =>
    expect((await postWebhook(system.url, b, { 'x-hub-signature-256': signBody(b, FIXTURE_SECRET) })).status).toBe(200);
  const contact = async (id: string) => {
    await waitForActors(env.config);
    const res = await api.call('GET', `${system.url}/api/contact/${id}`, { key });
    expect(res.status).toBe(200);
    return res.json;
  };

  beforeAll(async () => {
    env = testEnv({ ADMIN_TOKEN: ADMIN });
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log: env.log });
    api = await openApiChecker(system.url);
    const acc = await api.call('POST', `${system.url}/api/admin/accounts`, { key: ADMIN, body: { name: 'Consent clinic' } });
    await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/wabas`, { key: ADMIN, body: { waba_id: WABA } });
    key = (await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/keys`, { key: ADMIN })).json.key;
    mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
  }, 120_000);
  afterAll(async () => {
    await mongo?.close();
    await system?.stop();
    await env?.cleanup();
  });

  test('marketing stop and global stop are separate, each resumed only by its own kind of event', async () => {
    await post(text(ANA, 1, 'hi there', 'Ana'));
    await post(preference(ANA, 2, 'stop'));
    expect(await contact(ANA)).toMatchObject({
      name: 'Ana',
      opted_out_at: null,
      marketing_opted_out_at: new Date((T0 + 2) * 1000).toISOString(),
    });
    await post(text(ANA, 3, 'STOP'));
    await post(text(ANA, 4, 'start')); // resumes the global level only
    const afterKeywords = await contact(ANA);
    expect(afterKeywords).toMatchObject({ opted_out_at: null, marketing_opted_out_at: new Date((T0 + 2) * 1000).toISOString() });
    expect(afterKeywords.consent.map((e: any) => [e.value, e.scope, e.source])).toEqual([
      ['stop', 'marketing', 'user_preferences'],
      ['stop', 'all', 'keyword'],
      ['resume', 'all', 'keyword'],
    ]);
    await post(text(ANA, 5, 'Unsubscribe!'));
    await post(preference(ANA, 6, 'resume')); // resumes marketing only
    expect(await contact(ANA)).toMatchObject({ opted_out_at: new Date((T0 + 5) * 1000).toISOString(), marketing_opted_out_at: null });
  });

  test('a marketing message failing with 131050 opts the recipient out of marketing (a new contact), and skips only its marketing broadcasts', async () => {
    await createBroadcastStore(mongo.db()).recordRecipients([
      {
        _id: 'rcp_mkt',
        broadcast_id: 'bc_promo',
        waba_id: WABA,
        wa_id: BEN,
        user_id: null,
        wamid: null,
        status: 'pending',
        skip_reason: null,
        skipped_at: null,
        template_category: 'MARKETING',
      },
      {
        _id: 'rcp_util',
        broadcast_id: 'bc_reminder',
        waba_id: WABA,
        wa_id: BEN,
        user_id: null,
        wamid: null,
        status: 'pending',
        skip_reason: null,
        skipped_at: null,
        template_category: 'UTILITY',
      },
    ]);
    await post(
      status(
        BEN,
        10,
        'failed',
        failure(
          131050,
          'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
        ),
      ),
    );
    expect(await contact(BEN)).toMatchObject({
      wa_id: BEN,
      opted_out_at: null,
      marketing_opted_out_at: new Date((T0 + 10) * 1000).toISOString(),
      consent: [{ value: 'stop', scope: 'marketing', source: 'status_131050' }],
    });
    const recipients = mongo.db().collection('ec_broadcast_recipient');
    expect(await recipients.findOne({ _id: 'rcp_mkt' as never })).toMatchObject({
      status: 'skipped',
      skip_reason: 'marketing_opted_out:status_131050',
    });
    expect(await recipients.findOne({ _id: 'rcp_util' as never })).toMatchObject({ status: 'pending' });
    // A global stop skips the utility broadcast too.
    await post(text(BEN, 11, 'stop'));
    await waitForActors(env.config);
    expect(await recipients.findOne({ _id: 'rcp_util' as never })).toMatchObject({ status: 'skipped', skip_reason: 'opted_out:keyword' });
  });

  test('a 131026 failure shows the recipient unreachable until it writes; a failure that is not about the user does not', async () => {
    await post(status(CARL, 20, 'failed', failure(131047, 'Re-engagement message')));
    expect((await contact(CARL)).unreachable).toBeNull();
    await post(status(CARL, 21, 'failed', failure(131026, 'Message undeliverable')));
    expect((await contact(CARL)).unreachable).toEqual({
      code: 131026,
      title: 'Message undeliverable',
      at: new Date((T0 + 21) * 1000).toISOString(),
      wamid: `wamid.out.${CARL}.21`,
    });
    await post(text(CARL, 22, 'hello?'));
    expect((await contact(CARL)).unreachable).toBeNull();
  });

  test('every contacts block updates the profile when it has one; a block or event without it leaves it as it is', async () => {
    await post(status(ANA, 30, 'delivered', {}));
    expect((await contact(ANA)).name).toBe('Ana');
    await post(
      body('messages', {
        contacts: [{ wa_id: ANA, profile: { name: 'Ana Lima', username: 'analima' } }],
        statuses: [{ id: `wamid.out.${ANA}.31`, status: 'read', timestamp: String(T0 + 31), recipient_id: ANA }],
      }),
    );
    expect(await contact(ANA)).toMatchObject({ name: 'Ana Lima', username: 'analima' });
    await post(text(ANA, 32, 'thanks')); // no profile in its contacts block
    expect(await contact(ANA)).toMatchObject({ name: 'Ana Lima', username: 'analima' });
    await post(preference(ANA, 33, 'stop'));
    expect(await contact(ANA)).toMatchObject({ name: 'Ana Lima', username: 'analima' });
    await post(preference(ANA, 34, 'resume', 'Ana L.'));
    expect(await contact(ANA)).toMatchObject({ name: 'Ana L.', username: 'analima' });
  });

  test('near misses opt nobody out and flag the contact for a person; the API clears the flag; a later one flags again', async () => {
    await post(text(DORA, 40, 'hello'));
    for (const [n, t] of [
      [41, 'stop sending me promos please'],
      [42, "Please don't stop the reminders"],
      [43, 'can I unsubscribe from the newsletter?'],
    ] as const)
      await post(text(DORA, n, t));
    const flagged = await contact(DORA);
    expect(flagged).toMatchObject({ opted_out_at: null, marketing_opted_out_at: null, consent: [] });
    expect(flagged.needs_review).toEqual({
      reason: 'stop_keyword_near_miss',
      text: 'can I unsubscribe from the newsletter?',
      wamid: `wamid.consent.${DORA}.43`,
      at: new Date((T0 + 43) * 1000).toISOString(),
    });
    const cleared = await api.call('POST', `${system.url}/api/contact/${DORA}/review/clear`, { key });
    expect(cleared.status).toBe(200);
    expect(cleared.json.needs_review).toBeNull();
    expect((await contact(DORA)).needs_review).toBeNull();
    expect((await api.call('POST', `${system.url}/api/contact/${DORA}/review/clear`, { key })).status).toBe(200); // idempotent
    await post(text(DORA, 44, 'STOP the spam'));
    expect((await contact(DORA)).needs_review).toMatchObject({ wamid: `wamid.consent.${DORA}.44` });
    expect((await api.call('POST', `${system.url}/api/contact/15559999999/review/clear`, { key })).status).toBe(404);
  });
});
