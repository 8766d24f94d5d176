// Queues delivery attempt records on the topic of their delay tier (keyed by delivery, so one delivery's records
// stay on one partition, in order).
import { type EventProducer } from '../events/port.ts';
import { encodeJson, type AttemptRecord } from '../events/outbound.ts';
import { type Topics } from '../events/topics.ts';

export async function queueAttempts(
  producer: EventProducer,
  topics: Topics,
  items: readonly { record: AttemptRecord; tier: number }[],
  /** KAFKA_PRODUCE_TIMEOUT_MS: how long the write waits for acknowledgement. */
  opts: { timeoutMs: number },
): Promise<void> {
  if (items.length === 0) return;
  await producer.send(
    items.map(({ record, tier }) => ({ topic: topics.deliveryTiers[tier]!, key: record.delivery_id, value: encodeJson(record) })),
    { timeoutMs: opts.timeoutMs },
  );
}
