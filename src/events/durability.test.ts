import { describe, expect, test } from 'vitest';
import { belowFloor } from './durability.ts';

describe('events > topics below a durability floor', () => {
  const floor = { replicationFactor: 3, minInsyncReplicas: 2 };

  test('names each topic below the floor with what is short; topics at or above it are not named', () => {
    expect(
      belowFloor(
        [
          { topic: 'ok', replicationFactor: 3, minInsyncReplicas: 2 },
          { topic: 'more', replicationFactor: 5, minInsyncReplicas: 3 },
          { topic: 'single', replicationFactor: 1, minInsyncReplicas: 1 },
          { topic: 'no-isr', replicationFactor: 3, minInsyncReplicas: 1 },
          { topic: 'two', replicationFactor: 2, minInsyncReplicas: 2 },
        ],
        floor,
      ),
    ).toEqual([
      'single (replication factor 1 < 3, min.insync.replicas 1 < 2)',
      'no-isr (min.insync.replicas 1 < 2)',
      'two (replication factor 2 < 3)',
    ]);
  });

  test('nothing to name for no topics or all topics at the floor', () => {
    expect(belowFloor([], floor)).toEqual([]);
    expect(belowFloor([{ topic: 'ok', replicationFactor: 3, minInsyncReplicas: 2 }], floor)).toEqual([]);
  });
});
