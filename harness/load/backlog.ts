// A deterministic backlog of mixed WhatsApp events for the actors' benchmark, put on the topics the way ingest puts
// them (Meta-shaped JSON -> splitPayload -> Avro serde -> EchoCue's producer, key = WABA id), without HTTP.
//
// The mix is stationary over the whole backlog, so the rate can be compared between its start and its end:
// new contacts keep arriving at the same share of inbound messages (so inserts and replaces keep their proportion
// as the store grows), outbound messages get their sent -> delivered -> read statuses a little later (some out of
// order, some failed), and templates, consent changes and account updates are sprinkled in.
import { type EventRecord, type Events } from '../../src/events/port.ts';
import { type EventSerde } from '../../src/events/serde.ts';
import { type EventType, type Topics } from '../../src/events/topics.ts';
import { parseJsonLossless } from '../../src/ingest/parse-json.ts';
import { splitPayload } from '../../src/ingest/split/split-payload.ts';
import { prng } from './prng.ts';

/** 2026-06-15T09:00:00Z, the fixtures' time base (shared/fixtures/meta). */
const T0 = 1_781_514_000;
const WABAS = 16;
const PHONES_PER_WABA = 2;
const TEMPLATES_PER_WABA = 40;
/** Share of inbound messages from a contact never seen before (the rest: a uniformly chosen known contact). */
const NEW_CONTACT_SHARE = 1 / 6;

/** Bodies of each kind per 100 when no status is due (inbound bodies carry 1-3 messages). */
const MIX = { inbound: 86, template: 6, consent: 5, account: 3 } as const;
/** Share of inbound messages the business answers: each answer gets sent -> delivered -> read statuses later
 *  (about 0.75 statuses per inbound message, so roughly 55 % inbound and 40 % statuses of all events). */
const REPLY_SHARE = 0.25;

type Json = Record<string, unknown>;

const wabaId = (w: number) => `30${String(4719385562013 + w * 7919)}`;
const phoneId = (w: number, p: number) => `4${String(w).padStart(3, '0')}${p}56789045671`;
const displayPhone = (w: number, p: number) => `1555014${String(w * PHONES_PER_WABA + p).padStart(4, '0')}`;
const contactWaId = (w: number, c: number) => `1555${String(w).padStart(2, '0')}${String(c).padStart(6, '0')}`;
const contactUserId = (w: number, c: number) => `US.${String(7152938406 + w).padStart(10, '0')}${String(c).padStart(10, '0')}`;
const templateId = (w: number, t: number) => String(1480293746152038 + w * 1000 + t);

/** Everyday inbound texts (none is a consent keyword), shared with the soak scenario. */
export const TEXTS = [
  'Hi! Do you have any openings for a cleaning next week?',
  'Thanks, see you on Tuesday',
  'Can I move my appointment to the afternoon?',
  'What time do you open on Saturdays?',
  'Is parking available nearby?',
  'Perfect, thank you!',
];

export type BacklogSummary = {
  events: number;
  byType: Partial<Record<EventType, number>>;
  bodies: number;
  contacts: number;
  outbound: number;
};

/** Meta-shaped webhook bodies, generated lazily: about `events` events in all. */
export function* backlogBodies(events: number, seed = 42): Generator<{ body: string; receivedAt: number }, BacklogSummary> {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const contacts = Array.from({ length: WABAS }, () => 0); // contacts seen so far, per WABA
  const hasUserId = (c: number) => c % 2 === 0; // half the contacts also carry a BSUID (two aliases)
  // Outbound messages waiting for their next status, oldest first.
  const pending: { w: number; p: number; c: number; wamid: string; next: number; due: number }[] = [];
  const byType: Partial<Record<EventType, number>> = {};
  let produced = 0;
  let bodies = 0;
  let outbound = 0;
  let seq = 0;
  const total = MIX.inbound + MIX.template + MIX.consent + MIX.account;
  const count = (t: EventType, n = 1) => {
    byType[t] = (byType[t] ?? 0) + n;
    produced += n;
  };

  const contactOf = (w: number): number => {
    if (contacts[w] === 0 || rnd() < NEW_CONTACT_SHARE) return contacts[w]!++;
    return Math.floor(rnd() * contacts[w]!);
  };
  const contactCard = (w: number, c: number) => ({
    profile: { name: `Contact ${w}-${c}` },
    wa_id: contactWaId(w, c),
    ...(hasUserId(c) ? { user_id: contactUserId(w, c) } : {}),
  });
  const metadata = (w: number, p: number) => ({ display_phone_number: displayPhone(w, p), phone_number_id: phoneId(w, p) });
  const envelope = (w: number, field: string, value: Json, time?: number) =>
    JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: wabaId(w), ...(time ? { time } : {}), changes: [{ value, field }] }],
    });

  while (produced < events) {
    const now = T0 + seq; // one second of Meta time per step
    const receivedAt = (now + 1) * 1000;
    const w = Math.floor(rnd() * WABAS);
    const p = Math.floor(rnd() * PHONES_PER_WABA);
    // Statuses go out as soon as they are due; otherwise a body of the mix.
    const statusDue = pending.length > 0 && pending[0]!.due <= seq;
    let r = rnd() * total;
    let body: string;
    if (statusDue) {
      // The due statuses of one WABA's phone number, oldest first; a few pairs swapped (Meta does not order them).
      const first = pending[0]!;
      const group = pending.filter((o) => o.w === first.w && o.p === first.p && o.due <= seq).slice(0, 1 + Math.floor(rnd() * 8));
      const n = Math.min(events - produced, group.length);
      const statuses: Json[] = [];
      for (const o of group.slice(0, n)) {
        const failed = o.next === 1 && rnd() < 0.03;
        const status = failed ? 'failed' : (['sent', 'delivered', 'read'] as const)[o.next]!;
        statuses.push({
          id: o.wamid,
          status,
          timestamp: String(now - Math.floor(rnd() * 3)),
          recipient_id: contactWaId(o.w, o.c),
          ...(hasUserId(o.c) ? { recipient_user_id: contactUserId(o.w, o.c) } : {}),
          ...(o.next === 0 ? { pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'utility' } } : {}),
          ...(failed ? { errors: [{ code: 131047, title: 'Re-engagement message', message: 'Re-engagement message' }] } : {}),
        });
        o.next = failed ? 3 : o.next + 1;
        o.due = seq + 2 + Math.floor(rnd() * 60);
      }
      if (statuses.length > 2 && rnd() < 0.2) [statuses[0], statuses[1]] = [statuses[1]!, statuses[0]!];
      for (let i = pending.length - 1; i >= 0; i--) if (pending[i]!.next >= 3) pending.splice(i, 1);
      pending.sort((a, b) => a.due - b.due);
      body = envelope(first.w, 'messages', { messaging_product: 'whatsapp', metadata: metadata(first.w, first.p), statuses });
      count('message.status', n);
    } else if ((r -= MIX.inbound) < 0) {
      const n = Math.min(events - produced, 1 + Math.floor(rnd() * 3));
      const messages: Json[] = [];
      const cards = new Map<number, Json>();
      for (let i = 0; i < n; i++) {
        const c = contactOf(w);
        cards.set(c, contactCard(w, c));
        const id = `wamid.in.${w}.${seq}.${i}`;
        const base = {
          from: contactWaId(w, c),
          ...(hasUserId(c) ? { from_user_id: contactUserId(w, c) } : {}),
          id,
          timestamp: String(now),
        };
        const kind = rnd();
        if (kind < 0.02) messages.push({ ...base, type: 'text', text: { body: rnd() < 0.6 ? 'STOP' : 'start' } });
        else if (kind < 0.12)
          messages.push({
            ...base,
            type: 'image',
            image: {
              caption: 'as requested',
              mime_type: 'image/jpeg',
              sha256: '2VT2EC3gMjT2g39D+4aAbfc04fngvOZdKPZdNTlEp/U=',
              id: String(1014253622071311 + seq),
            },
          });
        else if (kind < 0.17)
          messages.push({
            ...base,
            type: 'reaction',
            reaction: { message_id: `wamid.out.${w}.${Math.max(0, outbound - 1)}`, emoji: '👍' },
          });
        else if (kind < 0.2)
          messages.push({
            ...base,
            type: 'interactive',
            interactive: { type: 'button_reply', button_reply: { id: `appt-confirm-${seq}`, title: 'Confirm' } },
            context: { from: displayPhone(w, p), id: `wamid.out.${w}.${Math.max(0, outbound - 1)}` },
          });
        else messages.push({ ...base, type: 'text', text: { body: pick(TEXTS) } });
        // The business answers some messages: an outbound message whose statuses come later.
        if (rnd() < REPLY_SHARE)
          pending.push({ w, p, c, wamid: `wamid.out.${w}.${outbound++}`, next: 0, due: seq + 5 + Math.floor(rnd() * 200) });
      }
      body = envelope(w, 'messages', { messaging_product: 'whatsapp', metadata: metadata(w, p), contacts: [...cards.values()], messages });
      count('message.inbound', n);
    } else if ((r -= MIX.template) < 0) {
      const t = Math.floor(rnd() * TEMPLATES_PER_WABA);
      const ident = {
        message_template_id: Number(templateId(w, t)),
        message_template_name: `template_${t}`,
        message_template_language: 'en_US',
      };
      const k = rnd();
      if (k < 0.5) {
        body = envelope(
          w,
          'message_template_status_update',
          { event: pick(['APPROVED', 'APPROVED', 'PAUSED', 'REJECTED']), ...ident, reason: 'NONE', message_template_category: 'UTILITY' },
          now,
        );
        count('template.status');
      } else if (k < 0.85) {
        body = envelope(
          w,
          'message_template_quality_update',
          { previous_quality_score: 'GREEN', new_quality_score: pick(['GREEN', 'YELLOW', 'RED']), ...ident },
          now,
        );
        count('template.quality');
      } else {
        body = envelope(w, 'template_category_update', { ...ident, previous_category: 'UTILITY', new_category: 'MARKETING' }, now);
        count('template.category');
      }
    } else if ((r -= MIX.consent) < 0) {
      if (contacts[w] === 0) {
        seq++;
        continue;
      }
      const c = Math.floor(rnd() * contacts[w]!);
      const value = rnd() < 0.7 ? 'stop' : 'resume';
      body = envelope(w, 'user_preferences', {
        messaging_product: 'whatsapp',
        metadata: metadata(w, p),
        contacts: [contactCard(w, c)],
        user_preferences: [
          {
            wa_id: contactWaId(w, c),
            ...(hasUserId(c) ? { user_id: contactUserId(w, c) } : {}),
            detail: 'User requested to stop marketing messages',
            category: 'marketing_messages',
            value,
            timestamp: now,
          },
        ],
      });
      count('consent.event');
    } else {
      body = envelope(
        w,
        'phone_number_quality_update',
        {
          display_phone_number: displayPhone(w, p),
          event: pick(['THROUGHPUT_UPGRADE', 'FLAGGED', 'UNFLAGGED']),
          max_daily_conversations_per_business: 'TIER_UNLIMITED',
        },
        now,
      );
      count('account.update');
    }
    seq++;
    bodies++;
    yield { body, receivedAt };
  }
  return { events: produced, byType, bodies, contacts: contacts.reduce((a, b) => a + b, 0), outbound };
}

export type IngestedBacklog = BacklogSummary & { records: number; bytes: number; seconds: number };

/** Splits, encodes and writes the backlog onto the event topics (acks=all), several writes in flight. */
export async function ingestBacklog(opts: { kafka: Events; serde: EventSerde; topics: Topics; events: number }): Promise<IngestedBacklog> {
  const started = performance.now();
  const producer = await opts.kafka.createProducer();
  const inFlight = new Set<Promise<void>>();
  let records = 0;
  let bytes = 0;
  let chunk: EventRecord[] = [];
  const flush = async () => {
    const send = producer.send(chunk, { timeoutMs: 60_000 });
    chunk = [];
    const tracked = send.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= 4) await Promise.race(inFlight);
  };
  try {
    const gen = backlogBodies(opts.events);
    let next = gen.next();
    while (!next.done) {
      const { body, receivedAt } = next.value;
      const outcome = splitPayload(parseJsonLossless(body), { receivedAt, accountOf: () => null });
      if (outcome.kind !== 'events') throw new Error(`backlog body was ignored: ${outcome.reason}`);
      for (const e of outcome.events) {
        const topic = opts.topics.events[e.eventType];
        const value = opts.serde.encode(topic, e.value);
        bytes += value.length;
        chunk.push({ topic, key: e.key, value, headers: { event_type: e.eventType, event_id: String(e.value['event_id']) } });
      }
      records += outcome.events.length;
      if (chunk.length >= 2000) await flush();
      next = gen.next();
    }
    if (chunk.length > 0) await flush();
    await Promise.all(inFlight);
    const summary = next.value;
    if (records !== summary.events)
      throw new Error(`backlog: ${summary.events} events generated but ${records} split (a body did not split as meant)`);
    return { ...summary, records, bytes, seconds: (performance.now() - started) / 1000 };
  } finally {
    await producer.disconnect();
  }
}
