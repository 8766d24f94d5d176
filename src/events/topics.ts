// Topic names and the event-type catalog. Names are versioned; a prefix isolates environments and tests.
// docs/topics.md is generated from this catalog (`make gen`) for data teams.

type CatalogEntry = Readonly<{
  topic: string;
  schema: string;
  /** What the events are, for the topic catalog. */
  description: string;
  /** Who reads the topic (documentation, for data teams). */
  consumers: readonly string[];
}>;

/** Every event type EchoCue writes, with its topic base name and Avro schema file in schemas/. */
export const EVENT_CATALOG = {
  'message.inbound': {
    topic: 'whatsapp.message.inbound.v1',
    schema: 'message.inbound.avsc',
    description: 'Each inbound message (value.messages[] of a `messages` change), every type including unknown ones',
    consumers: [
      'actors (ec_message, ec_thread, ec_contact: the message, its thread, the sender, keyword opt-outs, reactions)',
      'outbound webhooks (message.inbound, through the notifications topic)',
    ],
  },
  'message.status': {
    topic: 'whatsapp.message.status.v1',
    schema: 'message.status.avsc',
    description: 'Each delivery status of an outbound message (value.statuses[]): sent, delivered, read, played, failed, ...',
    consumers: [
      'actors (ec_message: delivery status and history; ec_contact: the recipient, reachability, 131050 opt-outs)',
      'outbound webhooks (message.status, through the notifications topic)',
    ],
  },
  'template.status': {
    topic: 'whatsapp.template.status.v1',
    schema: 'template.status.avsc',
    description: 'Template review and lifecycle events (message_template_status_update), every Meta event value',
    consumers: ['actors (ec_template: status, broadcastable)', 'outbound webhooks (template.status)'],
  },
  'template.quality': {
    topic: 'whatsapp.template.quality.v1',
    schema: 'template.quality.avsc',
    description: 'Template quality changes (message_template_quality_update): GREEN, YELLOW, RED, UNKNOWN',
    consumers: ['actors (ec_template: quality rating)', 'outbound webhooks (template.quality)'],
  },
  'template.category': {
    topic: 'whatsapp.template.category.v1',
    schema: 'template.category.avsc',
    description: 'Template category changes, completed or impending (template_category_update)',
    consumers: ['actors (ec_template: category, impending change)'],
  },
  'template.components': {
    topic: 'whatsapp.template.components.v1',
    schema: 'template.components.avsc',
    description: 'Edited template content (message_template_components_update)',
    consumers: ['actors (ec_template: components, edit times)'],
  },
  'consent.event': {
    topic: 'whatsapp.consent.event.v1',
    schema: 'consent.event.avsc',
    description: "Meta's marketing stop/resume preferences (value.user_preferences[])",
    consumers: ['actors (ec_contact: marketing opt-out; ec_thread, ec_message: a system entry)', 'outbound webhooks (consent.event)'],
  },
  'identity.change': {
    topic: 'whatsapp.identity.change.v1',
    schema: 'identity.change.avsc',
    description: 'User identity changes: user_id_update items and system messages user_changed_number / user_changed_user_id',
    consumers: ['actors (ec_contact: aliases, merges; ec_thread, ec_message follow)'],
  },
  'account.update': {
    topic: 'whatsapp.account.update.v1',
    schema: 'account.update.avsc',
    description: 'WABA and phone-number changes: account_update, phone_number_quality_update, business_capability_update',
    consumers: ['actors (ec_waba_state: messaging limit, restrictions)'],
  },
  'thread.read': {
    topic: 'echocue.thread.read.v1',
    schema: 'thread.read.avsc',
    description: 'A thread marked read up to a time through the REST API (POST /api/thread/{id}/read); not from Meta',
    consumers: ['actors (ec_thread: unread messages, read_up_to)'],
  },
  'message.outbound': {
    topic: 'echocue.message.outbound.v1',
    schema: 'message.outbound.avsc',
    description:
      'A message EchoCue sent through the Graph API and Meta accepted (POST /api/thread/{id}/messages); not from Meta. Its statuses arrive on message.status',
    consumers: ['actors (ec_message: the outbound message with its content, status accepted; ec_thread: last_message_at)'],
  },
  'webhook.error': {
    topic: 'whatsapp.webhook.error.v1',
    schema: 'webhook.error.avsc',
    description: 'Value-level errors (value.errors[] without messages or statuses): system, app or account problems',
    consumers: ['data teams and alerting (no EchoCue consumer)'],
  },
  unknown: {
    topic: 'whatsapp.unknown.v1',
    schema: 'unknown.avsc',
    description: 'Changes whose field EchoCue does not know yet, kept intact (the whole changes[] element)',
    consumers: ['data teams; replay once a handler exists'],
  },
} as const satisfies Record<string, CatalogEntry>;

export type EventType = keyof typeof EVENT_CATALOG;

export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as EventType[];

/** The audit topic: each accepted POST's exact bytes (not Avro) with its HTTP headers as Kafka headers. */
export const RAW_TOPIC = {
  topic: 'whatsapp.raw.v1',
  description:
    "Each signed POST's exact request bytes (application/json, not Avro); headers: content-type, x-hub-signature-256, user-agent, received-at, event-count",
  consumers: ['audit', '`echocue replay` (re-drives the actors into a fresh database)', '`echocue tail`'],
} as const;

/** Events the actors could not apply (undecodable, impossible data): the original record, the reason in headers. */
export const DEAD_LETTER_TOPIC = {
  topic: 'echocue.actors.dead-letter.v1',
  description:
    'Events the actors could not apply, byte for byte as on their topic; headers: dlq-reason, dlq-code, dlq-source-topic, dlq-source-partition, dlq-source-offset',
  consumers: ['operators (inspect, fix, replay)'],
} as const;

/** Outbound webhooks: the actors' resulting state per event, then one topic per delivery attempt tier. JSON
 *  records, internal to EchoCue (docs/decisions/0008-outbound-webhooks.md): not a contract for data teams. */
export const NOTIFICATIONS_TOPIC = {
  topic: 'echocue.notifications.v1',
  description:
    'Internal (JSON): after each actor batch is stored, one record per applied event of an outbound category, with the resulting state as the customer will see it',
  consumers: ['delivery planner (creates a delivery per subscribed endpoint)'],
} as const;

/** Broadcast sends: one record per recipient to send, keyed by broadcast id, read by the broadcast sender (in the
 *  delivery role). JSON, internal: the record names the recipient, whose state is in the store. */
export const BROADCAST_SEND_TOPIC = {
  topic: 'echocue.broadcast.send.v1',
  description:
    'Internal (JSON): one record per broadcast recipient to send ({broadcast_id, recipient_id}), written when the broadcast is created and when an in-doubt send is retried',
  consumers: ['broadcast sender (sends through the Graph API, throttled per phone number)'],
} as const;

/** The first attempt, then the retry tiers 30 s -> 2 m -> 10 m -> 1 h -> 6 h (DELIVERY_DELAY_SCALE scales them). */
export const DELIVERY_TIERS = [
  { topic: 'echocue.delivery.attempt.v1', delayMs: 0 },
  { topic: 'echocue.delivery.retry-30s.v1', delayMs: 30_000 },
  { topic: 'echocue.delivery.retry-2m.v1', delayMs: 120_000 },
  { topic: 'echocue.delivery.retry-10m.v1', delayMs: 600_000 },
  { topic: 'echocue.delivery.retry-1h.v1', delayMs: 3_600_000 },
  { topic: 'echocue.delivery.retry-6h.v1', delayMs: 21_600_000 },
] as const;

export type Topics = Readonly<{
  /** Topic of each event type. */
  events: Readonly<Record<EventType, string>>;
  raw: string;
  deadLetter: string;
  notifications: string;
  broadcastSends: string;
  /** Delivery attempt topics, by tier (0: first attempt, 1..5: retries). */
  deliveryTiers: readonly string[];
  /** Every topic EchoCue creates. */
  all: readonly string[];
}>;

export function topicNames(prefix: string): Topics {
  const events = Object.fromEntries(EVENT_TYPES.map((t) => [t, prefix + EVENT_CATALOG[t].topic])) as Record<EventType, string>;
  const raw = prefix + RAW_TOPIC.topic;
  const deadLetter = prefix + DEAD_LETTER_TOPIC.topic;
  const notifications = prefix + NOTIFICATIONS_TOPIC.topic;
  const deliveryTiers = Object.freeze(DELIVERY_TIERS.map((t) => prefix + t.topic));
  const broadcastSends = prefix + BROADCAST_SEND_TOPIC.topic;
  return Object.freeze({
    events: Object.freeze(events),
    raw,
    deadLetter,
    notifications,
    broadcastSends,
    deliveryTiers,
    all: Object.freeze([...Object.values(events), raw, deadLetter, notifications, broadcastSends, ...deliveryTiers]),
  });
}

/** Confluent TopicNameStrategy: the value schema of topic T is registered under subject "T-value". */
export const valueSubject = (topic: string): string => `${topic}-value`;
