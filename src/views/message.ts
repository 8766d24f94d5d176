import { z } from 'zod';
import { type MessageDoc } from '../store/docs.ts';
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

export const Message = z
  .object({
    id: z.string(),
    wamid: z.string().nullable().meta({ description: "Meta's message id (null for EchoCue's own system entries)." }),
    thread_id: z.string().nullable(),
    direction: z.enum(['inbound', 'outbound', 'system']),
    type: z.string().meta({ description: 'Meta message type (text, image, interactive, ...); consent.stop / consent.resume for opt-out entries.' }),
    text: z.string().nullable(),
    reply_to_wamid: z.string().nullable(),
    timestamp: timestamp().nullable(),
    from: z.string().nullable(),
    from_user_id: z.string().nullable(),
    delivery_status: z.string().nullable().meta({ description: 'Outbound only: sent, delivered, read, played or failed.' }),
    whatsapp_status: z.string().nullable(),
    error: MetaError.nullable(),
    content: z.record(z.string(), z.unknown()).nullable().meta({ description: "The message object exactly as Meta sent it (inbound only)." }),
    updated_at: timestamp().nullable(),
  })
  .meta({ id: 'Message' });

export const messageView = (m: MessageDoc): z.input<typeof Message> => ({
  id: m._id,
  wamid: m.direction === 'system' ? null : m.wamid,
  thread_id: m.thread_id,
  direction: m.direction,
  type: m.type,
  text: m.text,
  reply_to_wamid: m.context_id,
  timestamp: isoOrNull(m.timestamp),
  from: m.from,
  from_user_id: m.from_user_id,
  delivery_status: m.delivery_status,
  whatsapp_status: m.whatsapp_status,
  error: m.error ? metaErrorView(m.error) : null,
  content: parseRaw(m.raw),
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
  updated_at: isoOrNull(m.changed_at),
});
