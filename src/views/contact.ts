import { z } from 'zod';
import { type ContactDoc } from '../store/docs.ts';
import { isoOrNull, timestamp } from './common.ts';
import { consentScope, currentUnreachable } from '../store/contact-state.ts';

export const Contact = z
  .object({
    id: z.string().meta({
      description:
        'Given when the contact is created and never changed: a new number or BSUID becomes another alias, and when two contacts turn out to be one person one of their ids stays and the other becomes a former id.',
    }),
    former_ids: z.array(z.string()).meta({
      description:
        'Ids of contacts merged into this one. Every one still resolves to this contact, as does every wa_id and BSUID it was ever known by.',
    }),
    waba_id: z.string(),
    wa_id: z.string().nullable().meta({ description: 'Phone-based WhatsApp id (may be absent for username-only users).' }),
    user_id: z.string().nullable().meta({ description: 'Business-scoped user id (BSUID).' }),
    name: z.string().nullable(),
    username: z.string().nullable(),
    opted_out_at: timestamp().nullable().meta({
      description:
        'Opted out of everything: set while the newest consent entry of scope `all` (a stop keyword typed in the chat) is a stop; null otherwise. While set, send nothing to this contact.',
    }),
    marketing_opted_out_at: timestamp().nullable().meta({
      description:
        "Opted out of marketing only: set while the newest entry of scope `marketing` (Meta's user_preferences, or a marketing message that failed with 131050) is a stop. Marketing templates check both fields; utility templates and replies inside the 24-hour window check only opted_out_at.",
    }),
    consent: z
      .array(
        z.object({
          at: timestamp(),
          value: z.enum(['stop', 'resume']),
          scope: z.enum(['all', 'marketing']).meta({ description: 'all: every message (keywords); marketing: marketing templates only.' }),
          source: z.enum(['user_preferences', 'keyword', 'status_131050']),
          category: z.string().nullable(),
        }),
      )
      .meta({
        description:
          'Every consent change, oldest first; each level resumes only by its own kind of event (a resume keyword; user_preferences resume).',
      }),
    needs_review: z
      .object({
        reason: z.enum(['stop_keyword_near_miss']),
        text: z.string(),
        wamid: z.string().meta({ description: 'The message that raised the flag.' }),
        at: timestamp(),
      })
      .nullable()
      .meta({
        description:
          'A message that looks like an opt-out but is not exactly a keyword ("stop sending promos", "don\'t stop"): nothing was applied; a person should decide. Cleared with POST /api/contact/{id}/review/clear; a later such message flags again.',
      }),
    unreachable: z
      .object({ code: z.union([z.number(), z.string()]).nullable(), title: z.string().nullable(), at: timestamp(), wamid: z.string() })
      .nullable()
      .meta({
        description:
          'The newest failure that means messages cannot reach this contact (131026, 131021, 131030), unless the contact wrote to the business after it; null otherwise.',
      }),
    thread_ids: z.array(z.string()),
    updated_at: timestamp().nullable(),
  })
  .meta({ id: 'Contact' });

const alias = (aliases: readonly string[], prefix: string): string[] =>
  aliases.filter((a) => a.startsWith(prefix)).map((a) => a.slice(prefix.length));

/** `reviewCleared`: a person cleared the current review flag (src/store/contacts.ts). */
export const contactView = (c: ContactDoc, opts: { reviewCleared?: boolean } = {}): z.input<typeof Contact> => ({
  id: c._id,
  former_ids: c.former_ids ?? [],
  waba_id: c.waba_id,
  wa_id: c.wa_id ?? alias(c.aliases, 'wa:')[0] ?? null,
  user_id: c.user_id ?? alias(c.aliases, 'uid:')[0] ?? null,
  name: c.name,
  username: c.username,
  opted_out_at: isoOrNull(c.opted_out_at),
  marketing_opted_out_at: isoOrNull(c.marketing_opted_out_at ?? null),
  consent: [...c.consent]
    .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.event_id < b.event_id ? -1 : 1))
    .map((e) => ({ at: e.at.toISOString(), value: e.value, scope: consentScope(e), source: e.source, category: e.category })),
  needs_review:
    c.needs_review && !opts.reviewCleared
      ? { reason: c.needs_review.reason, text: c.needs_review.text, wamid: c.needs_review.wamid, at: c.needs_review.at.toISOString() }
      : null,
  unreachable: unreachableView(currentUnreachable(c)),
  thread_ids: c.thread_ids,
  updated_at: isoOrNull(c.changed_at),
});

const unreachableView = (u: ContactDoc['unreachable']) =>
  u ? { code: u.code, title: u.title, at: u.at.toISOString(), wamid: u.wamid } : null;
