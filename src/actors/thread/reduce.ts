// Pure state transitions of a thread. No I/O: handle.ts loads, calls these, and saves.
import { deterministicId } from '../../core/ids.ts';
import { type MessageInboundEvent } from '../../events/generated/event-types.ts';
import { type ThreadDoc } from '../../store/threads.ts';

export const WINDOW_MS = 24 * 60 * 60 * 1000;

/** Message types that are not a user writing to the business, so they never open the 24-hour window
 *  (docs/meta-webhooks.md §10: system notices do not count). */
const NOT_USER_INITIATED = new Set(['system']);

/** The stable side of a contact's identity: the BSUID when Meta sent one, else the phone-based wa_id. */
export function contactKeyOf(e: MessageInboundEvent): string | null {
  return e.contact?.user_id ?? e.from_user_id ?? e.contact?.wa_id ?? e.from ?? null;
}

export function threadIdOf(e: MessageInboundEvent): string | null {
  const contactKey = contactKeyOf(e);
  return contactKey === null ? null : deterministicId('thr', e.waba_id, e.phone_number_id ?? '', contactKey);
}

/** Meta's timestamp (Unix seconds as string or number) as a Date, or null when absent or unreadable. */
export function metaTimeToDate(t: string | number | null): Date | null {
  if (t === null) return null;
  const n = typeof t === 'number' ? t : /^\d+$/.test(t) ? Number(t) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? new Date(n * 1000) : null;
}

const later = (a: Date | null, b: Date | null): Date | null => (a === null ? b : b === null ? a : a >= b ? a : b);

export type ThreadReduceResult = { kind: 'applied'; thread: ThreadDoc } | { kind: 'skipped'; reason: string };

/** Applies one inbound message to its thread. Idempotent and order-free: every field is a max or a newest-wins. */
export function applyInbound(doc: ThreadDoc | null, e: MessageInboundEvent, now: Date): ThreadReduceResult {
  const id = threadIdOf(e);
  const contactKey = contactKeyOf(e);
  if (id === null || contactKey === null) return { kind: 'skipped', reason: 'message has neither a wa_id nor a user_id' };
  const at = metaTimeToDate(e.meta_timestamp) ?? new Date(e.received_at);
  const base: ThreadDoc = doc ?? {
    _id: id,
    waba_id: e.waba_id,
    phone_number_id: e.phone_number_id,
    contact_key: contactKey,
    contact: { wa_id: null, user_id: null, name: null, username: null },
    contact_seen_at: null,
    last_message_at: null,
    last_inbound_at: null,
    window_expires_at: null,
    unread_count: 0,
    created_at: now,
    updated_at: now,
  };
  const newestForContact = base.contact_seen_at === null || at >= base.contact_seen_at;
  const contact = e.contact && newestForContact
    ? {
        wa_id: e.contact.wa_id ?? base.contact.wa_id,
        user_id: e.contact.user_id ?? base.contact.user_id,
        name: e.contact.name ?? base.contact.name,
        username: e.contact.username ?? base.contact.username,
      }
    : {
        wa_id: base.contact.wa_id ?? e.contact?.wa_id ?? e.from,
        user_id: base.contact.user_id ?? e.contact?.user_id ?? e.from_user_id,
        name: base.contact.name ?? e.contact?.name ?? null,
        username: base.contact.username ?? e.contact?.username ?? null,
      };
  const opensWindow = !NOT_USER_INITIATED.has(e.message_type);
  return {
    kind: 'applied',
    thread: {
      ...base,
      contact,
      contact_seen_at: e.contact ? later(base.contact_seen_at, at) : base.contact_seen_at,
      last_message_at: later(base.last_message_at, at),
      last_inbound_at: later(base.last_inbound_at, at),
      window_expires_at: opensWindow ? later(base.window_expires_at, new Date(at.getTime() + WINDOW_MS)) : base.window_expires_at,
      updated_at: now,
    },
  };
}
