import { describe, expect, test } from 'vitest';
import { judgeConsumer, judgeConsumers, type ConsumerHealth } from './consumer-health.ts';

const joined: ConsumerHealth = { groupId: 'p.echocue.actors', joinedAt: 1_000, partitions: 27, failed: null, oldestBatch: null };

describe('judgeConsumer', () => {
  test('a joined member without a stuck batch is ready and says its share', () => {
    expect(judgeConsumer(joined, 5_000, 1_000)).toEqual({ ok: true, detail: 'p.echocue.actors: 27 partitions' });
    expect(judgeConsumer({ ...joined, partitions: 1 }, 5_000, 1_000)).toEqual({ ok: true, detail: 'p.echocue.actors: 1 partition' });
  });

  test('a member holding no partition (more members than partitions) is ready: it stands by', () => {
    expect(judgeConsumer({ ...joined, partitions: 0 }, 5_000, 1_000).ok).toBe(true);
  });

  test('not yet joined, or rejoining, is not ready', () => {
    expect(judgeConsumer({ ...joined, joinedAt: null }, 5_000, 1_000)).toEqual({
      ok: false,
      error: 'p.echocue.actors: not in its group yet (joining or rebalancing)',
    });
  });

  test('a batch in the handler for longer than the limit is stuck; up to the limit it is not', () => {
    const batch = { topic: 'p.whatsapp.message.v1', partition: 2, since: 10_000 };
    expect(judgeConsumer({ ...joined, oldestBatch: batch }, 11_000, 1_000).ok).toBe(true);
    expect(judgeConsumer({ ...joined, oldestBatch: batch }, 13_400, 1_000)).toEqual({
      ok: false,
      error: 'p.echocue.actors: stuck: a batch of p.whatsapp.message.v1[2] has been in the handler for 3 s (more than 1000 ms)',
    });
  });

  test('a client that gave up after a crash is not ready, whatever else it reports', () => {
    const v = judgeConsumer({ ...joined, failed: 'The group coordinator is not available' }, 5_000, 1_000);
    expect(v).toEqual({
      ok: false,
      error: 'p.echocue.actors: the consumer stopped after a crash (The group coordinator is not available); restart the process',
    });
  });
});

describe('judgeConsumers', () => {
  const worker: ConsumerHealth = { ...joined, groupId: 'p.echocue.delivery.worker', partitions: 18 };
  test('ready only when every member is, naming each share', () => {
    expect(judgeConsumers([joined, worker], 5_000, 1_000)).toEqual({
      ok: true,
      detail: 'p.echocue.actors: 27 partitions; p.echocue.delivery.worker: 18 partitions',
    });
    expect(judgeConsumers([joined, { ...worker, joinedAt: null }], 5_000, 1_000)).toEqual({
      ok: false,
      error: 'p.echocue.delivery.worker: not in its group yet (joining or rebalancing)',
    });
  });
});
