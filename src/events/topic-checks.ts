// Start-up checks on the topics, over the events port's admin: co-partitioning and the production durability floor.
import { AppError } from '../core/errors.ts';
import { type DurabilityFloor } from '../config/index.ts';
import { belowFloor } from './durability.ts';
import { type EventsAdmin } from './port.ts';

/** Co-partitioning needs one partition count for all the topics; fails naming the odd ones out. */
export async function assertSamePartitionCount(admin: EventsAdmin, topics: readonly string[]): Promise<void> {
  const counts = await admin.partitionCounts(topics);
  if (new Set(counts.values()).size > 1) {
    throw new AppError(
      'EC_CONFIG_INVALID',
      `the actor topics must have one partition count, found ${[...counts].map(([t, n]) => `${t}=${n}`).join(', ')}`,
    );
  }
}

/** Refuses to go on when any of the topics is below the floor, naming each of them and what it lacks. */
export async function assertTopicDurability(admin: EventsAdmin, topics: readonly string[], floor: DurabilityFloor): Promise<void> {
  const low = belowFloor(await admin.describeDurability(topics), floor);
  if (low.length > 0) {
    throw new AppError(
      'EC_CONFIG_INVALID',
      `topics below the durability NODE_ENV=production requires (replication factor ${floor.replicationFactor}, min.insync.replicas ${floor.minInsyncReplicas}): ${low.join(', ')}; ` +
        'raise them (kafka-reassign-partitions for replicas, kafka-configs --alter for min.insync.replicas), or set KAFKA_ALLOW_UNSAFE_DURABILITY=true',
    );
  }
}
