// The outbound webhook event types and their versioned payloads (the envelope's `data`), as customers subscribe to
// them. Version 1 of each is what the first release sent: the REST API's shapes (src/views) of the state the event
// left. A changed shape is a new version, rendered from version 1's data by a pure function, so an endpoint keeps
// the version it subscribed to while others move on. The OpenAPI document lists each (type, version) under
// `webhooks` (src/api/openapi.ts), so a receiver can generate its types. Examples here are what test events send;
// a unit test parses each with its schema, so they cannot drift.
import { z } from 'zod';
import { CATEGORIES, type Category } from '../events/outbound.ts';
import { MetaError, Pricing, timestamp } from './common.ts';
import { Contact } from './contact.ts';
import { Message, Notification } from './message.ts';
import { Template } from './template.ts';
import { Thread } from './thread.ts';

const Consent = z.object({
  value: z.enum(['stop', 'resume']),
  scope: z.enum(['all', 'marketing']),
  source: z.enum(['user_preferences', 'keyword', 'status_131050']),
  at: timestamp().optional().meta({ description: 'When the contact changed it (keyword and 131050 changes).' }),
  category: z.string().nullable().optional().meta({ description: "Meta's user_preferences category (user_preferences changes)." }),
  contact: Contact,
});

const StatusV2 = z.object({
  status: z.string().meta({ description: 'The status Meta reported: sent, delivered, read, played or failed.' }),
  message: z.object({
    id: z.string(),
    wamid: z.string(),
    waba_id: z.string(),
    phone_number_id: z.string().nullable(),
    recipient: z.object({ wa_id: z.string().nullable(), user_id: z.string().nullable() }),
    delivery_status: z.string().nullable(),
    error: MetaError.nullable(),
    pricing: Pricing.nullable(),
    biz_opaque_callback_data: z.string().nullable(),
  }),
});

type Version = Readonly<{
  schema: z.ZodType;
  /** From version 1's data to this version's (identity for version 1). */
  render: (v1: Readonly<Record<string, unknown>>) => unknown;
  summary: string;
}>;

const same = (v1: Readonly<Record<string, unknown>>) => v1;

/** Every event type's versions, oldest first (index 0 is version 1). */
export const EVENT_VERSIONS: Readonly<Record<Category, readonly Version[]>> = {
  'message.inbound': [
    { schema: z.object({ message: Message, thread: Thread }), render: same, summary: 'A message a contact sent, with its thread after it' },
  ],
  'message.status': [
    {
      schema: z.object({ status: z.string(), notification: Notification }),
      render: same,
      summary: "A delivery status of a message sent to a contact, with the message's whole delivery state",
    },
    {
      schema: StatusV2,
      render: (v1) => {
        const n = v1['notification'] as z.output<typeof Notification>;
        return {
          status: v1['status'],
          message: {
            id: n.id,
            wamid: n.wamid,
            waba_id: n.waba_id,
            phone_number_id: n.phone_number_id,
            recipient: n.recipient,
            delivery_status: n.delivery_status,
            error: n.error,
            pricing: n.pricing,
            biz_opaque_callback_data: n.biz_opaque_callback_data,
          },
        };
      },
      summary: 'A delivery status, slim: the status and the message it is about, without its history and reactions',
    },
  ],
  'template.status': [
    {
      schema: z.object({ event: z.string(), reason: z.string().nullable(), template: Template }),
      render: same,
      summary: 'A template review or state change (APPROVED, REJECTED, PAUSED, DISABLED, ...), with the template after it',
    },
  ],
  'template.quality': [
    {
      schema: z.object({ previous_quality_score: z.string().nullable(), new_quality_score: z.string().nullable(), template: Template }),
      render: same,
      summary: "A template's quality rating changed",
    },
  ],
  'consent.event': [
    { schema: Consent, render: same, summary: 'A contact opted out or back in (a keyword, user_preferences, a 131050 failure)' },
  ],
};

export const latestVersion = (type: Category): number => EVENT_VERSIONS[type].length;
export const isVersionOf = (type: Category, version: number): boolean =>
  Number.isInteger(version) && version >= 1 && version <= EVENT_VERSIONS[type].length;

/** The envelope a receiver parses: version 1 keeps the first release's shape (no `version` field); later versions
 *  carry theirs. `test: true` only on test events. */
export const envelopeSchema = (type: Category, version: number) =>
  z
    .object({
      id: z.string().meta({ description: 'The event id, the same on every attempt and replay (webhook-id): dedupe on it.' }),
      type: z.literal(type),
      ...(version > 1 ? { version: z.literal(version) } : {}),
      created_at: timestamp().meta({ description: 'When EchoCue received what caused the event.' }),
      test: z.literal(true).optional().meta({ description: 'Present on test events only (POST /api/webhooks/endpoints/{id}/test).' }),
      data: EVENT_VERSIONS[type][version - 1]!.schema,
    })
    .meta({ id: `WebhookEvent_${type.replace('.', '_')}_v${version}` });

/** Version `version`'s data of an event, from its version-1 data. */
export const renderData = (type: Category, version: number, v1: Readonly<Record<string, unknown>>): unknown =>
  EVENT_VERSIONS[type][version - 1]!.render(v1);

const AT = '2026-03-02T09:15:00.000Z';
const contact = {
  id: 'ct_example',
  former_ids: [],
  waba_id: '104719385562013',
  wa_id: '15550199001',
  user_id: null,
  name: 'Example Contact',
  username: null,
  opted_out_at: null,
  marketing_opted_out_at: null,
  consent: [],
  needs_review: null,
  unreachable: null,
  thread_ids: ['th_example'],
  updated_at: AT,
};
const thread = {
  id: 'th_example',
  former_ids: [],
  waba_id: contact.waba_id,
  phone_number_id: '112356789045671',
  contact: {
    id: contact.id,
    wa_id: contact.wa_id,
    user_id: null,
    name: contact.name,
    username: null,
    opted_out_at: null,
    marketing_opted_out_at: null,
  },
  last_message_at: AT,
  last_inbound_at: AT,
  unread_count: 1,
  unread_capped: false,
  read_up_to: null,
  window_expires_at: '2026-03-03T09:15:00.000Z',
  updated_at: AT,
};
const template = {
  id: 'tpl_example',
  template_id: '991234567890123',
  waba_id: contact.waba_id,
  name: 'appointment_reminder',
  language: 'en_US',
  category: 'UTILITY',
  pending_category: null,
  whatsapp_status: 'paused',
  status_reason: 'LOW_QUALITY',
  last_event: 'PAUSED',
  locked: false,
  broadcastable: false,
  whatsapp_quality_rating: 'RED',
  previous_quality_rating: 'YELLOW',
  components: null,
  details: null,
  status_events: [{ event: 'PAUSED', at: AT, reason: 'LOW_QUALITY' }],
  updated_at: AT,
};

/** Version-1 data of an example event of each type (what a test event carries, rendered in the asked version). */
export const EXAMPLES: Readonly<Record<Category, Readonly<Record<string, unknown>>>> = {
  'message.inbound': {
    message: {
      id: 'msg_example',
      wamid: 'wamid.EXAMPLE',
      thread_id: thread.id,
      direction: 'inbound',
      type: 'text',
      kind: 'text',
      text: 'This is a test event from EchoCue',
      reply_to_wamid: null,
      timestamp: AT,
      from: contact.wa_id,
      from_user_id: null,
      delivery_status: null,
      whatsapp_status: null,
      error: null,
      content: { type: 'text', text: { body: 'This is a test event from EchoCue' } },
      reactions: [],
      updated_at: AT,
    },
    thread,
  },
  'message.status': {
    status: 'failed',
    notification: {
      id: 'msg_example_out',
      wamid: 'wamid.EXAMPLE_OUT',
      waba_id: contact.waba_id,
      phone_number_id: thread.phone_number_id,
      recipient: { wa_id: contact.wa_id, user_id: null },
      delivery_status: 'failed',
      whatsapp_status: 'failed',
      error: { code: 131026, title: 'Message undeliverable', message: null, details: null, href: null },
      status_history: [
        { status: 'sent', at: AT, errors: [] },
        { status: 'failed', at: AT, errors: [{ code: 131026, title: 'Message undeliverable', message: null, details: null, href: null }] },
      ],
      pricing: null,
      biz_opaque_callback_data: null,
      reactions: [],
      updated_at: AT,
    },
  },
  'template.status': { event: 'PAUSED', reason: 'LOW_QUALITY', template },
  'template.quality': { previous_quality_score: 'YELLOW', new_quality_score: 'RED', template },
  'consent.event': { value: 'stop', scope: 'all', source: 'keyword', at: AT, contact: { ...contact, opted_out_at: AT } },
};

export { CATEGORIES as EVENT_TYPES };
