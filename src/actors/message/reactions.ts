// Reactions on their target (issue 14, rule 8). A reaction is an inbound message of type `reaction` naming the
// target's wamid (docs/meta-webhooks.md §4.2); the target keeps one current reaction per user: the newest by Meta
// time, ties broken by event id (stamp.ts). A removal (no emoji, or an empty one) is an entry with emoji null, so a
// late older add cannot bring the reaction back. Any order and any duplication end in the same entries. Pure.
import { type MessageInboundEvent } from '../../events/generated/event-types.ts';
import { type MessageDoc, type ReactionEntry } from '../../store/docs.ts';
import { compareStamps, maxDateOr, metaTimeToDate } from '../stamp.ts';

/** Target and emoji from the raw message, for events written before message.inbound carried them. */
function fromRaw(raw: string): { target: string | null; emoji: string | null } {
  try {
    const r = (JSON.parse(raw) as { reaction?: { message_id?: unknown; emoji?: unknown } } | null)?.reaction;
    return { target: typeof r?.message_id === 'string' ? r.message_id : null, emoji: typeof r?.emoji === 'string' ? r.emoji : null };
  } catch {
    return { target: null, emoji: null };
  }
}

/** The reaction an inbound event carries, as the entry its target keeps; null when the event is no reaction, or
 *  names no target or no user (the reaction message itself is still stored). */
export function reactionOf(e: MessageInboundEvent): { target: string; entry: ReactionEntry } | null {
  if (e.message_type !== 'reaction') return null;
  const { target, emoji } = e.reaction_message_id !== null ? { target: e.reaction_message_id, emoji: e.reaction_emoji } : fromRaw(e.raw);
  if (!target) return null;
  const from = e.from ?? e.contact?.wa_id ?? null;
  const fromUserId = e.from_user_id ?? e.contact?.user_id ?? null;
  const key = fromUserId ? `uid:${fromUserId}` : from ? `wa:${from}` : null;
  if (key === null) return null;
  return {
    target,
    entry: {
      key,
      from,
      from_user_id: fromUserId,
      emoji: emoji !== null && emoji.trim() !== '' ? emoji : null,
      at: metaTimeToDate(e.meta_timestamp) ?? new Date(e.received_at),
      event_id: e.event_id,
      wamid: e.wamid,
    },
  };
}

const byKey = (a: ReactionEntry, b: ReactionEntry) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** One user's reaction applied to the target: it replaces that user's entry only when newer (a redelivery, or an
 *  older reaction arriving late, changes nothing). */
export function applyReaction(doc: MessageDoc, entry: ReactionEntry, receivedAt: Date): MessageDoc {
  const current = doc.reactions ?? [];
  const held = current.find((r) => r.key === entry.key);
  if (held && (held.event_id === entry.event_id || compareStamps(held, entry) >= 0)) return doc;
  return {
    ...doc,
    reactions: [...current.filter((r) => r.key !== entry.key), entry].sort(byKey),
    updated_at: maxDateOr(doc.updated_at, receivedAt),
  };
}
