// Wires the thread actor to its topic: decode each partition batch, apply it, then let the runner commit.
import { type Kafka } from 'kafkajs';
import { type Logger } from '../../core/log.ts';
import { type Metrics } from '../../core/metrics.ts';
import { type MessageInboundEvent } from '../../events/generated/event-types.ts';
import { runBatchConsumer, type RunningConsumer } from '../../events/kafka.ts';
import { type EventSerde } from '../../events/serde.ts';
import { type createThreadHandler } from './handle.ts';

export type ThreadConsumerDeps = Readonly<{
  kafka: Kafka;
  serde: EventSerde;
  groupId: string;
  topic: string;
  apply: ReturnType<typeof createThreadHandler>;
  log: Logger;
  metrics: Metrics;
}>;

export function startThreadActor(deps: ThreadConsumerDeps): Promise<RunningConsumer> {
  const log = deps.log.child({ component: 'actor.thread', topic: deps.topic });
  return runBatchConsumer({
    kafka: deps.kafka,
    groupId: deps.groupId,
    topics: [deps.topic],
    log,
    async handleBatch(records) {
      const events: MessageInboundEvent[] = [];
      for (const r of records) {
        if (r.value === null) continue;
        events.push((await deps.serde.decode(r.topic, r.value)) as unknown as MessageInboundEvent);
      }
      const { applied } = await deps.apply(events);
      deps.metrics.actorEventsApplied.inc({ actor: 'thread' }, applied);
      log.debug({ partition: records[0]?.partition, count: records.length }, 'applied batch');
    },
  });
}
