// What is on a test's topics right now: totals, and decoded records of every event topic.
import { Kafka, logLevel } from 'kafkajs';
import { type Config } from '../../src/config/index.ts';
import { EVENT_TYPES, type EventType } from '../../src/events/topics.ts';
import { eventDecoder, readTopics, type TopicRecord } from './kafka.ts';

/** Records on every topic of the config's prefix (sum of high watermarks). */
export async function recordCount(config: Config): Promise<number> {
  const admin = new Kafka({ brokers: [...config.kafka.brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(config.kafka.topicPrefix));
    let n = 0;
    for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) n += Number(p.high);
    return n;
  } finally {
    await admin.disconnect();
  }
}

export type DecodedRecord = TopicRecord & { eventType: EventType; event: Record<string, unknown> };

/** Every record of every event topic, decoded through the registry. */
export async function readAllEvents(config: Config): Promise<DecodedRecord[]> {
  const { topics, serde } = await eventDecoder(config);
  const typeOf = new Map(EVENT_TYPES.map((t) => [topics.events[t], t]));
  const out: DecodedRecord[] = [];
  for (const r of await readTopics(config, EVENT_TYPES.map((t) => topics.events[t]))) {
    out.push({ ...r, eventType: typeOf.get(r.topic)!, event: await serde.decode(r.topic, r.value) });
  }
  return out;
}

/** Waits until the actors' consumer group has committed every record on every actor topic (lag 0). */
export async function waitForActors(config: Config, timeoutMs = 60_000): Promise<void> {
  const { ACTOR_EVENT_TYPES } = await import('../../src/actors/apply.ts');
  const { topicNames } = await import('../../src/events/topics.ts');
  const names = topicNames(config.kafka.topicPrefix);
  const topics = ACTOR_EVENT_TYPES.map((t) => names.events[t]);
  const admin = new Kafka({ brokers: [...config.kafka.brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let lag = 0;
      const committed = await admin.fetchOffsets({ groupId: `${config.kafka.topicPrefix}echocue.actors`, topics });
      for (const t of committed) {
        const high = new Map((await admin.fetchTopicOffsets(t.topic)).map((p) => [p.partition, Number(p.high)]));
        for (const p of t.partitions) lag += (high.get(p.partition) ?? 0) - Math.max(0, Number(p.offset));
      }
      if (lag === 0) return;
      if (Date.now() > deadline) throw new Error(`the actors still lag ${lag} records after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
  }
}
