// Proof that kafkajs works against the broker we run (Kafka 4.x): idempotent producer with acks=all,
// consumer-group join and rebalance, and committed offsets surviving a consumer restart.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Kafka } from 'kafkajs';
import { createEventProducer, createKafka, ensureTopics, runBatchConsumer, type ConsumedRecord } from '../../src/events/kafka.ts';
import { testEnv, uniqueName, waitFor, type TestEnv } from '../helpers/env.ts';
import { readTopic } from '../helpers/kafka.ts';

describe('events > kafka client against the real broker', () => {
  let env: TestEnv;
  let kafka: Kafka;
  let topic: string;

  beforeAll(async () => {
    env = testEnv();
    kafka = createKafka({ brokers: env.config.kafka.brokers, clientId: 'test', log: env.log });
    topic = `${env.config.kafka.topicPrefix}proof`;
    await ensureTopics(kafka, [topic], { partitions: 4, replicationFactor: 1 });
  });
  afterAll(async () => env.cleanup());

  test('the broker is Kafka 4 in KRaft mode and topic creation is idempotent', async () => {
    await ensureTopics(kafka, [topic], { partitions: 4, replicationFactor: 1 });
    const admin = kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const cluster = await admin.describeCluster();
    await admin.disconnect();
    expect(meta.topics[0]!.partitions).toHaveLength(4);
    expect(cluster.controller).not.toBeNull();
  });

  test('many concurrent sends through one producer (combined into shared writes) all land, each record once', async () => {
    const producer = await createEventProducer(kafka);
    const own = `${env.config.kafka.topicPrefix}concurrent`;
    await ensureTopics(kafka, [own], { partitions: 3, replicationFactor: 1 });
    const callers = Array.from({ length: 300 }, (_, i) => [0, 1, 2].map((j) => ({ topic: own, key: `k${i % 7}`, value: Buffer.from(`c${i}-r${j}`) })));
    await Promise.all(callers.map((records) => producer.send(records, { timeoutMs: 20_000 })));
    await producer.disconnect();
    const got = (await readTopic(env.config, own)).map((r) => r.value.toString());
    expect(got.sort()).toEqual(callers.flat().map((r) => r.value.toString()).sort());
  });

  test('a send larger than one Kafka write (split into several), and a single 3 MiB record, both land', async () => {
    const producer = await createEventProducer(kafka);
    const own = `${env.config.kafka.topicPrefix}large`;
    await ensureTopics(kafka, [own], { partitions: 1, replicationFactor: 1 });
    const many = Array.from({ length: 40 }, (_, i) => ({ topic: own, key: 'w', value: Buffer.alloc(80_000, i) }));
    await producer.send(many, { timeoutMs: 20_000 });
    await producer.send([{ topic: own, key: 'w', value: Buffer.alloc(3 * 1024 * 1024, 7) }], { timeoutMs: 20_000 });
    await producer.disconnect();
    const got = await readTopic(env.config, own);
    expect(got.map((r) => r.value.length)).toEqual([...many.map(() => 80_000), 3 * 1024 * 1024]);
  });

  test('idempotent producer writes with acks=all; a group of two consumers splits the partitions; offsets survive a restart', async () => {
    const producer = await createEventProducer(kafka);
    const keys = Array.from({ length: 40 }, (_, i) => `waba-${i}`);
    await producer.send(keys.map((key) => ({ topic, key, value: Buffer.from(`first:${key}`) })), { timeoutMs: 10_000 });

    const groupId = uniqueName('g');
    const seen = new Map<string, ConsumedRecord[]>();
    const start = async (name: string) =>
      runBatchConsumer({
        kafka: createKafka({ brokers: env.config.kafka.brokers, clientId: name, log: env.log }),
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
    await waitFor(async () => {
      sent += keys.length;
      await producer.send(keys.map((key) => ({ topic, key, value: Buffer.from(`probe:${key}`) })), { timeoutMs: 10_000 });
      return (seen.get('b')?.length ?? 0) > 0 ? true : undefined;
    }, 45_000, 'consumer b to be assigned partitions after the rebalance');
    const partitionsOf = (n: string) => new Set((seen.get(n) ?? []).filter((r) => r.value!.toString().startsWith('probe:')).map((r) => r.partition));
    await waitFor(async () => (partitionsOf('a').size > 0 && partitionsOf('b').size > 0 ? true : undefined), 30_000, 'both members to consume');
    for (const p of partitionsOf('b')) expect(partitionsOf('a').has(p) && partitionsOf('b').has(p)).toBe(false);
    // Everything sent so far is consumed (and so committed) before the members leave.
    await waitFor(async () => ([...seen.values()].flat().length >= sent ? true : undefined), 30_000, 'every record to be consumed');
    await a.stop();
    await b.stop();

    // Committed offsets: a restarted member reads only what was written after the commit.
    const before = [...seen.values()].flat().length;
    await producer.send([{ topic, key: 'waba-0', value: Buffer.from('after-restart') }], { timeoutMs: 10_000 });
    const c = await start('c');
    await waitFor(async () => (seen.get('c')?.some((r) => r.value!.toString() === 'after-restart') ? true : undefined), 30_000, 'the record written after the restart');
    await c.stop();
    expect(seen.get('c')!.map((r) => r.value!.toString())).toEqual(['after-restart']);
    expect(before).toBe(sent);

    // acks=all really was used: the records are on the log, each once (idempotent producer, no retried duplicates).
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const onLog = offsets.reduce((n, p) => n + Number(p.high), 0);
    const consumed = [...seen.values()].flat();
    expect(onLog).toBe(new Set(consumed.map((r) => `${r.partition}:${r.offset}`)).size);
    await producer.disconnect();
  });
});
