// The data teams' commands: `echocue topics` (the topic catalog) and `echocue tail` (records of one topic, decoded,
// as JSON lines). Issue 17. Reading goes through the events port like everything else, with a consumer group of the
// command's own (`<prefix>echocue.tail.<random>`), so a tail never moves the offsets of EchoCue's own groups.
import { randomBytes } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import { type Logger } from '../core/log.ts';
import { type ConsumedRecord, type Events } from '../events/port.ts';
import { type EventSerde } from '../events/serde.ts';
import {
  BROADCAST_SEND_TOPIC,
  DEAD_LETTER_TOPIC,
  DELIVERY_TIERS,
  EVENT_CATALOG,
  EVENT_TYPES,
  NOTIFICATIONS_TOPIC,
  RAW_TOPIC,
  type Topics,
} from '../events/topics.ts';

export type CatalogEntry = {
  topic: string;
  format: 'avro' | 'json' | 'raw';
  schema: string | null;
  description: string;
  consumers: string[];
};

/** Every topic EchoCue writes, with the deployment's prefix, in the order of docs/topics.md. */
export function topicCatalog(topics: Topics): CatalogEntry[] {
  return [
    ...EVENT_TYPES.map((t) => ({
      topic: topics.events[t],
      format: 'avro' as const,
      schema: `schemas/${EVENT_CATALOG[t].schema}`,
      description: EVENT_CATALOG[t].description,
      consumers: [...EVENT_CATALOG[t].consumers],
    })),
    { topic: topics.raw, format: 'raw', schema: null, description: RAW_TOPIC.description, consumers: [...RAW_TOPIC.consumers] },
    {
      topic: topics.deadLetter,
      format: 'avro',
      schema: 'the source topic’s (header dlq-source-topic)',
      description: DEAD_LETTER_TOPIC.description,
      consumers: [...DEAD_LETTER_TOPIC.consumers],
    },
    {
      topic: topics.notifications,
      format: 'json',
      schema: null,
      description: NOTIFICATIONS_TOPIC.description,
      consumers: [...NOTIFICATIONS_TOPIC.consumers],
    },
    {
      topic: topics.broadcastSends,
      format: 'json',
      schema: null,
      description: BROADCAST_SEND_TOPIC.description,
      consumers: [...BROADCAST_SEND_TOPIC.consumers],
    },
    ...topics.deliveryTiers.map((topic, i) => ({
      topic,
      format: 'json' as const,
      schema: null,
      description: `Internal (JSON): delivery attempts ${i === 0 ? 'sent at once' : `due ${DELIVERY_TIERS[i]!.topic.match(/retry-(\w+)\./)![1]} after the previous one failed`}`,
      consumers: ['delivery worker'],
    })),
  ];
}

export type TailOptions = Readonly<{
  /** A topic name, with or without the deployment's prefix, or an event type (`message.inbound`). */
  topic: string;
  fromBeginning: boolean;
  /** Only records with this key (the WABA id for every event topic). */
  key: string | null;
  /** Only records written at or after this time (reads from the beginning). */
  since: Date | null;
  /** Stop after printing this many records (default: follow until stopped). */
  max: number | null;
}>;

/** The topic a user named, resolved against the catalog; EC_USAGE naming `echocue topics` when it is none of them. */
export function resolveTopic(name: string, topics: Topics, prefix: string): string {
  const all = new Set(topics.all);
  const candidates = [name, prefix + name, (topics.events as Record<string, string>)[name]];
  const found = candidates.find((c) => c !== undefined && all.has(c));
  if (!found) throw new AppError('EC_USAGE', `"${name}" is not an EchoCue topic; \`echocue topics\` lists them`);
  return found;
}

/** One record as a JSON line: where it is, when it was written, its key and headers, and its value decoded. */
export async function recordLine(r: ConsumedRecord, decode: (r: ConsumedRecord) => Promise<unknown>): Promise<string> {
  let value: unknown;
  let error: string | undefined;
  try {
    value = r.value === null ? null : await decode(r);
  } catch (err) {
    value = r.value?.toString('base64') ?? null;
    error = `not decoded (${(err as Error).message}); value is base64`;
  }
  const line = {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: new Date(r.timestamp).toISOString(),
    key: r.key,
    headers: r.headers,
    value,
    ...(error ? { error } : {}),
  };
  return JSON.stringify(line, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** How the values of `topic` decode: Avro through the registry, the raw topic's JSON bodies, the internal JSON. */
export function decoderFor(topic: string, topics: Topics, serde: EventSerde): (r: ConsumedRecord) => Promise<unknown> {
  const avro = new Set(Object.values(topics.events));
  const json = (r: ConsumedRecord) => JSON.parse(r.value!.toString('utf8')) as unknown;
  if (avro.has(topic)) return (r) => serde.decode(topic, r.value!);
  if (topic === topics.deadLetter)
    return async (r) => {
      const source = r.headers['dlq-source-topic'];
      if (source && avro.has(source)) return serde.decode(source, r.value!);
      throw new Error(`the source topic ${source ?? '(none)'} is not an Avro event topic`);
    };
  // The raw topic keeps Meta's exact bytes: shown parsed when they are JSON, else as text.
  if (topic === topics.raw)
    return async (r) => {
      try {
        return json(r);
      } catch {
        return r.value!.toString('utf8');
      }
    };
  return async (r) => json(r);
}

/** Prints the records of one topic as JSON lines until `max` are printed or `signal` aborts. */
export async function tail(
  deps: Readonly<{
    events: Events;
    /** Connects to the registry once the topic is known to exist. */
    serde: () => Promise<EventSerde>;
    topics: Topics;
    prefix: string;
    log: Logger;
    write: (line: string) => void;
  }>,
  opts: TailOptions,
  signal: AbortSignal,
): Promise<number> {
  const topic = resolveTopic(opts.topic, deps.topics, deps.prefix);
  if (!(await deps.events.admin.listTopics()).includes(topic))
    throw new AppError('EC_NOT_FOUND', `topic ${topic} does not exist on the brokers yet (\`echocue create-topics\` creates every topic)`);
  const decode = decoderFor(topic, deps.topics, await deps.serde());
  const since = opts.since?.getTime() ?? null;
  let printed = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  if (opts.max === 0) return 0;
  const consumer = await deps.events.runBatchConsumer({
    groupId: `${deps.prefix}echocue.tail.${randomBytes(4).toString('hex')}`,
    topics: [topic],
    log: deps.log,
    fromBeginning: opts.fromBeginning || since !== null,
    async handleBatch(records) {
      for (const r of records) {
        if (opts.max !== null && printed >= opts.max) break;
        if (opts.key !== null && r.key !== opts.key) continue;
        if (since !== null && r.timestamp < since) continue;
        deps.write(await recordLine(r, decode));
        printed++;
      }
      if (opts.max !== null && printed >= opts.max) finished();
    },
  });
  signal.addEventListener('abort', () => finished(), { once: true });
  try {
    await done;
  } finally {
    await consumer.stop();
  }
  return printed;
}
