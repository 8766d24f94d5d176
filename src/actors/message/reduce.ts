// Messages: inbound ones are stored once; outbound ones are known from their statuses, whose history is a set
// (one entry per distinct status) from which the delivery state is derived. Pure functions.
import { type MessageOutboundEvent, type MessageStatusEvent } from '../../events/generated/event-types.ts';
import { type MessageDoc, type StatusEntry } from '../../store/docs.ts';
import { messageKind } from '../../store/message-kind.ts';
import { compareStamps, maxDateOr, metaTimeToDate } from '../stamp.ts';

export { messageIdOf } from '../../store/doc-ids.ts';

/** Rank of each status on the way to the user (docs/meta-webhooks.md §5.2); `accepted` is EchoCue's own first step
 *  (the Graph API took a message EchoCue sent), below every status Meta reports. `failed` stands outside the order;
 *  values Meta may add later rank 0: kept in the history, never moving the state. */
export const STATUS_RANK: Readonly<Record<string, number>> = { accepted: 0.5, sent: 1, delivered: 2, read: 3, played: 4 };

const rank = (s: string) => STATUS_RANK[s] ?? 0;

export function emptyMessage(id: string, wabaId: string, wamid: string, direction: MessageDoc['direction'], receivedAt: Date): MessageDoc {
  return {
    _id: id,
    waba_id: wabaId,
    wamid,
    direction,
    thread_id: null,
    phone_number_id: null,
    type: 'unknown',
    kind: messageKind({ direction, type: 'unknown', placeholder: direction === 'outbound' }),
    text: null,
    context_id: null,
    timestamp: null,
    from: null,
    from_user_id: null,
    read_at: null,
    event_id: '',
    raw: null,
    errors: [],
    placeholder: direction === 'outbound',
    status_history: [],
    delivery_status: null,
    whatsapp_status: null,
    error: null,
    pricing: null,
    recipient_id: null,
    recipient_user_id: null,
    biz_opaque_callback_data: null,
    reactions: [],
    updated_at: receivedAt,
  };
}

/** The fields a placeholder keeps when its message turns out to be an inbound one: what statuses and reactions
 *  said about it (a reaction to a message can arrive before the message). */
const KEPT_FROM_PLACEHOLDER = [
  'status_history',
  'delivery_status',
  'whatsapp_status',
  'error',
  'pricing',
  'recipient_id',
  'recipient_user_id',
  'biz_opaque_callback_data',
  'reactions',
] as const satisfies readonly (keyof MessageDoc)[];

/** An inbound message's document: the stored one as it is when there is one (a redelivery changes nothing but the
 *  stamps); a placeholder (created by a reaction or a status that arrived first) takes the message's content and
 *  keeps what it knew, so both orders end in the same document. `message` is the document the event alone makes. */
export function withInboundMessage(existing: MessageDoc | null, message: MessageDoc): MessageDoc {
  if (existing === null) return message;
  if (!existing.placeholder) return existing;
  const kept = Object.fromEntries(KEPT_FROM_PLACEHOLDER.map((k) => [k, existing[k]])) as Pick<
    MessageDoc,
    (typeof KEPT_FROM_PLACEHOLDER)[number]
  >;
  return {
    ...message,
    ...kept,
    phone_number_id: message.phone_number_id ?? existing.phone_number_id,
    reactions: existing.reactions ?? [],
    updated_at: maxDateOr(existing.updated_at, message.updated_at),
  };
}

/** Derived delivery state: the highest-ranked status reached; `failed` wins only when nothing after `sent`
 *  (delivered, read, played) was ever reported. A read or played without delivered implies delivered. */
export function deriveDelivery(history: readonly StatusEntry[]) {
  const ranked = history.filter((h) => rank(h.status) > 0).sort((a, b) => rank(a.status) - rank(b.status) || compareStamps(a, b));
  const top = ranked[ranked.length - 1] ?? null;
  const failed = history.filter((h) => h.status === 'failed').sort(compareStamps)[0] ?? null;
  const failedWins = failed !== null && (top === null || rank(top.status) <= STATUS_RANK['sent']!);
  const state = failedWins ? failed : top;
  const withPricing = [...history].filter((h) => h.pricing !== null).sort((a, b) => rank(a.status) - rank(b.status) || compareStamps(a, b));
  return {
    delivery_status: state?.status ?? (history.length > 0 ? 'unknown' : null),
    whatsapp_status: state?.status ?? history.slice().sort(compareStamps)[history.length - 1]?.status ?? null,
    error: failedWins ? (failed.errors[0] ?? null) : null,
    pricing: withPricing[withPricing.length - 1]?.pricing ?? null,
  };
}

/** Two reports of the same status become one entry: the earliest report's time, and the pricing and errors of
 *  the earliest report that has them (each keeps the stamp it came from, so any merge order gives one result). */
function mergeEntries(a: StatusEntry, b: StatusEntry): StatusEntry {
  const [first, second] = compareStamps(a, b) <= 0 ? [a, b] : [b, a];
  const pick = <K extends 'pricing' | 'errors'>(key: K, has: (e: StatusEntry) => boolean, stampKey: 'pricing_from' | 'errors_from') => {
    const candidates = [first, second].filter(has).map((e) => ({ value: e[key], from: e[stampKey] ?? { at: e.at, event_id: e.event_id } }));
    candidates.sort((x, y) => compareStamps(x.from, y.from));
    return candidates[0];
  };
  const pricing = pick('pricing', (e) => e.pricing !== null, 'pricing_from');
  const errors = pick('errors', (e) => e.errors.length > 0, 'errors_from');
  return {
    status: first.status,
    at: first.at,
    event_id: first.event_id,
    pricing: (pricing?.value as StatusEntry['pricing']) ?? null,
    pricing_from: pricing?.from ?? null,
    errors: (errors?.value as StatusEntry['errors']) ?? [],
    errors_from: errors?.from ?? null,
  };
}

/** One status of an outbound message. Idempotent: the history keeps one entry per distinct status. */
export function applyStatus(doc: MessageDoc, e: MessageStatusEvent): MessageDoc {
  const at = metaTimeToDate(e.meta_timestamp) ?? new Date(e.received_at);
  const reported: StatusEntry = {
    status: e.status,
    at,
    event_id: e.event_id,
    errors: e.errors,
    pricing: e.pricing,
    pricing_from: null,
    errors_from: null,
  };
  const existing = doc.status_history.find((h) => h.status === e.status);
  const entry = existing ? mergeEntries(existing, reported) : mergeEntries(reported, reported);
  const history = [...doc.status_history.filter((h) => h.status !== e.status), entry].sort(compareStamps);
  return {
    ...doc,
    phone_number_id: doc.phone_number_id ?? e.phone_number_id,
    recipient_id: doc.recipient_id ?? e.recipient_id,
    recipient_user_id: doc.recipient_user_id ?? e.recipient_user_id,
    biz_opaque_callback_data: doc.biz_opaque_callback_data ?? e.biz_opaque_callback_data,
    status_history: history,
    ...deriveDelivery(history),
    updated_at: maxDateOr(doc.updated_at, new Date(e.received_at)),
  };
}

/** What EchoCue sent (src/events/sent-message.ts): the message's content on its thread, and `accepted` in its
 *  history. A placeholder made by statuses that arrived first takes the content and keeps its statuses; applied again,
 *  it changes nothing. */
export function applySent(doc: MessageDoc, e: MessageOutboundEvent, threadId: string): MessageDoc {
  const sentAt = new Date(e.sent_at);
  const accepted: StatusEntry = {
    status: 'accepted',
    at: sentAt,
    event_id: e.event_id,
    errors: [],
    pricing: null,
    pricing_from: null,
    errors_from: null,
  };
  const history = doc.status_history.some((h) => h.status === 'accepted')
    ? doc.status_history
    : [...doc.status_history, accepted].sort(compareStamps);
  return {
    ...doc,
    direction: 'outbound',
    thread_id: threadId,
    phone_number_id: e.phone_number_id,
    type: e.message_type,
    kind: messageKind({ direction: 'outbound', type: e.message_type, placeholder: false }),
    text: e.text_body,
    timestamp: sentAt,
    event_id: e.event_id,
    raw: e.raw,
    placeholder: false,
    recipient_id: doc.recipient_id ?? e.to_wa_id,
    recipient_user_id: doc.recipient_user_id ?? e.to_user_id,
    biz_opaque_callback_data: doc.biz_opaque_callback_data ?? e.send_id,
    status_history: history,
    ...deriveDelivery(history),
    updated_at: maxDateOr(doc.updated_at, new Date(e.received_at)),
  };
}
