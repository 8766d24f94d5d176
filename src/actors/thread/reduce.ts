// Threads: one conversation between a business phone number and a contact. Pure functions; every field is a
// max, a recount or a snapshot, so duplicates and reordering cannot change the result.
import { type ContactDoc, type ThreadDoc, type UnreadEntry } from '../../store/docs.ts';
import { maxDate, maxDateOr } from '../stamp.ts';

export const WINDOW_MS = 24 * 60 * 60 * 1000;

/** Message types that are not the user writing to the business, so they never open the 24-hour window.
 *  docs/meta-webhooks.md §10: system notices do not count; reactions, media, interactive replies, orders,
 *  unsupported and request_welcome do (Meta: "when a WhatsApp user messages you"). */
const NOT_USER_INITIATED: ReadonlySet<string> = new Set(['system']);

export const opensWindow = (messageType: string): boolean => !NOT_USER_INITIATED.has(messageType);

export { threadIdOf } from '../../store/doc-ids.ts';

export function emptyThread(id: string, wabaId: string, phoneNumberId: string | null, contact: ContactDoc, at: Date): ThreadDoc {
  return withContact(
    {
      _id: id,
      waba_id: wabaId,
      phone_number_id: phoneNumberId,
      contact_id: contact._id,
      contact: { wa_id: null, user_id: null, name: null, username: null, opted_out_at: null, marketing_opted_out_at: null },
      last_message_at: null,
      last_inbound_at: null,
      window_expires_at: null,
      unread: [],
      unread_count: 0,
      unread_capped: false,
      read_up_to: null,
      updated_at: at,
    },
    contact,
  );
}

/** The thread's copy of its contact (what pollers see in /api/thread/list). */
export function withContact(t: ThreadDoc, c: ContactDoc): ThreadDoc {
  return {
    ...t,
    contact_id: c._id,
    contact: {
      wa_id: c.wa_id,
      user_id: c.user_id,
      name: c.name,
      username: c.username,
      opted_out_at: c.opted_out_at,
      marketing_opted_out_at: c.marketing_opted_out_at ?? null,
    },
    updated_at: maxDateOr(t.updated_at, c.updated_at),
  };
}

/** How many unread messages a thread keeps by id (the newest by Meta time). Beyond it the count shows the bound and
 *  `unread_capped` says there are more: a thread of a million unread messages stays a small document. */
export const UNREAD_KEPT = 1000;

const byTime = (a: UnreadEntry, b: UnreadEntry) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The thread's unread set with `entries` added, all of it after the read mark, bounded to the newest UNREAD_KEPT. */
function withUnread(t: ThreadDoc, entries: readonly UnreadEntry[]): ThreadDoc {
  const readUpTo = t.read_up_to ?? null;
  const byId = new Map(unreadOf(t).map((u) => [u.id, u]));
  for (const e of entries) if (!byId.has(e.id)) byId.set(e.id, e);
  const all = [...byId.values()].filter((u) => readUpTo === null || u.at > readUpTo).sort(byTime);
  const unread = all.length > UNREAD_KEPT ? all.slice(-UNREAD_KEPT) : all;
  return {
    ...withoutOldUnread(t),
    unread,
    unread_count: unread.length,
    unread_capped: (t.unread_capped ?? false) || all.length > UNREAD_KEPT,
    read_up_to: readUpTo,
  };
}

/** The thread without the field documents from before the bound kept their unread ids in (`unread` replaces it). */
function withoutOldUnread(t: ThreadDoc): ThreadDoc {
  if (!('unread_ids' in t)) return t;
  const { unread_ids: _, ...rest } = t as ThreadDoc & { unread_ids?: string[] };
  return rest;
}

/** Marked read up to `upTo` (Meta time): every inbound message at or before it is read; a mark never moves back,
 *  so marks in any order end the same. Messages that fell off the bound are older than every one kept, so they are
 *  read too once the mark reaches the oldest kept (until then the thread stays `unread_capped`). */
export function applyRead(t: ThreadDoc, upTo: Date, receivedAt: Date): ThreadDoc {
  const current = t.read_up_to ?? null;
  if (current !== null && current >= upTo) return t;
  const before = unreadOf(t);
  const unread = before.filter((u) => u.at > upTo);
  const capped = (t.unread_capped ?? false) && !(before.length > 0 && before[0]!.at <= upTo);
  return {
    ...withoutOldUnread(t),
    read_up_to: upTo,
    unread,
    unread_count: unread.length,
    unread_capped: capped,
    updated_at: maxDateOr(t.updated_at, receivedAt),
  };
}

/** The unread set as stored (documents from before the bound hold `unread_ids` without times: oldest of all). */
export const unreadOf = (t: ThreadDoc): UnreadEntry[] =>
  t.unread ?? ((t as { unread_ids?: string[] }).unread_ids ?? []).map((id) => ({ id, at: new Date(0) }));

/** An inbound message of this thread: newest times are maxima; the window is the newest user message + 24 h;
 *  a user message is unread until read (a set of ids, so duplicates count once). */
export function applyInbound(t: ThreadDoc, m: { id: string; at: Date; type: string; receivedAt: Date }): ThreadDoc {
  return {
    ...withUnread(t, opensWindow(m.type) ? [{ id: m.id, at: m.at }] : []),
    last_message_at: maxDate(t.last_message_at, m.at),
    last_inbound_at: maxDate(t.last_inbound_at, m.at),
    window_expires_at: opensWindow(m.type) ? maxDate(t.window_expires_at, new Date(m.at.getTime() + WINDOW_MS)) : t.window_expires_at,
    updated_at: maxDateOr(t.updated_at, m.receivedAt),
  };
}

/** A message the business sent on the thread: it moves only the newest message time (never the window or unread). */
export function applyOutbound(t: ThreadDoc, m: { at: Date; receivedAt: Date }): ThreadDoc {
  return { ...t, last_message_at: maxDate(t.last_message_at, m.at), updated_at: maxDateOr(t.updated_at, m.receivedAt) };
}

/** Threads of one phone number that turned out to belong to one contact become one thread (history and unread
 *  messages kept). It keeps the smallest of their ids; the others are its former ids, and still resolve to it. */
export function mergeThreads(threads: readonly ThreadDoc[], contact: ContactDoc): ThreadDoc {
  const [base, ...rest] = [...threads].sort((a, b) => (a._id < b._id ? -1 : 1));
  const formerIds = [...new Set([...threads.flatMap((t) => t.former_ids ?? []), ...rest.map((t) => t._id)])].sort();
  let merged: ThreadDoc = { ...base!, ...(formerIds.length > 0 ? { former_ids: formerIds } : {}) };
  for (const t of rest) {
    const readUpTo = maxDate(merged.read_up_to ?? null, t.read_up_to ?? null);
    merged = {
      ...withUnread(
        { ...merged, read_up_to: readUpTo, unread_capped: (merged.unread_capped ?? false) || (t.unread_capped ?? false) },
        unreadOf(t),
      ),
      last_message_at: maxDate(merged.last_message_at, t.last_message_at),
      last_inbound_at: maxDate(merged.last_inbound_at, t.last_inbound_at),
      window_expires_at: maxDate(merged.window_expires_at, t.window_expires_at),
      updated_at: maxDateOr(merged.updated_at, t.updated_at),
    };
  }
  return withContact(merged, contact);
}
