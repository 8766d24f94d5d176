import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { fixtures } from '../../test/helpers/env.ts';
import { MemoryActorStore } from '../../harness/memory-actor-store.ts';
import { parseJsonLossless } from '../ingest/parse-json.ts';
import { splitPayload } from '../ingest/split/split-payload.ts';
import { ACTOR_EVENT_TYPES, applyBatch, type DecodedEvent } from './apply.ts';
import { Session } from './session.ts';
import { StateCache } from './state-cache.ts';

const SENT_WAMID = 'wamid.HBgLMTU1NTAxOTkwMDEVAgARGBJBMTU2MUQ5QzlGMDc1OUY3REQA'; // outbound, known from its statuses
const TEXT_WAMID = 'wamid.HBgLMTU1NTAxOTkwMDEVAgASGBQwMTMwMUI0MDkwNTZBRUYxMThFNAA='; // Maya's inbound text
const MAYA = { wa_id: '15550199001', user_id: 'US.60418273950617283945', name: 'Maya Okafor' };
const DIEGO = { wa_id: '15550199002', user_id: 'US.71529384061728394056', name: 'Diego Ramírez' };

/** One reaction as Meta sends it (WABA A); no `emoji`: a removal as Meta sends it, '' the other removal shape. */
function reactionBody(n: number, who: typeof MAYA, target: string, ts: number, emoji?: string): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '104719385562013',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550142277', phone_number_id: '112356789045671' },
              contacts: [{ profile: { name: who.name }, wa_id: who.wa_id, user_id: who.user_id }],
              messages: [
                {
                  from: who.wa_id,
                  from_user_id: who.user_id,
                  id: `wamid.reaction.${n}`,
                  timestamp: String(ts),
                  type: 'reaction',
                  reaction: { message_id: target, ...(emoji === undefined ? {} : { emoji }) },
                },
              ],
            },
          },
        ],
      },
    ],
  });
}

/** Hand-made reactions beside the fixtures (issue 14, rule 8): added, changed and removed (both shapes), on an
 *  outbound placeholder, on an inbound message (a late older removal among them), and on a message never stored. */
const REACTION_BODIES = [
  reactionBody(1, MAYA, SENT_WAMID, 1781514500, '👍'),
  reactionBody(2, MAYA, SENT_WAMID, 1781514600, '❤️'),
  reactionBody(3, DIEGO, SENT_WAMID, 1781514550, '😂'),
  reactionBody(4, DIEGO, SENT_WAMID, 1781514700, ''),
  reactionBody(5, MAYA, TEXT_WAMID, 1781514100, '🙏'),
  reactionBody(6, MAYA, TEXT_WAMID, 1781514090),
  reactionBody(7, MAYA, 'wamid.never.stored', 1781514800, '🔥'),
  reactionBody(8, MAYA, 'wamid.never.stored', 1781514800, '🎉'), // the same second: the larger event id wins
];

/** Every fixture's actor events, and the hand-made reactions', as ingest produces them (each POST received one
 *  second after the previous, the first at `receivedAt`). */
function fixtureEvents(receivedAt = 1_781_600_000_000): DecodedEvent[] {
  const events: DecodedEvent[] = [];
  [...fixtures().map((f) => f.body.toString('utf8')), ...REACTION_BODIES].forEach((body, i) => {
    const out = splitPayload(parseJsonLossless(body), { receivedAt: receivedAt + i * 1000, accountOf: () => null });
    if (out.kind !== 'events') return;
    for (const e of out.events) {
      if ((ACTOR_EVENT_TYPES as readonly string[]).includes(e.eventType))
        events.push({ type: e.eventType, event: e.value } as DecodedEvent);
    }
  });
  return events;
}

/** Applies events in batches of the given sizes (each batch a Session, as the consumer does per partition batch),
 *  with one member's state cache of `cacheDocs` documents kept across the batches (0: no cache). */
async function run(events: readonly DecodedEvent[], batchSizes: readonly number[] = [], cacheDocs = 0): Promise<MemoryActorStore> {
  return runOn(new MemoryActorStore(), events, batchSizes, cacheDocs);
}

async function runOn(
  store: MemoryActorStore,
  events: readonly DecodedEvent[],
  batchSizes: readonly number[],
  cacheDocs: number,
): Promise<MemoryActorStore> {
  const cache = new StateCache(cacheDocs);
  let i = 0;
  let b = 0;
  while (i < events.length) {
    const size = Math.max(1, batchSizes[b++] ?? events.length);
    const rejected = await applyBatch(new Session(store, cache), events.slice(i, i + size));
    expect(rejected).toEqual([]);
    i += size;
  }
  return store;
}

describe('actors > apply batch', () => {
  const events = fixtureEvents();
  /** The same bodies delivered again by Meta a day later: the same event ids, a later received_at. */
  const redelivered = fixtureEvents(1_781_600_000_000 + 86_400_000);

  test('the fixtures feed every actor', () => {
    // thread.read and message.outbound come from the REST API, not Meta (src/actors/thread/reduce.test.ts,
    // test/e2e/thread-read.test.ts; src/actors/message/reduce.test.ts, test/e2e/sending.test.ts).
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set(ACTOR_EVENT_TYPES.filter((t) => t !== 'thread.read' && t !== 'message.outbound')),
    );
  });

  test('duplicated, shuffled and re-batched, with or without a state cache (tiny, evicting, or large), the fixtures end in the same documents as in order', async () => {
    const expected = (await run(events)).canonicalSnapshot({ content: true });
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
        fc.array(fc.nat(events.length - 1), { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 40 }),
        fc.constantFrom(0, 3, 25, 100_000),
        async (shuffled, dupIdx, batchSizes, cacheDocs) => {
          const withDups = [...shuffled];
          for (const [k, i] of dupIdx.entries()) withDups.splice((i * 7 + k) % (withDups.length + 1), 0, events[i]!);
          const store = await run(withDups, batchSizes, cacheDocs);
          // The same documents, under the ids they were given (which id a merged contact keeps depends on which
          // of its identities arrived first), and every contact or thread id ever written still resolves.
          expect(store.canonicalSnapshot({ content: true })).toEqual(expected);
          expect(store.unresolvable()).toEqual([]);
          // Meta delivers everything again, in another order and batching: nothing changes, not even a stamp
          // (updated_at, changed_at, _v), and nothing is written.
          const before = store.raw();
          await runOn(store, [...redelivered].reverse(), [...batchSizes].reverse(), cacheDocs);
          expect(store.raw()).toEqual(before);
        },
      ),
      { numRuns: 150 },
    );
  });

  describe('stable ids (issue 14, rule 6)', () => {
    const body = (messages: object[], contacts: object[] = []) =>
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: 'waba-ids',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550100000', phone_number_id: 'pn-ids' },
                  contacts,
                  messages,
                },
              },
            ],
          },
        ],
      });
    const text = (n: number, from: string, ts: number) =>
      body(
        [{ from, id: `wamid.ids.${n}`, timestamp: String(ts), type: 'text', text: { body: `hello ${n}` } }],
        [{ profile: { name: 'Ada' }, wa_id: from }],
      );
    const changed = (n: number, from: string, to: string, ts: number) =>
      body([
        {
          from,
          id: `wamid.ids.${n}`,
          timestamp: String(ts),
          type: 'system',
          system: { type: 'user_changed_number', wa_id: to, body: `changed from ${from} to ${to}` },
        },
      ]);
    const eventsOf = (bodies: string[]) =>
      bodies.flatMap((b, i) => {
        const out = splitPayload(parseJsonLossless(b), { receivedAt: 1_781_600_000_000 + i * 1000, accountOf: () => null });
        return out.kind === 'events' ? out.events.map((e) => ({ type: e.eventType, event: e.value }) as DecodedEvent) : [];
      });
    const one = <T>(xs: T[]): T => {
      expect(xs).toHaveLength(1);
      return xs[0]!;
    };

    test("a number change keeps the contact's id and its thread's id", async () => {
      // 15550109999 sorts before 15550110000: an id derived from the smallest alias would have changed.
      const store = await run(eventsOf([text(1, '15550110000', 1781500000)]));
      const before = { contact: one([...store.data.contact.values()]), thread: one([...store.data.thread.values()]) };
      await runOn(store, eventsOf([changed(2, '15550110000', '15550109999', 1781500100), text(3, '15550109999', 1781500200)]), [], 0);
      const contact = one([...store.data.contact.values()]);
      const thread = one([...store.data.thread.values()]);
      expect(contact).toMatchObject({
        _id: before.contact._id,
        aliases: ['wa:15550109999', 'wa:15550110000'],
        wa_id: '15550109999',
        thread_ids: [before.thread._id],
      });
      expect(thread._id).toBe(before.thread._id);
      expect([...store.data.message.values()].filter((m) => m.direction === 'inbound').map((m) => m.thread_id)).toEqual([
        thread._id,
        thread._id,
        thread._id,
      ]);
      expect(store.unresolvable()).toEqual([]);
    });

    test('two contacts found to be one person keep the smaller ids, and the other ids resolve to them', async () => {
      // The new number wrote before Meta's change notice arrived: two contacts, two threads on one phone number.
      const store = await run(eventsOf([text(1, '15550110000', 1781500000), text(3, '15550120000', 1781500200)]));
      const contactsBefore = [...store.data.contact.values()].map((c) => c._id).sort();
      const threadsBefore = [...store.data.thread.values()].map((t) => t._id).sort();
      expect(contactsBefore).toHaveLength(2);
      await runOn(store, eventsOf([changed(2, '15550110000', '15550120000', 1781500100)]), [], 0);
      const contact = one([...store.data.contact.values()]);
      const thread = one([...store.data.thread.values()]);
      expect(contact).toMatchObject({ _id: contactsBefore[0], former_ids: [contactsBefore[1]], thread_ids: [threadsBefore[0]] });
      expect(thread).toMatchObject({
        _id: threadsBefore[0],
        former_ids: [threadsBefore[1]],
        contact_id: contactsBefore[0],
        unread_count: 2,
      });
      expect(new Set([...store.data.message.values()].map((m) => m.thread_id))).toEqual(new Set([thread._id]));
      expect(store.unresolvable()).toEqual([]);
    });
  });

  test('the in-order result is what the reference says', async () => {
    const s = (await run(events)).snapshot();
    const contacts = s['contact'] as any[];
    // Diego: four identities (old and new number, old and new BSUID) are one contact. The current ones follow the
    // newest sighting: in the fixtures he still writes from the old number (batched, T 1781525002) after the
    // change (T 1781519000), so the old pair is current again; all four stay aliases.
    const diego = contacts.find((c) => c.aliases.includes('wa:15550199002'));
    expect(diego.aliases).toEqual(['uid:US.71529384061728390082', 'uid:US.71529384061728394056', 'wa:15550199002', 'wa:15550199082']);
    expect(diego).toMatchObject({ wa_id: '15550199002', user_id: 'US.71529384061728394056', name: 'Diego Ramírez' });
    expect(
      contacts.filter((c) => c.aliases.some((a: string) => a.includes('5550199082') || a.includes('71529384061728390082'))),
    ).toHaveLength(1);
    // Every thread with Diego is one thread, holding the messages of both numbers.
    const diegoThreads = (s['thread'] as any[]).filter((t) => t.contact_id === diego._id);
    expect(diegoThreads).toHaveLength(1);
    const inThread = (s['message'] as any[])
      .filter((m) => m.thread_id === diegoThreads[0]._id && m.direction === 'inbound')
      .map((m) => m.type);
    expect(inThread).toEqual(expect.arrayContaining(['system', 'audio', 'image', 'text', 'document', 'location', 'interactive', 'button']));
    // user_preferences stop (T0+9000s) then resume (T0+96000s): resumed, both in the history.
    expect(diego.opted_out_at).toBeNull();
    expect(diego.consent.map((c: any) => c.value)).toEqual(['stop', 'resume']);
    // Tom has only a BSUID and a username.
    expect(contacts.find((c) => c.aliases.includes('uid:US.93741506283940516278'))).toMatchObject({
      wa_id: null,
      username: '@tom.v',
      name: 'Tom V.',
    });
    const sent = (s['message'] as any[]).find((m) => m.wamid === 'wamid.HBgLMTU1NTAxOTkwMDEVAgARGBJBMTU2MUQ5QzlGMDc1OUY3REQA');
    expect(sent).toMatchObject({ direction: 'outbound', placeholder: true, delivery_status: 'read', whatsapp_status: 'read' });
    expect(sent.status_history.map((h: any) => h.status)).toEqual(['sent', 'delivered', 'read']);
    const failed = (s['message'] as any[]).find((m) => m.wamid === 'wamid.HBgLMTU1NTAxOTkwNzEVAgARGBIwMUQ2REIyM0Q3NkZDOEVFMkUA');
    expect(failed).toMatchObject({
      delivery_status: 'failed',
      error: { code: 131026, title: 'Message undeliverable', details: 'Message Undeliverable.' },
    });
    const promo = (s['template'] as any[]).find((t) => t.template_id === '1513749260318847');
    // PAUSED at 1781521400, DISABLED at 1781521500; quality RED.
    expect(promo).toMatchObject({
      whatsapp_status: 'disabled',
      broadcastable: false,
      whatsapp_quality_rating: 'RED',
      previous_quality_rating: 'YELLOW',
    });
    const approved = (s['template'] as any[]).find((t) => t.template_id === '1480293746152038');
    expect(approved).toMatchObject({ whatsapp_status: 'approved', broadcastable: true, components: { footer: 'Lumen Dental Studio' } });
    expect((s['template'] as any[]).find((t) => t.template_id === '1277304958812665')).toMatchObject({
      whatsapp_status: 'pending_deletion',
      status_reason: null,
    });
    // Reactions on their targets (issue 14, rule 8): Maya's 👍 changed to ❤️, Diego's 😂 removed (kept as a null
    // entry); on her text, 🙏 stays (the removal is older); a target never stored is a placeholder holding them.
    const messages = s['message'] as any[];
    const reactions = (wamid: string) => messages.find((m) => m.wamid === wamid).reactions.map((r: any) => [r.key, r.emoji]);
    expect(reactions(SENT_WAMID)).toEqual([
      [`uid:${MAYA.user_id}`, '❤️'],
      [`uid:${DIEGO.user_id}`, null],
    ]);
    expect(reactions(TEXT_WAMID)).toEqual([[`uid:${MAYA.user_id}`, '🙏']]);
    const never = messages.find((m) => m.wamid === 'wamid.never.stored');
    expect(never).toMatchObject({ direction: 'outbound', placeholder: true, kind: 'placeholder', thread_id: null });
    expect(never.reactions).toHaveLength(1);
    // Every message has a kind (issue 14, rule 4).
    expect(messages.filter((m) => m.kind === undefined)).toEqual([]);
    expect(new Set(messages.filter((m) => m.direction === 'inbound').map((m) => m.kind))).toEqual(
      new Set([
        'text',
        'image',
        'video',
        'audio',
        'document',
        'sticker',
        'location',
        'contacts',
        'interactive',
        'button',
        'reaction',
        'order',
        'system',
        'unsupported',
      ]),
    );
    expect(messages.filter((m) => m.direction === 'system').map((m) => m.kind)).toEqual(expect.arrayContaining(['consent']));
    expect(sent.kind).toBe('placeholder');
    expect((s['waba_state'] as any[]).find((w) => w._id === '120554298871346').restrictions).toEqual([
      { type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expires_at: new Date(1782128800 * 1000) },
    ]);
  });
});
