import { z } from 'zod';
import { type ThreadDoc } from '../store/docs.ts';
import { isoOrNull, timestamp } from './common.ts';

export const Window = z
  .object({
    phone_number_id: z.string(),
    contact_id: z.string().nullable(),
    thread_id: z.string().nullable(),
    open: z.boolean().meta({ description: 'True while freeform (non-template) messages may be sent to this contact from this number.' }),
    expires_at: timestamp()
      .nullable()
      .meta({ description: 'When the window closes (or closed); null when the contact never wrote to this number.' }),
    last_inbound_at: timestamp().nullable(),
  })
  .meta({ id: 'Window', description: "WhatsApp's 24-hour customer service window between a business phone number and a contact." });

export const windowView = (
  phoneNumberId: string,
  contactId: string | null,
  thread: ThreadDoc | null,
  now: Date,
): z.input<typeof Window> => ({
  phone_number_id: phoneNumberId,
  contact_id: contactId,
  thread_id: thread?._id ?? null,
  open: thread?.window_expires_at != null && thread.window_expires_at.getTime() > now.getTime(),
  expires_at: isoOrNull(thread?.window_expires_at),
  last_inbound_at: isoOrNull(thread?.last_inbound_at),
});
