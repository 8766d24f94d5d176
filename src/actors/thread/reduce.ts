// Threads: one conversation between a business phone number and a contact. Pure functions; every field is a
// max, a recount or a snapshot, so duplicates and reordering cannot change the result.
import { type ContactDoc, type ThreadDoc } from '../../store/docs.ts';
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
      unread_ids: [],
      unread_count: 0,
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
    contact: { wa_id: c.wa_id, user_id: c.user_id, name: c.name, username: c.username, opted_out_at: c.opted_out_at, marketing_opted_out_at: c.marketing_opted_out_at ?? null },
    updated_at: maxDateOr(t.updated_at, c.updated_at),
  };
}

const withUnread = (t: ThreadDoc, ids: readonly string[]): ThreadDoc => {
  const unread_ids = [...new Set([...t.unread_ids, ...ids])].sort();
  return { ...t, unread_ids, unread_count: unread_ids.length };
};

/** An inbound message of this thread: newest times are maxima; the window is the newest user message + 24 h;
 *  a user message is unread until read (a set of ids, so duplicates count once). */
export function applyInbound(t: ThreadDoc, m: { id: string; at: Date; type: string; receivedAt: Date }): ThreadDoc {
  return {
    ...withUnread(t, opensWindow(m.type) ? [m.id] : []),
    last_message_at: maxDate(t.last_message_at, m.at),
    last_inbound_at: maxDate(t.last_inbound_at, m.at),
    window_expires_at: opensWindow(m.type) ? maxDate(t.window_expires_at, new Date(m.at.getTime() + WINDOW_MS)) : t.window_expires_at,
    updated_at: maxDateOr(t.updated_at, m.receivedAt),
  };
}

/** Threads of one phone number that turned out to belong to one contact become one thread (history and unread
 *  messages kept). It keeps the smallest of their ids; the others are its former ids, and still resolve to it. */
export function mergeThreads(threads: readonly ThreadDoc[], contact: ContactDoc): ThreadDoc {
  const [base, ...rest] = [...threads].sort((a, b) => (a._id < b._id ? -1 : 1));
  const formerIds = [...new Set([...threads.flatMap((t) => t.former_ids ?? []), ...rest.map((t) => t._id)])].sort();
  let merged: ThreadDoc = { ...base!, ...(formerIds.length > 0 ? { former_ids: formerIds } : {}) };
  for (const t of rest) {
    merged = {
      ...withUnread(merged, t.unread_ids),
      last_message_at: maxDate(merged.last_message_at, t.last_message_at),
      last_inbound_at: maxDate(merged.last_inbound_at, t.last_inbound_at),
      window_expires_at: maxDate(merged.window_expires_at, t.window_expires_at),
      updated_at: maxDateOr(merged.updated_at, t.updated_at),
    };
  }
  return withContact(merged, contact);
}
