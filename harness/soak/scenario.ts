// A deterministic Meta scenario for the soak test and its bench stage: one WABA, two business phone numbers, and
// `bodies` signed webhook POSTs in the order they are sent. The conversation is generated in Meta's time order, then
// delivered the way Meta delivers: at least once (some bodies are sent again, byte for byte) and out of order (each
// body moves up to `SHUFFLE_WINDOW` places, a few move much further). What it holds:
//  - inbound messages of many types (text, image, audio, document, location, interactive button and list replies,
//    button, reaction, sticker, video, unsupported with Meta's error), from contacts with and without a BSUID, whose
//    profile names sometimes change;
//  - typed keywords (STOP, "Unsubscribe", START, "resume") and user_preferences stop/resume, also on a phone number
//    the contact never wrote to;
//  - system user_changed_number notices, after which the contact writes from the new number;
//  - delivery statuses of the business's replies: sent (with pricing) -> delivered -> read, or failed with one of
//    Meta's error codes, some repeated in a later body, items shuffled inside a body;
//  - template status (approved, paused, flagged, rejected, disabled, reinstated, archived/unarchived, locked),
//    quality and category events (entry.time set, as Meta does).
// Every id is derived from the WABA id, so scenarios of different WABAs never share a contact, wamid or template.
import { prng } from '../load/prng.ts';
import { TEXTS as EVERYDAY_TEXTS } from '../load/backlog.ts';
import { messagesValue, signed, statusItem, type SignedBody } from '../load/bodies.ts';

/** 2026-06-15T09:00:00Z, the fixtures' time base (shared/fixtures/meta). */
const T0 = 1_781_514_000;
/** Meta seconds between two generated bodies. */
const STEP_SECONDS = 37;
/** Share of bodies Meta sends twice. */
const DUPLICATE_SHARE = 0.08;
/** How far a body may move from its place in Meta's time order; a few move up to `FAR_MOVE` places. */
const SHUFFLE_WINDOW = 12;
const FAR_MOVE = 60;

const ERRORS = [
  {
    code: 131026,
    title: 'Message undeliverable',
    message: 'Message undeliverable',
    error_data: { details: 'Message Undeliverable.' },
    href: '/documentation/business-messaging/whatsapp/support/error-codes',
  },
  {
    code: 131047,
    title: 'Re-engagement message',
    message: 'Re-engagement message',
    error_data: {
      details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    },
  },
  {
    code: 132001,
    title: 'Template does not exist',
    message: 'Template does not exist',
    error_data: { details: 'template name (june_service_promo) does not exist in es_MX' },
  },
  {
    code: 131049,
    title: 'This message was not delivered to maintain healthy ecosystem engagement.',
    message: 'This message was not delivered to maintain healthy ecosystem engagement.',
  },
];
const TEXTS = [...EVERYDAY_TEXTS, '¿Hablan español? 😊'];
const KEYWORDS = ['STOP', 'Unsubscribe', 'stop.', 'START', 'resume', 'Start!'];
const TEMPLATE_EVENTS = [
  'APPROVED',
  'APPROVED',
  'PAUSED',
  'FLAGGED',
  'REJECTED',
  'DISABLED',
  'REINSTATED',
  'ARCHIVED',
  'UNARCHIVED',
  'LOCKED',
  'UNLOCKED',
  'PENDING_DELETION',
];

type Json = Record<string, unknown>;

export type SoakScenario = {
  wabaId: string;
  phoneIds: readonly string[];
  /** The POSTs in the order they are sent (duplicates and out-of-order delivery included). */
  posts: readonly SignedBody[];
  /** Distinct bodies among the posts, and how many posts repeat one. */
  distinct: number;
  duplicates: number;
  /** Events ingest splits the posts into (duplicates counted again: they are sent again). */
  events: number;
};

type Contact = { c: number; waId: string; userId: string | null; name: string; changed: boolean };
type Outbound = {
  wamid: string;
  phone: number;
  recipient: string;
  recipientUserId: string | null;
  next: number;
  fails: number | null;
  stopAt: number;
  due: number;
};

export function soakScenario(o: { wabaId: string; bodies: number; secret: string; seed?: number }): SoakScenario {
  if (!/^\d{6,}$/.test(o.wabaId)) throw new Error(`the WABA id must be digits (got ${o.wabaId})`);
  const rnd = prng(o.seed ?? Number(o.wabaId.slice(-9)));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const tag = o.wabaId.slice(-6);
  const phoneIds = [`7${tag}00001`, `7${tag}00002`];
  const displayPhone = (p: number) => `1555${tag.slice(-4)}00${p}`;
  const distinct = Math.max(1, Math.round(o.bodies / (1 + DUPLICATE_SHARE)));

  const contacts: Contact[] = Array.from({ length: Math.max(12, Math.round(distinct / 5)) }, (_, c) => ({
    c,
    waId: `1555${tag}${String(c).padStart(4, '0')}`,
    userId: c % 2 === 0 ? `US.${tag}${String(c).padStart(12, '0')}` : null,
    name: `Contact ${c}`,
    changed: false,
  }));
  const known: Contact[] = []; // contacts who wrote at least once, in order of their first message
  const templates = Array.from({ length: Math.max(4, Math.min(16, Math.round(distinct / 40))) }, (_, k) => ({
    id: Number(`1${tag}${String(k).padStart(5, '0')}`),
    name: `soak_${['reminder', 'promo', 'followup', 'survey'][k % 4]}_${k}`,
    language: k % 3 === 2 ? 'es_MX' : 'en_US',
    category: k % 4 === 1 ? 'MARKETING' : 'UTILITY',
  }));
  const pending: Outbound[] = [];
  const sentStatuses: Json[] = []; // every status item sent so far, for Meta's repeats
  let outbound = 0;

  const envelope = (field: string, value: Json, time?: number) =>
    JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: o.wabaId, ...(time ? { time } : {}), changes: [{ value, field }] }],
    });
  const card = (k: Contact) => ({ profile: { name: k.name }, wa_id: k.waId, ...(k.userId ? { user_id: k.userId } : {}) });
  const sender = (): Contact => {
    const fresh = contacts[known.length];
    const k = fresh && (known.length < 3 || rnd() < 0.3) ? fresh : pick(known);
    if (k === fresh) known.push(k);
    return k;
  };

  function inboundItem(k: Contact, p: number, wamid: string, t: number): Json {
    const base = { from: k.waId, ...(k.userId ? { from_user_id: k.userId } : {}), id: wamid, timestamp: String(t) };
    const media = (kind: string, extra: Json) => ({
      ...base,
      type: kind,
      [kind]: {
        mime_type: 'application/octet-stream',
        sha256: 'YdnbMAKuJwp5lzSdoSgJVMgSEAP5MlBf1ATdXsBsCDk=',
        id: String(1622942192584580 + outbound),
        ...extra,
      },
    });
    const replyTo = outbound > 0 ? `wamid.out.${o.wabaId}.${Math.floor(rnd() * outbound)}` : null;
    const context = replyTo ? { context: { from: displayPhone(p), id: replyTo } } : {};
    const r = rnd();
    if (r < 0.06) return { ...base, type: 'text', text: { body: pick(KEYWORDS) } };
    if (r < 0.4) return { ...base, type: 'text', text: { body: pick(TEXTS) }, ...(rnd() < 0.2 ? context : {}) };
    if (r < 0.48) return media('image', { mime_type: 'image/jpeg', caption: 'as requested' });
    if (r < 0.55) return media('audio', { mime_type: 'audio/ogg; codecs=opus', voice: true });
    if (r < 0.6) return media('document', { mime_type: 'application/pdf', filename: `referral-${t}.pdf`, caption: 'Referral letter' });
    if (r < 0.63) return media('sticker', { mime_type: 'image/webp', animated: false });
    if (r < 0.66) return media('video', { mime_type: 'video/mp4' });
    if (r < 0.71)
      return {
        ...base,
        type: 'location',
        location: {
          latitude: 40.7127281 + rnd() / 100,
          longitude: -74.0060152,
          name: 'City Hall Park',
          address: 'City Hall Park, New York, NY 10007',
        },
      };
    if (r < 0.76)
      return {
        ...base,
        type: 'interactive',
        interactive: { type: 'button_reply', button_reply: { id: `appt-confirm-${t}`, title: 'Confirm' } },
        ...context,
      };
    if (r < 0.8)
      return {
        ...base,
        type: 'interactive',
        interactive: { type: 'list_reply', list_reply: { id: `slot-${t}`, title: 'Thu 18 Jun, 3:00 pm', description: 'Dr. Lee, 45 min' } },
        ...context,
      };
    if (r < 0.85) return { ...base, type: 'button', button: { payload: 'RESCHEDULE_REQUEST', text: 'Reschedule' }, ...context };
    if (r < 0.92 && replyTo) return { ...base, type: 'reaction', reaction: { message_id: replyTo, emoji: pick(['👍', '❤️', '🙏']) } };
    if (r < 0.96)
      return {
        ...base,
        type: 'unsupported',
        unsupported: { type: 'poll_creation' },
        errors: [
          {
            code: 131051,
            title: 'Message type unknown',
            message: 'Message type unknown',
            error_data: { details: 'Message type is currently not supported.' },
          },
        ],
      };
    return { ...base, type: 'text', text: { body: `Message ${wamid.slice(-6)}` } };
  }

  function inboundBody(step: number, t: number): string {
    const p = rnd() < 0.7 ? 0 : 1;
    const senders = Array.from({ length: 1 + Math.floor(rnd() * 4) }, sender);
    const messages: Json[] = [];
    for (const [i, k] of senders.entries()) {
      if (rnd() < 0.05) k.name = `${k.name.split(' (')[0]} (${pick(['Ana', 'Sam', 'Lee'])})`; // a profile name change
      for (let j = 0; j < 1 + Math.floor(rnd() * 3); j++) {
        messages.push(inboundItem(k, p, `wamid.in.${o.wabaId}.${step}.${i}.${j}`, t + i * 3 + j));
        if (rnd() < 0.7) {
          // The business answers: an outbound message whose statuses follow over the next bodies.
          const r = rnd();
          pending.push({
            wamid: `wamid.out.${o.wabaId}.${outbound++}`,
            phone: p,
            recipient: k.waId,
            recipientUserId: k.userId,
            next: 0,
            fails: r < 0.1 ? Math.floor(rnd() * ERRORS.length) : null,
            stopAt: r < 0.25 ? 2 : 3,
            due: step + 1 + Math.floor(rnd() * 6),
          });
        }
      }
    }
    const cards = [...new Map(senders.map((k) => [k.c, card(k)])).values()];
    return envelope('messages', messagesValue(phoneIds[p]!, { contacts: cards, messages }));
  }

  function statusBody(step: number, t: number): string {
    const p = pending[0]!.phone;
    const due = pending.filter((x) => x.phone === p && x.due <= step).slice(0, 10 + Math.floor(rnd() * 20));
    const statuses: Json[] = [];
    for (const x of due) {
      // A failed message fails after sent (or instead of it); the others climb sent -> delivered -> read.
      const status = x.fails !== null && x.next >= 1 ? 'failed' : (['sent', 'delivered', 'read'] as const)[x.next]!;
      const item: Json = {
        ...statusItem(x.wamid, x.recipient, t - Math.floor(rnd() * 20), status),
        ...(x.recipientUserId ? { recipient_user_id: x.recipientUserId } : {}),
        ...(status === 'failed' ? { errors: [ERRORS[x.fails!]] } : {}),
      };
      if (status !== 'sent') delete item['pricing'];
      statuses.push(item);
      x.next = status === 'failed' ? 99 : x.next + 1;
      x.due = step + 1 + Math.floor(rnd() * 8);
    }
    // Meta repeats statuses it already sent (at-least-once per item, not only per body).
    for (let i = 0; i < 3 && sentStatuses.length > 0; i++) {
      const again = sentStatuses[Math.floor(rnd() * sentStatuses.length)]!;
      if (rnd() < 0.3 && again['_phone'] === p) statuses.push(again);
    }
    for (let i = statuses.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [statuses[i], statuses[j]] = [statuses[j]!, statuses[i]!];
    }
    const items = statuses.map(({ _phone, ...s }) => s);
    for (const s of items) sentStatuses.push({ ...s, _phone: p });
    for (let i = pending.length - 1; i >= 0; i--)
      if (pending[i]!.next >= pending[i]!.stopAt || pending[i]!.next === 99) pending.splice(i, 1);
    pending.sort((a, b) => a.due - b.due);
    return envelope('messages', messagesValue(phoneIds[p]!, { statuses: items }));
  }

  function templateBody(t: number): string {
    const tpl = pick(templates);
    const ident = { message_template_id: tpl.id, message_template_name: tpl.name, message_template_language: tpl.language };
    const r = rnd();
    if (r < 0.5) {
      const event = pick(TEMPLATE_EVENTS);
      return envelope(
        'message_template_status_update',
        {
          event,
          ...ident,
          reason: event === 'REJECTED' ? 'INVALID_FORMAT' : 'NONE',
          message_template_category: tpl.category,
          ...(event === 'PAUSED'
            ? {
                other_info: {
                  title: 'FIRST_PAUSE',
                  description: 'Your template has been paused for 3 hours because of low-quality feedback.',
                },
              }
            : {}),
          ...(event === 'DISABLED' ? { disable_info: { disable_date: t } } : {}),
          ...(event === 'REJECTED'
            ? { rejection_info: { reason: 'Variable parameters are not defined properly.', recommendation: 'Add sample values.' } }
            : {}),
        },
        t,
      );
    }
    if (r < 0.85) {
      return envelope(
        'message_template_quality_update',
        { previous_quality_score: pick(['GREEN', 'YELLOW', 'UNKNOWN']), new_quality_score: pick(['GREEN', 'YELLOW', 'RED']), ...ident },
        t,
      );
    }
    const impending = rnd() < 0.4;
    return envelope(
      'template_category_update',
      {
        ...ident,
        previous_category: tpl.category,
        new_category: impending ? tpl.category : 'MARKETING',
        ...(impending ? { correct_category: 'MARKETING', category_update_timestamp: t + 86_400 } : {}),
      },
      t,
    );
  }

  function consentBody(t: number): string {
    const k = pick(known);
    const p = rnd() < 0.85 ? 0 : 1;
    return envelope('user_preferences', {
      ...messagesValue(phoneIds[p]!, { contacts: [card(k)] }),
      user_preferences: [
        {
          wa_id: k.waId,
          ...(k.userId ? { user_id: k.userId } : {}),
          detail: 'User requested to stop marketing messages',
          category: 'marketing_messages',
          value: rnd() < 0.6 ? 'stop' : 'resume',
          timestamp: t,
        },
      ],
    });
  }

  function numberChangeBody(step: number, t: number): string | null {
    const k = known.find((x) => !x.changed && rnd() < 0.3);
    if (!k) return null;
    const newWaId = `1556${tag}${String(k.c).padStart(4, '0')}`;
    const notice = {
      from: k.waId,
      id: `wamid.sys.${o.wabaId}.${step}`,
      timestamp: String(t),
      type: 'system',
      system: { body: `User ${k.name} changed from ${k.waId} to ${newWaId}`, wa_id: newWaId, type: 'user_changed_number' },
    };
    Object.assign(k, { waId: newWaId, changed: true });
    return envelope('messages', messagesValue(phoneIds[0]!, { messages: [notice] }));
  }

  // Meta's time order.
  const ordered: string[] = [];
  for (let step = 0; ordered.length < distinct; step++) {
    const t = T0 + step * STEP_SECONDS;
    // Statuses go out in batches: when enough are due on the oldest one's number, or the oldest waited long.
    const head = pending[0];
    const statusDue =
      head !== undefined &&
      head.due <= step &&
      (head.due + 10 <= step || pending.filter((x) => x.phone === head.phone && x.due <= step).length >= 8);
    const r = rnd();
    const body = statusDue
      ? statusBody(step, t)
      : known.length === 0 || r < 0.66
        ? inboundBody(step, t)
        : r < 0.82
          ? templateBody(t)
          : r < 0.93
            ? consentBody(t)
            : numberChangeBody(step, t);
    if (body !== null) ordered.push(body);
  }

  // Delivery order: each body moves a little (a few far), then some are sent again later.
  const keyed = ordered.map((body, i) => ({ body, key: i + rnd() * (rnd() < 0.05 ? FAR_MOVE : SHUFFLE_WINDOW) }));
  const sent = keyed.sort((a, b) => a.key - b.key).map((x) => x.body);
  const duplicates = o.bodies - sent.length;
  for (let d = 0; d < duplicates; d++) {
    const i = Math.floor(rnd() * sent.length);
    sent.splice(Math.min(sent.length, i + 1 + Math.floor(rnd() * 40)), 0, sent[i]!);
  }
  const posts = sent.map((body) => signed(body, o.secret));
  return { wabaId: o.wabaId, phoneIds, posts, distinct: ordered.length, duplicates, events: posts.reduce((n, p) => n + p.events, 0) };
}
