// The durability settings on the real broker: the topics EchoCue creates carry min.insync.replicas on the topic itself
// (not the broker's default), and a production start refuses topics that exist with fewer replicas than it requires.
// The local broker is a single node: its topics have one replica, so they are exactly such topics. The settings are
// read back with another client (kafkajs's admin), as an observer independent of the events port under test.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigResourceTypes, ConfigSource, Kafka, logLevel } from 'kafkajs';
import { startSystem } from '../../src/cli/system.ts';
import { type Events } from '../../src/events/port.ts';
import { topicNames } from '../../src/events/topics.ts';
import { testEnv, type TestEnv } from '../helpers/env.ts';
import { testEvents } from '../../harness/kafka.ts';

async function minInsync(kafka: Kafka, topics: readonly string[]): Promise<Record<string, { value: string; source: ConfigSource }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas'] })),
    });
    return Object.fromEntries(
      resources.map((r) => {
        const entry = r.configEntries.find((c) => c.configName === 'min.insync.replicas')!;
        return [r.resourceName, { value: entry.configValue, source: entry.configSource }];
      }),
    );
  } finally {
    await admin.disconnect();
  }
}

describe('events > topic durability on the real broker', () => {
  let env: TestEnv;
  let kafka: Kafka;
  let events: Events;

  beforeAll(() => {
    env = testEnv();
    kafka = new Kafka({ brokers: [...env.config.kafka.brokers], clientId: 'durability-observer', logLevel: logLevel.NOTHING });
    events = testEvents(env.config, 'durability-test');
  });
  afterAll(async () => {
    await events?.close();
    await env?.cleanup();
  });

  test('a topic created with min.insync.replicas has it set on the topic; the events port (describeDurability) reads it back', async () => {
    const topic = `${env.config.kafka.topicPrefix}durable`;
    // 2 on a one-replica topic: the broker accepts the setting (writes would then be refused), and 2 is not its default.
    await events.admin.ensureTopics([topic], { partitions: 2, replicationFactor: 1, minInsyncReplicas: 2 });
    expect(await minInsync(kafka, [topic])).toEqual({ [topic]: { value: '2', source: ConfigSource.TOPIC_CONFIG } });
    expect(await events.admin.describeDurability([topic])).toEqual([{ topic, replicationFactor: 1, minInsyncReplicas: 2 }]);
  });

  test(
    'start-up creates every EchoCue topic with KAFKA_MIN_INSYNC_REPLICAS; in production it refuses those topics, naming them, unless overridden',
    { timeout: 120_000 },
    async () => {
      const topics = topicNames(env.config.kafka.topicPrefix).all;
      expect(env.config.kafka.minInsyncReplicas).toBe(1); // the local default: min(2, replication factor 1)
      const local = await startSystem({ config: env.config, roles: ['api'], log: env.log });
      await local.stop();
      const found = await minInsync(kafka, topics);
      expect(Object.keys(found).sort()).toEqual([...topics].sort());
      for (const t of topics) expect(found[t], t).toEqual({ value: '1', source: ConfigSource.TOPIC_CONFIG });

      // Production settings on the same topics and database: the config asks for 3 replicas, the topics have 1.
      const production = {
        NODE_ENV: 'production',
        META_APP_SECRET: 'a-real-app-secret',
        META_VERIFY_TOKEN: 'a-real-verify-token',
        MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
        KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix,
        MONGODB_URI: env.config.mongo.uri,
      };
      const strict = testEnv({ ...production, KAFKA_REPLICATION_FACTOR: '3' });
      expect(strict.config.kafka.durabilityFloor).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
      const refused = await startSystem({ config: strict.config, roles: ['api'], log: env.log }).then(
        async (s) => {
          await s.stop();
          return null;
        },
        (err: unknown) => err as Error,
      );
      expect(refused?.message).toMatch(
        /^topics below the durability NODE_ENV=production requires \(replication factor 3, min\.insync\.replicas 2\): /,
      );
      for (const t of topics) expect(refused?.message).toContain(`${t} (replication factor 1 < 3, min.insync.replicas 1 < 2)`);
      expect(refused?.message).toContain('KAFKA_ALLOW_UNSAFE_DURABILITY=true');

      const unsafe = testEnv({ ...production, KAFKA_ALLOW_UNSAFE_DURABILITY: 'true' });
      const started = await startSystem({ config: unsafe.config, roles: ['api'], log: env.log });
      await started.stop();
    },
  );
});
