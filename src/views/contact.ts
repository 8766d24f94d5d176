import { z } from 'zod';
import { type ContactDoc } from '../store/docs.ts';
import { isoOrNull, timestamp } from './common.ts';

export const Contact = z
  .object({
    id: z.string(),
    waba_id: z.string(),
    wa_id: z.string().nullable().meta({ description: 'Phone-based WhatsApp id (may be absent for username-only users).' }),
    user_id: z.string().nullable().meta({ description: 'Business-scoped user id (BSUID).' }),
    name: z.string().nullable(),
    username: z.string().nullable(),
    opted_out_at: timestamp().nullable().meta({ description: 'Set while the newest consent entry is a stop; null otherwise.' }),
    consent: z.array(
      z.object({ at: timestamp(), value: z.enum(['stop', 'resume']), source: z.enum(['user_preferences', 'keyword']), category: z.string().nullable() }),
    ),
    thread_ids: z.array(z.string()),
    updated_at: timestamp().nullable(),
  })
  .meta({ id: 'Contact' });

const alias = (aliases: readonly string[], prefix: string): string[] => aliases.filter((a) => a.startsWith(prefix)).map((a) => a.slice(prefix.length));

export const contactView = (c: ContactDoc): z.input<typeof Contact> => ({
  id: c._id,
  waba_id: c.waba_id,
  wa_id: c.wa_id ?? alias(c.aliases, 'wa:')[0] ?? null,
  user_id: c.user_id ?? alias(c.aliases, 'uid:')[0] ?? null,
  name: c.name,
  username: c.username,
  opted_out_at: isoOrNull(c.opted_out_at),
  consent: [...c.consent]
    .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.event_id < b.event_id ? -1 : 1))
    .map((e) => ({ at: e.at.toISOString(), value: e.value, source: e.source, category: e.category })),
  thread_ids: c.thread_ids,
  updated_at: isoOrNull(c.changed_at),
});
