// Which topics fall short of a durability floor: fewer replicas, or fewer replicas an acks=all write must reach,
// than production requires. Pure; the events port's admin reads the topics' actual settings from the broker.
import { type DurabilityFloor } from '../config/index.ts';

export type TopicDurability = Readonly<{ topic: string; replicationFactor: number; minInsyncReplicas: number }>;

/** One line per topic below the floor, e.g. `p.echocue.raw.v1 (replication factor 1 < 3, min.insync.replicas 1 < 2)`. */
export function belowFloor(topics: readonly TopicDurability[], floor: DurabilityFloor): string[] {
  return topics.flatMap((t) => {
    const low = [
      ...(t.replicationFactor < floor.replicationFactor ? [`replication factor ${t.replicationFactor} < ${floor.replicationFactor}`] : []),
      ...(t.minInsyncReplicas < floor.minInsyncReplicas ? [`min.insync.replicas ${t.minInsyncReplicas} < ${floor.minInsyncReplicas}`] : []),
    ];
    return low.length > 0 ? [`${t.topic} (${low.join(', ')})`] : [];
  });
}
