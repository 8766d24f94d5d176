// Topic names and the event-type catalog. Names are versioned; a prefix isolates environments and tests.

/** Every event type EchoCue writes, with its topic base name and Avro schema file in schemas/. */
export const EVENT_CATALOG = {
  'message.inbound': { topic: 'whatsapp.message.inbound.v1', schema: 'message.inbound.avsc' },
} as const;

export type EventType = keyof typeof EVENT_CATALOG;

export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as EventType[];

export type Topics = Readonly<{
  /** Topic of each event type. */
  events: Readonly<Record<EventType, string>>;
  /** Every topic EchoCue creates. */
  all: readonly string[];
}>;

export function topicNames(prefix: string): Topics {
  const events = Object.fromEntries(EVENT_TYPES.map((t) => [t, prefix + EVENT_CATALOG[t].topic])) as Record<EventType, string>;
  return Object.freeze({ events: Object.freeze(events), all: Object.freeze(Object.values(events)) });
}

/** Confluent TopicNameStrategy: the value schema of topic T is registered under subject "T-value". */
export const valueSubject = (topic: string): string => `${topic}-value`;
