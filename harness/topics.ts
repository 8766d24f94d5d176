// What is on a test's topics right now: totals, and decoded records of every event topic.
import { type Config } from '../src/config/index.ts';
import { EVENT_TYPES, type EventType } from '../src/events/topics.ts';
import { eventDecoder, readTopics, withEvents, type TopicRecord } from './kafka.ts';

/** Records on every topic of the config's prefix (sum of high watermarks). */
export async function recordCount(config: Config): Promise<number> {
  return withEvents(config, async (events) => {
    const topics = (await events.admin.listTopics()).filter((t) => t.startsWith(config.kafka.topicPrefix));
    let n = 0;
    for (const offsets of (await events.admin.endOffsets(topics)).values()) for (const o of offsets) n += Number(o);
    return n;
  });
}

export type DecodedRecord = TopicRecord & { eventType: EventType; event: Record<string, unknown> };

/** Every record of every event topic, decoded through the registry. */
export async function readAllEvents(config: Config): Promise<DecodedRecord[]> {
  const { topics, serde } = await eventDecoder(config);
  const typeOf = new Map(EVENT_TYPES.map((t) => [topics.events[t], t]));
  const out: DecodedRecord[] = [];
  for (const r of await readTopics(
    config,
    EVENT_TYPES.map((t) => topics.events[t]),
  )) {
    out.push({ ...r, eventType: typeOf.get(r.topic)!, event: await serde.decode(r.topic, r.value) });
  }
  return out;
}

/** Waits until the actors' consumer group has committed every record on every actor topic (lag 0). */
export async function waitForActors(config: Config, timeoutMs = 60_000): Promise<void> {
  const { ACTOR_EVENT_TYPES } = await import('../src/actors/apply.ts');
  const { topicNames } = await import('../src/events/topics.ts');
  const names = topicNames(config.kafka.topicPrefix);
  const topics = ACTOR_EVENT_TYPES.map((t) => names.events[t]);
  const groupId = `${config.kafka.topicPrefix}echocue.actors`;
  await withEvents(config, async (events) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [ends, committed] = await Promise.all([events.admin.endOffsets(topics), events.admin.committedOffsets(groupId, topics)]);
      let lag = 0;
      for (const [topic, high] of ends) high.forEach((h, p) => (lag += Number(h) - Math.max(0, Number(committed.get(topic)?.[p] ?? 0n))));
      if (lag === 0) return;
      if (Date.now() > deadline) throw new Error(`the actors still lag ${lag} records after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });
}
