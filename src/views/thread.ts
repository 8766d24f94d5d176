import { z } from 'zod';
import { type ThreadDoc } from '../store/docs.ts';
import { isoOrNull, timestamp } from './common.ts';

export const Thread = z
  .object({
    id: z.string().meta({
      description:
        'Given when the thread is created and never changed: not when the contact changes number, nor when two contacts turn out to be one person.',
    }),
    former_ids: z.array(z.string()).meta({
      description:
        'Ids of threads merged into this one (two contacts turned out to be one person, each with a thread on this number). Every one still resolves to this thread.',
    }),
    waba_id: z.string(),
    phone_number_id: z.string().nullable(),
    contact: z.object({
      id: z.string(),
      wa_id: z.string().nullable(),
      user_id: z.string().nullable(),
      name: z.string().nullable(),
      username: z.string().nullable(),
      opted_out_at: timestamp().nullable(),
      marketing_opted_out_at: timestamp().nullable(),
    }),
    last_message_at: timestamp().nullable(),
    last_inbound_at: timestamp().nullable(),
    unread_count: z
      .number()
      .int()
      .meta({ description: 'Inbound messages not read yet (after read_up_to). At most 1000: see unread_capped.' }),
    unread_capped: z.boolean().meta({
      description:
        'More than 1000 messages are unread; unread_count shows 1000. Cleared once the thread is marked read past the oldest of those counted.',
    }),
    read_up_to: timestamp()
      .nullable()
      .meta({ description: 'Every inbound message with a Meta timestamp at or before this was marked read (POST /api/thread/{id}/read).' }),
    window_expires_at: timestamp()
      .nullable()
      .meta({ description: 'End of the 24-hour customer service window (newest user message + 24 h).' }),
    updated_at: timestamp().nullable().meta({ description: 'When EchoCue last changed this thread (what updated_since filters on).' }),
  })
  .meta({ id: 'Thread' });

export const threadView = (t: ThreadDoc): z.input<typeof Thread> => ({
  id: t._id,
  former_ids: t.former_ids ?? [],
  waba_id: t.waba_id,
  phone_number_id: t.phone_number_id,
  contact: {
    id: t.contact_id,
    wa_id: t.contact.wa_id,
    user_id: t.contact.user_id,
    name: t.contact.name,
    username: t.contact.username,
    opted_out_at: isoOrNull(t.contact.opted_out_at),
    marketing_opted_out_at: isoOrNull(t.contact.marketing_opted_out_at ?? null),
  },
  last_message_at: isoOrNull(t.last_message_at),
  last_inbound_at: isoOrNull(t.last_inbound_at),
  unread_count: t.unread_count,
  unread_capped: t.unread_capped ?? false,
  read_up_to: isoOrNull(t.read_up_to ?? null),
  window_expires_at: isoOrNull(t.window_expires_at),
  updated_at: isoOrNull(t.changed_at),
});
