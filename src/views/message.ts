import { z } from 'zod';
import { type MessageDoc } from '../store/docs.ts';
import { MESSAGE_KIND_DOCS, MESSAGE_KINDS, messageKind } from '../store/message-kind.ts';
import { isoOrNull, MetaError, metaErrorView, Pricing, pricingView, timestamp } from './common.ts';

const parseRaw = (raw: string | null): Record<string, unknown> | null => {
  if (raw === null) return null;
  try {
    const v = JSON.parse(raw) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
};

const Kind = z.enum(MESSAGE_KINDS).meta({
  description: `What the message is, from one closed list a client can switch on (\`type\` is Meta's own, open list: Meta adds types). ${MESSAGE_KINDS.map(
    (k) => `\`${k}\`: ${MESSAGE_KIND_DOCS[k]}`,
  ).join('; ')}.`,
});

const Reactions = z
  .array(
    z.object({
      emoji: z.string(),
      from: z.string().nullable().meta({ description: "The reacting user's phone digits (wa_id); null for a username-only user." }),
      from_user_id: z.string().nullable().meta({ description: "The reacting user's BSUID." }),
      at: timestamp().meta({ description: "Meta's time of the reaction." }),
    }),
  )
  .meta({
    id: 'Reactions',
    description:
      "The message's current reactions, one per user, oldest first: the newest reaction of each user by Meta's time (a change replaces it, a removal takes it away).",
  });

/** The reactions a message shows: removed ones left out, oldest first (then by user). */
function reactionsView(m: MessageDoc): z.input<typeof Reactions> {
  return (m.reactions ?? [])
    .filter((r): r is typeof r & { emoji: string } => r.emoji !== null)
    .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => ({ emoji: r.emoji, from: r.from, from_user_id: r.from_user_id, at: r.at.toISOString() }));
}

export const Message = z
  .object({
    id: z.string(),
    wamid: z.string().nullable().meta({ description: "Meta's message id (null for EchoCue's own system entries)." }),
    thread_id: z.string().nullable(),
    direction: z.enum(['inbound', 'outbound', 'system']),
    type: z
      .string()
      .meta({ description: 'Meta message type (text, image, interactive, ...); consent.stop / consent.resume for opt-out entries.' }),
    kind: Kind,
    text: z.string().nullable(),
    reply_to_wamid: z.string().nullable(),
    timestamp: timestamp().nullable(),
    from: z.string().nullable(),
    from_user_id: z.string().nullable(),
    delivery_status: z.string().nullable().meta({ description: 'Outbound only: sent, delivered, read, played or failed.' }),
    whatsapp_status: z.string().nullable(),
    error: MetaError.nullable(),
    content: z
      .record(z.string(), z.unknown())
      .nullable()
      .meta({ description: 'The message object exactly as Meta sent it (inbound only).' }),
    reactions: Reactions,
    updated_at: timestamp().nullable(),
  })
  .meta({ id: 'Message' });

export const messageView = (m: MessageDoc): z.input<typeof Message> => ({
  id: m._id,
  wamid: m.direction === 'system' ? null : m.wamid,
  thread_id: m.thread_id,
  direction: m.direction,
  type: m.type,
  // Documents stored before the kind existed get it from their type.
  kind: m.kind ?? messageKind(m),
  text: m.text,
  reply_to_wamid: m.context_id,
  timestamp: isoOrNull(m.timestamp),
  from: m.from,
  from_user_id: m.from_user_id,
  delivery_status: m.delivery_status,
  whatsapp_status: m.whatsapp_status,
  error: m.error ? metaErrorView(m.error) : null,
  content: parseRaw(m.raw),
  reactions: reactionsView(m),
  updated_at: isoOrNull(m.changed_at),
});

export const Notification = z
  .object({
    id: z.string(),
    wamid: z.string(),
    waba_id: z.string(),
    phone_number_id: z.string().nullable(),
    recipient: z.object({ wa_id: z.string().nullable(), user_id: z.string().nullable() }),
    delivery_status: z.string().nullable().meta({ description: 'sent -> delivered -> read (or played), or failed with `error`.' }),
    whatsapp_status: z.string().nullable().meta({ description: 'The status as Meta last reported it.' }),
    error: MetaError.nullable(),
    status_history: z.array(z.object({ status: z.string(), at: timestamp(), errors: z.array(MetaError) })),
    pricing: Pricing.nullable(),
    biz_opaque_callback_data: z.string().nullable(),
    reactions: Reactions,
    updated_at: timestamp().nullable(),
  })
  .meta({ id: 'Notification', description: "One outbound message's delivery state." });

export const notificationView = (m: MessageDoc): z.input<typeof Notification> => ({
  id: m._id,
  wamid: m.wamid,
  waba_id: m.waba_id,
  phone_number_id: m.phone_number_id,
  recipient: { wa_id: m.recipient_id, user_id: m.recipient_user_id },
  delivery_status: m.delivery_status,
  whatsapp_status: m.whatsapp_status,
  error: m.error ? metaErrorView(m.error) : null,
  status_history: [...m.status_history]
    .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.status < b.status ? -1 : 1))
    .map((h) => ({ status: h.status, at: h.at.toISOString(), errors: h.errors.map(metaErrorView) })),
  pricing: pricingView(m.pricing),
  biz_opaque_callback_data: m.biz_opaque_callback_data,
  reactions: reactionsView(m),
  updated_at: isoOrNull(m.changed_at),
});
