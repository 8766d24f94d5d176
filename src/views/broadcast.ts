import { z } from 'zod';
import { type BroadcastRecipientDoc, type MessageDoc } from '../store/docs.ts';
import { MetaError, metaErrorView, timestamp, isoOrNull } from './common.ts';

export const RECIPIENT_STATES = ['pending', 'sent', 'delivered', 'read', 'failed', 'skipped'] as const;
export type RecipientState = (typeof RECIPIENT_STATES)[number];

/** A recipient's current state: skipped (opted out before the send, or the broadcast stopped) wins, then a send Meta
 *  refused; then the delivery state of the message it was sent (the one the actors copied onto the recipient, else
 *  its message's; played counts as read); else pending (not sent yet, or no status yet). */
export function recipientState(r: BroadcastRecipientDoc, m: MessageDoc | null): RecipientState {
  if (r.status === 'skipped') return 'skipped';
  if (r.status === 'failed') return 'failed';
  const status = r.delivery_status ?? m?.delivery_status;
  const delivery = status === 'played' ? 'read' : status;
  if (delivery === 'sent' || delivery === 'delivered' || delivery === 'read' || delivery === 'failed') return delivery;
  return 'pending';
}

export const Recipient = z
  .object({
    id: z.string(),
    wa_id: z.string().nullable(),
    user_id: z.string().nullable(),
    wamid: z.string().nullable(),
    status: z.enum(RECIPIENT_STATES),
    skip_reason: z.string().nullable(),
    error: MetaError.nullable(),
    updated_at: timestamp().nullable(),
  })
  .meta({ id: 'BroadcastRecipient' });

export const recipientView = (r: BroadcastRecipientDoc, m: MessageDoc | null): z.input<typeof Recipient> => ({
  id: r._id,
  // ?? null: FerretDB v1 leaves a null out of a document written through $setOnInsert (src/store/broadcasts.ts).
  wa_id: r.wa_id ?? null,
  user_id: r.user_id ?? null,
  wamid: r.wamid ?? null,
  status: recipientState(r, m),
  skip_reason: r.status === 'skipped' ? (r.skip_reason ?? null) : null,
  error: r.send_error
    ? { code: r.send_error.code, title: null, message: r.send_error.message, details: null, href: null }
    : m?.error
      ? metaErrorView(m.error)
      : r.delivery_error
        ? { code: r.delivery_error.code, title: r.delivery_error.title, message: null, details: null, href: null }
        : null,
  updated_at: isoOrNull([r.changed_at, m?.changed_at].filter((d): d is Date => !!d).sort((a, b) => b.getTime() - a.getTime())[0]),
});

export const Counts = z
  .object({
    total: z.number().int(),
    ...(Object.fromEntries(RECIPIENT_STATES.map((s) => [s, z.number().int()])) as Record<RecipientState, z.ZodNumber>),
  })
  .meta({ id: 'BroadcastCounts', description: 'Each recipient counted once, in its current state.' });

export function countStates(states: readonly RecipientState[]): z.input<typeof Counts> {
  const counts = Object.fromEntries(RECIPIENT_STATES.map((s) => [s, 0])) as Record<RecipientState, number>;
  for (const s of states) counts[s] += 1;
  return { total: states.length, ...counts };
}
