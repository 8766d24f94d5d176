// Every actor effect end to end: signed webhooks through HTTP ingest, real Kafka, the actors, the real store.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { FIXTURE_SECRET, fixture, testEnv, type TestEnv } from '../helpers/env.ts';
import { postFixture, postWebhook } from '../helpers/http.ts';
import { readTopic } from '../../harness/kafka.ts';
import { waitForActors } from '../../harness/topics.ts';
import { topicNames } from '../../src/events/topics.ts';

const A = '104719385562013';
const PHONE_A = '112356789045671';

type Json = Record<string, unknown>;
const envelope = (wabaId: string, field: string, value: Json, time?: number) =>
  JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: wabaId, ...(time ? { time } : {}), changes: [{ field, value }] }] });
const inboundText = (wabaId: string, wamid: string, from: string, ts: number, body: string, name = 'Test User') =>
  envelope(wabaId, 'messages', {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '15550142277', phone_number_id: PHONE_A },
    contacts: [{ profile: { name }, wa_id: from }],
    messages: [{ from, id: wamid, timestamp: String(ts), type: 'text', text: { body } }],
  });
const statusBody = (wabaId: string, wamid: string, status: string, ts: number, extra: Json = {}) =>
  envelope(wabaId, 'messages', {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '15550142277', phone_number_id: PHONE_A },
    statuses: [{ id: wamid, status, timestamp: String(ts), recipient_id: '15550100001', ...extra }],
  });

describe('actors > end to end through ingest and the real store', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let mongo: MongoClient;
  let db: Db;

  const post = async (body: string) => {
    const res = await postWebhook(system.url, body, { 'x-hub-signature-256': signBody(body, FIXTURE_SECRET) });
    expect(res.status, res.text).toBe(200);
  };
  const settle = () => waitForActors(env.config);
  const one = async (collection: string, filter: Json) => {
    const docs = await db.collection(collection).find(filter).toArray();
    expect(docs, `${collection} ${JSON.stringify(filter)}`).toHaveLength(1);
    return docs[0] as Json & Record<string, any>;
  };

  beforeAll(async () => {
    env = testEnv();
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors'], log: env.log });
    mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
    db = mongo.db();
  });
  afterAll(async () => {
    await mongo?.close();
    await system?.stop();
    await env?.cleanup();
  });

  describe('message.inbound', () => {
    test('stores each message once per WABA + wamid, every type, unknown types as such', async () => {
      for (const f of [
        'messages.text.json',
        'messages.image.json',
        'messages.reaction.json',
        'messages.unsupported.json',
        'messages.order.json',
      ]) {
        expect((await postFixture(system.url, fixture(f))).status).toBe(200);
      }
      expect((await postFixture(system.url, fixture('messages.text.json'))).status).toBe(200); // Meta's duplicate
      await post(
        envelope(A, 'messages', {
          metadata: { phone_number_id: PHONE_A },
          contacts: [{ wa_id: '15550100009' }],
          messages: [{ from: '15550100009', id: 'wamid.holo', timestamp: '1781514100', type: 'hologram', hologram: { depth: 3 } }],
        }),
      );
      await settle();
      expect(
        await db.collection('ec_message').countDocuments({ wamid: 'wamid.HBgLMTU1NTAxOTkwMDEVAgASGBQwMTMwMUI0MDkwNTZBRUYxMThFNAA=' }),
      ).toBe(1);
      const types = (await db.collection('ec_message').find({ direction: 'inbound' }).toArray()).map((m) => m['type']).sort();
      expect(types).toEqual(['hologram', 'image', 'order', 'reaction', 'text', 'unsupported']);
      const holo = await one('ec_message', { wamid: 'wamid.holo' });
      expect(JSON.parse(holo['raw'])).toMatchObject({ hologram: { depth: 3 } });
      expect((await one('ec_message', { type: 'unsupported' }))['errors']).toMatchObject([{ code: 131051 }]);
    });

    test('upserts the thread: last message, unread +1 only for new messages, the 24-hour window from the user timestamp', async () => {
      const wabaId = '555100001';
      await post(inboundText(wabaId, 'wamid.t1', '15550100001', 1781514000, 'first', 'Ana'));
      await post(inboundText(wabaId, 'wamid.t2', '15550100001', 1781517600, 'second', 'Ana B.'));
      await post(inboundText(wabaId, 'wamid.t1', '15550100001', 1781514000, 'first', 'Ana')); // duplicate, late
      await settle();
      const thread = await one('ec_thread', { waba_id: wabaId });
      expect(thread).toMatchObject({
        phone_number_id: PHONE_A,
        unread_count: 2,
        last_message_at: new Date(1781517600_000),
        window_expires_at: new Date((1781517600 + 86400) * 1000),
        contact: { wa_id: '15550100001', name: 'Ana B.' },
      });
      const contact = await one('ec_contact', { waba_id: wabaId });
      expect(contact['aliases']).toEqual(['wa:15550100001']);
      expect(thread['contact_id']).toBe(contact['_id']);
    });

    test('a system message does not open the window; a username-only user gets a contact and a thread', async () => {
      expect((await postFixture(system.url, fixture('messages.text-bsuid-only.json'))).status).toBe(200);
      await settle();
      const tom = await one('ec_contact', { aliases: 'uid:US.93741506283940516278' });
      expect(tom).toMatchObject({ wa_id: null, username: '@tom.v', name: 'Tom V.' });
      expect(await one('ec_thread', { contact_id: tom['_id'] })).toMatchObject({
        unread_count: 1,
        window_expires_at: new Date((1781514075 + 86400) * 1000),
      });

      const wabaId = '555100002';
      await post(
        envelope(wabaId, 'messages', {
          metadata: { phone_number_id: PHONE_A },
          messages: [
            {
              from: '15550100002',
              id: 'wamid.sys',
              timestamp: '1781519000',
              type: 'system',
              system: { body: 'changed', wa_id: '15550100003', type: 'user_changed_number' },
            },
          ],
        }),
      );
      await settle();
      expect(await one('ec_thread', { waba_id: wabaId })).toMatchObject({
        window_expires_at: null,
        last_message_at: new Date(1781519000_000),
      });
    });

    test('a number change keeps the history: both numbers are one contact and one thread', async () => {
      const wabaId = '555100003';
      await post(inboundText(wabaId, 'wamid.old1', '15550100004', 1781514000, 'from the old number'));
      await post(
        envelope(wabaId, 'messages', {
          metadata: { phone_number_id: PHONE_A },
          messages: [
            {
              from: '15550100004',
              id: 'wamid.sys2',
              timestamp: '1781519000',
              type: 'system',
              system: { body: 'User changed from …04 to …05', wa_id: '15550100005', type: 'user_changed_number' },
            },
          ],
        }),
      );
      await post(inboundText(wabaId, 'wamid.new1', '15550100005', 1781520000, 'from the new number'));
      await settle();
      const contact = await one('ec_contact', { waba_id: wabaId });
      expect(contact).toMatchObject({ aliases: ['wa:15550100004', 'wa:15550100005'], wa_id: '15550100005' });
      const thread = await one('ec_thread', { waba_id: wabaId });
      const msgs = await db.collection('ec_message').find({ thread_id: thread['_id'] }).sort({ timestamp: 1 }).toArray();
      expect(msgs.map((m) => m['wamid'])).toEqual(['wamid.old1', 'wamid.sys2', 'wamid.new1']);
      expect(thread['unread_count']).toBe(2); // the system notice is history, not an unread message
    });
  });

  describe('message.status', () => {
    test('moves forward only: read, then a late delivered and sent, ends read with one history entry each', async () => {
      const wabaId = '555200001';
      await post(statusBody(wabaId, 'wamid.out1', 'read', 1781514415));
      await post(
        statusBody(wabaId, 'wamid.out1', 'delivered', 1781514402, {
          pricing: { billable: false, pricing_model: 'PMP', type: 'free_customer_service', category: 'service' },
        }),
      );
      await post(statusBody(wabaId, 'wamid.out1', 'sent', 1781514400));
      await post(statusBody(wabaId, 'wamid.out1', 'delivered', 1781514402)); // duplicate
      await settle();
      const msg = await one('ec_message', { wamid: 'wamid.out1' });
      expect(msg).toMatchObject({
        direction: 'outbound',
        placeholder: true,
        delivery_status: 'read',
        whatsapp_status: 'read',
        pricing: { category: 'service' },
      });
      expect(msg['status_history'].map((h: Json) => [h['status'], h['at']])).toEqual([
        ['sent', new Date(1781514400_000)],
        ['delivered', new Date(1781514402_000)],
        ['read', new Date(1781514415_000)],
      ]);
    });

    test('delivered may never come: read alone is read; played for voice', async () => {
      const wabaId = '555200002';
      await post(statusBody(wabaId, 'wamid.out2', 'sent', 1781514400));
      await post(statusBody(wabaId, 'wamid.out2', 'read', 1781514500));
      expect((await postFixture(system.url, fixture('statuses.played.json'))).status).toBe(200);
      await settle();
      expect(await one('ec_message', { wamid: 'wamid.out2' })).toMatchObject({ delivery_status: 'read' });
      expect(await one('ec_message', { wamid: 'wamid.HBgLMTU1NTAxOTkwMDIVAgARGBJBNTEwRTYxN0NGMUZCMkQ0QjIA' })).toMatchObject({
        delivery_status: 'played',
      });
    });

    test('failed keeps Meta error code, title and details; a 131050 failure does not opt the contact out', async () => {
      expect((await postFixture(system.url, fixture('statuses.failed-131026.json'))).status).toBe(200);
      const wabaId = '555200003';
      await post(inboundText(wabaId, 'wamid.in131050', '15550100001', 1781514000, 'hello'));
      await post(
        statusBody(wabaId, 'wamid.out131050', 'failed', 1781514600, {
          errors: [
            {
              code: 131050,
              title:
                'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
              error_data: { details: 'stopped marketing' },
            },
          ],
        }),
      );
      await settle();
      expect(await one('ec_message', { wamid: 'wamid.HBgLMTU1NTAxOTkwNzEVAgARGBIwMUQ2REIyM0Q3NkZDOEVFMkUA' })).toMatchObject({
        delivery_status: 'failed',
        error: { code: 131026, title: 'Message undeliverable', details: 'Message Undeliverable.' },
      });
      expect(await one('ec_message', { wamid: 'wamid.out131050' })).toMatchObject({ delivery_status: 'failed', error: { code: 131050 } });
      expect(await one('ec_contact', { waba_id: wabaId })).toMatchObject({ opted_out_at: null });
    });
  });

  describe('template.status / quality / category / components', () => {
    test('an older event never overwrites a newer one; quality, category and components are kept', async () => {
      expect((await postFixture(system.url, fixture('template-status.disabled.json'))).status).toBe(200); // t=1781521500
      expect((await postFixture(system.url, fixture('template-status.paused.json'))).status).toBe(200); // t=1781521400, older
      expect((await postFixture(system.url, fixture('template-quality.red.json'))).status).toBe(200);
      expect((await postFixture(system.url, fixture('template-status.pending-deletion.json'))).status).toBe(200);
      expect((await postFixture(system.url, fixture('template-category.changed.json'))).status).toBe(200);
      expect((await postFixture(system.url, fixture('template-components.updated.json'))).status).toBe(200);
      await settle();
      expect(await one('ec_template', { template_id: '1513749260318847' })).toMatchObject({
        whatsapp_status: 'disabled',
        last_event: 'DISABLED',
        broadcastable: false,
        whatsapp_quality_rating: 'RED',
        previous_quality_rating: 'YELLOW',
      });
      expect(await one('ec_template', { template_id: '1277304958812665' })).toMatchObject({
        whatsapp_status: 'pending_deletion',
        status_reason: null,
      });
      expect(await one('ec_template', { template_id: '1306652841197023' })).toMatchObject({
        category: 'MARKETING',
        pending_category: null,
      });
      expect(await one('ec_template', { template_id: '1480293746152038' })).toMatchObject({
        components: { title: 'Appointment reminder', footer: 'Lumen Dental Studio' },
      });
    });

    test('pending -> approved makes a template broadcastable; extra events: LOCKED, ARCHIVED/UNARCHIVED, REINSTATED', async () => {
      const wabaId = '555300001';
      const tpl = (event: string, time: number, reason: string | null = 'NONE') =>
        envelope(
          wabaId,
          'message_template_status_update',
          { event, message_template_id: 7001, message_template_name: 'promo', message_template_language: 'en_US', reason },
          time,
        );
      await post(tpl('PENDING', 100));
      await settle();
      expect(await one('ec_template', { waba_id: wabaId })).toMatchObject({ whatsapp_status: 'pending', broadcastable: false });
      await post(tpl('APPROVED', 200));
      await post(tpl('LOCKED', 250));
      await settle();
      expect(await one('ec_template', { waba_id: wabaId })).toMatchObject({
        whatsapp_status: 'approved',
        broadcastable: true,
        locked: true,
      });
      await post(tpl('UNARCHIVED', 400)); // arrives before the ARCHIVED it undoes
      await post(tpl('ARCHIVED', 300, null));
      await post(tpl('FLAGGED', 500));
      await settle();
      expect(await one('ec_template', { waba_id: wabaId })).toMatchObject({
        whatsapp_status: 'flagged',
        broadcastable: true,
        locked: true,
      });
      await post(tpl('REINSTATED', 600));
      await settle();
      const doc = await one('ec_template', { waba_id: wabaId });
      expect(doc).toMatchObject({ whatsapp_status: 'approved', last_event: 'REINSTATED' });
      expect(doc['status_events'].map((e: Json) => e['event'])).toEqual([
        'PENDING',
        'APPROVED',
        'LOCKED',
        'ARCHIVED',
        'UNARCHIVED',
        'FLAGGED',
        'REINSTATED',
      ]);
    });
  });

  describe('consent.event', () => {
    test('user_preferences stop: opted out of marketing only, a system entry on the thread, pending broadcasts skipped; resume clears it', async () => {
      await db.collection('ec_broadcast_recipient').insertMany([
        {
          _id: 'r1' as never,
          broadcast_id: 'b1',
          waba_id: A,
          wa_id: '15550199002',
          user_id: null,
          status: 'pending',
          skip_reason: null,
          skipped_at: null,
        },
        {
          _id: 'r2' as never,
          broadcast_id: 'b1',
          waba_id: A,
          wa_id: null,
          user_id: 'US.71529384061728394056',
          status: 'pending',
          skip_reason: null,
          skipped_at: null,
        },
        {
          _id: 'r3' as never,
          broadcast_id: 'b0',
          waba_id: A,
          wa_id: '15550199002',
          user_id: null,
          status: 'sent',
          skip_reason: null,
          skipped_at: null,
        },
        {
          _id: 'r4' as never,
          broadcast_id: 'b1',
          waba_id: A,
          wa_id: '15550199001',
          user_id: null,
          status: 'pending',
          skip_reason: null,
          skipped_at: null,
        },
      ]);
      expect((await postFixture(system.url, fixture('user-preferences.stop.json'))).status).toBe(200);
      await settle();
      const diego = await one('ec_contact', { aliases: 'wa:15550199002' });
      expect(diego).toMatchObject({ opted_out_at: null, marketing_opted_out_at: new Date(1781523000_000) });
      const thread = await one('ec_thread', { contact_id: diego['_id'] });
      expect(thread['contact']).toMatchObject({ opted_out_at: null, marketing_opted_out_at: new Date(1781523000_000) });
      expect(await one('ec_message', { thread_id: thread['_id'], direction: 'system' })).toMatchObject({
        type: 'consent.stop',
        text: 'User requested to stop marketing messages',
      });
      const recipients = Object.fromEntries(
        (await db.collection('ec_broadcast_recipient').find().toArray()).map((r) => [String(r['_id']), [r['status'], r['skip_reason']]]),
      );
      // No template_category recorded: treated as marketing, so skipped.
      expect(recipients).toEqual({
        r1: ['skipped', 'marketing_opted_out:user_preferences'],
        r2: ['skipped', 'marketing_opted_out:user_preferences'],
        r3: ['sent', null],
        r4: ['pending', null],
      });

      expect((await postFixture(system.url, fixture('user-preferences.resume.json'))).status).toBe(200);
      await settle();
      expect(await one('ec_contact', { aliases: 'wa:15550199002' })).toMatchObject({ opted_out_at: null, marketing_opted_out_at: null });
    });

    test('an inbound STOP (whole message, any case) opts out; "stop please" does not; START resumes', async () => {
      const wabaId = '555400001';
      await post(inboundText(wabaId, 'wamid.k0', '15550100011', 1781514000, 'please stop calling me'));
      await post(inboundText(wabaId, 'wamid.k1', '15550100011', 1781515000, '  Stop! '));
      await settle();
      const contact = await one('ec_contact', { waba_id: wabaId });
      expect(contact['opted_out_at']).toEqual(new Date(1781515000_000));
      expect(contact['consent']).toMatchObject([{ value: 'stop', source: 'keyword' }]);
      await post(inboundText(wabaId, 'wamid.k2', '15550100011', 1781516000, 'UNSUBSCRIBE'));
      await post(inboundText(wabaId, 'wamid.k3', '15550100011', 1781517000, 'start'));
      await settle();
      expect(await one('ec_contact', { waba_id: wabaId })).toMatchObject({ opted_out_at: null });
      expect(
        (await db.collection('ec_message').find({ waba_id: wabaId, direction: 'system' }).toArray()).map((m) => m['type']).sort(),
      ).toEqual(['consent.resume', 'consent.stop', 'consent.stop']);
    });
  });

  describe('account and identity events', () => {
    test('account_update, capability and throughput changes land on the WABA state; user_id_update adds aliases', async () => {
      for (const f of [
        'account-update.account-restriction.json',
        'business-capability-update.json',
        'phone-number-quality-update.json',
        'user-id-update.json',
      ]) {
        expect((await postFixture(system.url, fixture(f))).status).toBe(200);
      }
      await settle();
      expect((await one('ec_waba_state', { _id: '120554298871346' }))['restrictions']).toEqual([
        { type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expires_at: new Date(1782128800_000) },
      ]);
      // business_capability_update (TIER_10K, t=1781524100) is older than the throughput upgrade (TIER_UNLIMITED, t=1781524200).
      expect(await one('ec_waba_state', { _id: A })).toMatchObject({ messaging_limit: 'TIER_UNLIMITED', max_phone_numbers: 25 });
      const diego = await one('ec_contact', { aliases: 'uid:US.71529384061728390082' });
      expect(diego['aliases']).toEqual(
        expect.arrayContaining(['wa:15550199082', 'uid:US.71529384061728394056', 'uid:US.71529384061728390082']),
      );
    });
  });

  describe('dead letters', () => {
    test('an event that cannot be applied goes to the dead-letter topic with its reason; the partition keeps moving', async () => {
      const wabaId = '555500001';
      await post(
        envelope(wabaId, 'messages', {
          metadata: { phone_number_id: PHONE_A },
          messages: [{ id: 'wamid.nobody', timestamp: '1781514000', type: 'text', text: { body: 'who am I' } }],
        }),
      );
      await post(inboundText(wabaId, 'wamid.after', '15550100021', 1781514100, 'after the bad one'));
      await settle();
      expect(await db.collection('ec_message').countDocuments({ wamid: 'wamid.nobody' })).toBe(0);
      expect(await db.collection('ec_message').countDocuments({ wamid: 'wamid.after' })).toBe(1);
      const dead = (await readTopic(env.config, topicNames(env.config.kafka.topicPrefix).deadLetter)).filter((r) => r.key === wabaId);
      expect(dead).toHaveLength(1);
      expect(dead[0]!.headers).toMatchObject({
        'dlq-code': 'EC_EVENT_UNAPPLICABLE',
        'dlq-reason': 'inbound message without a sender (no from, from_user_id or contact)',
        event_type: 'message.inbound',
      });
      expect(await (await fetch(`${system.metricsUrl}/metrics`)).text()).toMatch(
        /echocue_actor_events_dead_lettered_total\{code="EC_EVENT_UNAPPLICABLE"\} 1/,
      );
    });
  });
});
