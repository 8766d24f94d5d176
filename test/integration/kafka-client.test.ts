// Proof that the events port (src/events/kafka/: @platformatic/kafka producing, kafkajs consuming) works against the
// broker we run (Kafka 4.x): idempotent producer with acks=all and Java-compatible partitioning, consumer-group join
// and rebalance, and committed offsets surviving a consumer restart.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ConsumedRecord, type Events } from '../../src/events/port.ts';
import { testEnv, uniqueName, waitFor, type TestEnv } from '../helpers/env.ts';
import { readTopic, testEvents } from '../../harness/kafka.ts';

describe('events > kafka client against the real broker', () => {
  let env: TestEnv;
  let events: Events;
  let topic: string;

  beforeAll(async () => {
    env = testEnv();
    events = testEvents(env.config, 'test');
    topic = `${env.config.kafka.topicPrefix}proof`;
    await events.admin.ensureTopics([topic], { partitions: 4, replicationFactor: 1 });
  });
  afterAll(async () => {
    await events?.close();
    await env.cleanup();
  });

  test("topic creation is idempotent and gives every topic its partitions and EchoCue's settings", async () => {
    await events.admin.ensureTopics([topic], { partitions: 4, replicationFactor: 1 });
    expect(await events.admin.partitionCounts([topic])).toEqual(new Map([[topic, 4]]));
    expect(await events.admin.describeDurability([topic])).toEqual([{ topic, replicationFactor: 1, minInsyncReplicas: 1 }]);
  });

  test('keys land on the partition Java clients (and kafkajs before) chose: murmur2, positive, modulo the count', async () => {
    const producer = await events.createProducer();
    const own = `${env.config.kafka.topicPrefix}partitioning`;
    await events.admin.ensureTopics([own], { partitions: 6, replicationFactor: 1 });
    // Partitions computed by Kafka's own DefaultPartitioner (Utils.toPositive(Utils.murmur2(key)) % 6) for these keys.
    // (run with kafka-clients 4.1.1), so that topics written before the switch of client keep each WABA on its partition.
    const expected: Record<string, number> = {
      '102290129340398': 1,
      '109983578801521': 4,
      '1234567890123': 0,
      'waba-0': 5,
      'waba-1': 2,
      'waba-7': 4,
      x: 4,
    };
    await producer.send(
      Object.keys(expected).map((key) => ({ topic: own, key, value: Buffer.from(key) })),
      { timeoutMs: 10_000 },
    );
    await producer.disconnect();
    const got = Object.fromEntries((await readTopic(env.config, own)).map((r) => [r.key!, r.partition]));
    expect(got).toEqual(expected);
  });

  test('many concurrent sends through one producer (combined into shared writes) all land, each record once', async () => {
    const producer = await events.createProducer();
    const own = `${env.config.kafka.topicPrefix}concurrent`;
    await events.admin.ensureTopics([own], { partitions: 3, replicationFactor: 1 });
    const callers = Array.from({ length: 300 }, (_, i) =>
      [0, 1, 2].map((j) => ({ topic: own, key: `k${i % 7}`, value: Buffer.from(`c${i}-r${j}`), headers: { n: String(i) } })),
    );
    await Promise.all(callers.map((records) => producer.send(records, { timeoutMs: 20_000 })));
    await producer.disconnect();
    const got = await readTopic(env.config, own);
    expect(got.map((r) => r.value.toString()).sort()).toEqual(
      callers
        .flat()
        .map((r) => r.value.toString())
        .sort(),
    );
    expect(got.every((r) => r.value.toString().startsWith(`c${r.headers['n']}-`))).toBe(true);
  });

  test('a send larger than one Kafka write (split into several), and a single 3 MiB record, both land', async () => {
    const producer = await events.createProducer();
    const own = `${env.config.kafka.topicPrefix}large`;
    await events.admin.ensureTopics([own], { partitions: 1, replicationFactor: 1 });
    const many = Array.from({ length: 40 }, (_, i) => ({ topic: own, key: 'w', value: Buffer.alloc(80_000, i) }));
    await producer.send(many, { timeoutMs: 20_000 });
    await producer.send([{ topic: own, key: 'w', value: Buffer.alloc(3 * 1024 * 1024, 7) }], { timeoutMs: 20_000 });
    await producer.disconnect();
    const got = await readTopic(env.config, own);
    expect(got.map((r) => r.value.length)).toEqual([...many.map(() => 80_000), 3 * 1024 * 1024]);
  });

  test('a send to a topic that does not exist is refused with EC_KAFKA_UNAVAILABLE, and the producer still works after it', async () => {
    const producer = await events.createProducer();
    const own = `${env.config.kafka.topicPrefix}after-refusal`;
    await events.admin.ensureTopics([own], { partitions: 1, replicationFactor: 1 });
    await expect(
      producer.send([{ topic: `${env.config.kafka.topicPrefix}no-such-topic`, key: 'k', value: Buffer.from('x') }], { timeoutMs: 10_000 }),
    ).rejects.toMatchObject({ code: 'EC_KAFKA_UNAVAILABLE' });
    await producer.send([{ topic: own, key: 'k', value: Buffer.from('after') }], { timeoutMs: 10_000 });
    await producer.disconnect();
    expect((await readTopic(env.config, own)).map((r) => r.value.toString())).toEqual(['after']);
  });

  test('idempotent producer writes with acks=all; a group of two consumers splits the partitions; offsets survive a restart', async () => {
    const producer = await events.createProducer();
    const keys = Array.from({ length: 40 }, (_, i) => `waba-${i}`);
    await producer.send(
      keys.map((key) => ({ topic, key, value: Buffer.from(`first:${key}`) })),
      { timeoutMs: 10_000 },
    );

    const groupId = uniqueName('g');
    const seen = new Map<string, ConsumedRecord[]>();
    const start = async (name: string) =>
      testEvents(env.config, name).runBatchConsumer({
        groupId,
        topics: [topic],
        log: env.log,
        handleBatch: async (records) => {
          seen.set(name, [...(seen.get(name) ?? []), ...records]);
        },
      });
    const a = await start('a');
    await waitFor(async () => ((seen.get('a')?.length ?? 0) >= 40 ? true : undefined), 30_000, 'consumer a to read all 40');

    // A second member joins: the group rebalances and both get partitions; new records spread over both.
    const b = await start('b');
    let sent = keys.length;
    await waitFor(
      async () => {
        sent += keys.length;
        await producer.send(
          keys.map((key) => ({ topic, key, value: Buffer.from(`probe:${key}`) })),
          { timeoutMs: 10_000 },
        );
        return (seen.get('b')?.length ?? 0) > 0 ? true : undefined;
      },
      45_000,
      'consumer b to be assigned partitions after the rebalance',
    );
    const partitionsOf = (n: string) =>
      new Set((seen.get(n) ?? []).filter((r) => r.value!.toString().startsWith('probe:')).map((r) => r.partition));
    await waitFor(
      async () => (partitionsOf('a').size > 0 && partitionsOf('b').size > 0 ? true : undefined),
      30_000,
      'both members to consume',
    );
    for (const p of partitionsOf('b')) expect(partitionsOf('a').has(p) && partitionsOf('b').has(p)).toBe(false);
    // Everything sent so far is consumed (and so committed) before the members leave.
    await waitFor(async () => ([...seen.values()].flat().length >= sent ? true : undefined), 30_000, 'every record to be consumed');
    await a.stop();
    await b.stop();

    // Committed offsets: a restarted member reads only what was written after the commit.
    const before = [...seen.values()].flat().length;
    await producer.send([{ topic, key: 'waba-0', value: Buffer.from('after-restart') }], { timeoutMs: 10_000 });
    const c = await start('c');
    await waitFor(
      async () => (seen.get('c')?.some((r) => r.value!.toString() === 'after-restart') ? true : undefined),
      30_000,
      'the record written after the restart',
    );
    await c.stop();
    expect(seen.get('c')!.map((r) => r.value!.toString())).toEqual(['after-restart']);
    expect(before).toBe(sent);

    // acks=all really was used: the records are on the log, each once (idempotent producer, no retried duplicates).
    const onLog = [...(await events.admin.endOffsets([topic])).get(topic)!].reduce((n, o) => n + Number(o), 0);
    const consumed = [...seen.values()].flat();
    expect(onLog).toBe(new Set(consumed.map((r) => `${r.partition}:${r.offset}`)).size);
    expect((await events.admin.committedOffsets(groupId, [topic])).get(topic)!.reduce((n, o) => n + Number(o), 0)).toBe(onLog);
    await producer.disconnect();
  });
});
