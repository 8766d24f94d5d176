import { z } from 'zod';
import { type TemplateDoc } from '../store/docs.ts';
import { isoOrNull, timestamp } from './common.ts';

export const TEMPLATE_STATUSES = [
  'approved',
  'pending',
  'rejected',
  'paused',
  'flagged',
  'in_appeal',
  'pending_deletion',
  'limit_exceeded',
  'disabled',
  'deleted',
  'archived',
  'draft',
] as const;

export const Template = z
  .object({
    id: z.string(),
    template_id: z.string().meta({ description: "Meta's template id (a decimal string: it can exceed 2^53)." }),
    waba_id: z.string(),
    name: z.string().nullable(),
    language: z.string().nullable(),
    category: z.string().nullable(),
    pending_category: z.object({ category: z.string().nullable(), effective_at: timestamp().nullable() }).nullable(),
    whatsapp_status: z.string().meta({ description: `Mirrors Meta: ${TEMPLATE_STATUSES.join(', ')} (lower case).` }),
    status_reason: z.string().nullable(),
    last_event: z.string().nullable().meta({ description: "Meta's newest status event as sent (e.g. APPROVED, UNARCHIVED, LOCKED)." }),
    locked: z.boolean(),
    broadcastable: z.boolean().meta({ description: 'Usable for broadcasts (approved, or flagged which Meta still sends).' }),
    whatsapp_quality_rating: z.string().nullable().meta({ description: 'GREEN, YELLOW, RED or UNKNOWN.' }),
    previous_quality_rating: z.string().nullable(),
    components: z
      .object({
        title: z.string().nullable(),
        element: z.string().nullable(),
        footer: z.string().nullable(),
        buttons: z.array(
          z.object({
            type: z.string().nullable(),
            text: z.string().nullable(),
            url: z.string().nullable(),
            phone_number: z.string().nullable(),
          }),
        ),
      })
      .nullable(),
    details: z
      .object({
        disable_date: z.union([z.string(), z.number()]).nullable(),
        other_info_title: z.string().nullable(),
        other_info_description: z.string().nullable(),
        rejection_reason: z.string().nullable(),
        rejection_recommendation: z.string().nullable(),
      })
      .nullable(),
    status_events: z.array(z.object({ event: z.string(), at: timestamp(), reason: z.string().nullable() })),
    updated_at: timestamp().nullable(),
  })
  .meta({ id: 'Template' });

export const templateView = (t: TemplateDoc): z.input<typeof Template> => ({
  id: t._id,
  template_id: t.template_id,
  waba_id: t.waba_id,
  name: t.name,
  language: t.language,
  category: t.category,
  pending_category: t.pending_category
    ? { category: t.pending_category.category, effective_at: isoOrNull(t.pending_category.effective_at) }
    : null,
  whatsapp_status: t.whatsapp_status,
  status_reason: t.status_reason,
  last_event: t.last_event,
  locked: t.locked,
  broadcastable: t.broadcastable,
  whatsapp_quality_rating: t.whatsapp_quality_rating,
  previous_quality_rating: t.previous_quality_rating,
  components: t.components,
  details: t.details,
  status_events: [...t.status_events]
    .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.event_id < b.event_id ? -1 : 1))
    .map((e) => ({ event: e.event, at: e.at.toISOString(), reason: e.reason })),
  updated_at: isoOrNull(t.changed_at),
});
