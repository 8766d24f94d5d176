// A batch whose store writes take longer than the group session: the actors keep their membership (they heartbeat
// while the batch is handled), so the batch is applied once. Had the member missed its heartbeats, the group would
// have evicted it during the write; the offsets commit after the write then fails, the member rejoins and reads the
// batch again from the last committed offset, and applies it a second time. Every actor document carries `_v`, the
// number of times the store wrote it: applied once, every document is at 1; applied twice, the batch's threads and
// contacts are at 2.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { startSystem } from '../../src/cli/system.ts';
import { startActors } from '../../src/actors/consumer.ts';
import { type ActorStore } from '../../src/actors/ports.ts';
import { createMetrics } from '../../src/core/metrics.ts';
import { schemasByTopic } from '../../src/events/avro-schemas.ts';
import { createEventProducer, createKafka, type EventProducer, type RunningConsumer } from '../../src/events/kafka.ts';
import { createEventSerde } from '../../src/events/serde.ts';
import { topicNames } from '../../src/events/topics.ts';
import { createActorStore } from '../../src/store/actor-store.ts';
import { fixture, testEnv, type TestEnv } from '../helpers/env.ts';
import { postFixture } from '../helpers/http.ts';
import { waitForActors } from '../helpers/topics.ts';

const SESSION_TIMEOUT_MS = 6_000; // the broker's group.min.session.timeout.ms default
const STALL_MS = 10_000; // the first commit to the store takes this long: well past the session
const FIXTURES = ['messages.text.json', 'messages.image.json', 'messages.reaction.json', 'statuses.sent.json', 'statuses.delivered.json', 'statuses.read.json'];
const COLLECTIONS = ['ec_message', 'ec_thread', 'ec_contact', 'ec_template', 'ec_waba_state'];

describe('actors > a batch whose store write outlives the session timeout', () => {
  let env: TestEnv;
  let mongo: MongoClient;
  let producer: EventProducer | undefined;
  let actors: RunningConsumer | undefined;

  beforeAll(async () => {
    env = testEnv();
    // Ingest first, so that the actors find every event on the topics when they start.
    const ingest = await startSystem({ config: env.config, roles: ['ingest'], log: env.log });
    try {
      for (const f of FIXTURES) expect((await postFixture(ingest.url, fixture(f))).status, f).toBe(200);
    } finally {
      await ingest.stop();
    }
    mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
  }, 60_000);

  afterAll(async () => {
    await actors?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await mongo?.close();
    await env?.cleanup();
  });

  test('the batch is applied once and the group commits every offset', { timeout: 120_000 }, async () => {
    expect(STALL_MS).toBeGreaterThan(SESSION_TIMEOUT_MS);
    const { config, log } = env;
    const db = mongo.db();
    const real = createActorStore(db);
    const commits: { stalled: boolean }[] = [];
    const store: ActorStore = {
      load: (c, ids) => real.load(c, ids),
      contactsByAliases: (waba, aliases) => real.contactsByAliases(waba, aliases),
      async commit(w) {
        const stalled = commits.length === 0;
        commits.push({ stalled });
        if (stalled) await new Promise((r) => setTimeout(r, STALL_MS));
        return real.commit(w);
      },
    };
    const topics = topicNames(config.kafka.topicPrefix);
    const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'long-batch-test', log });
    const registry = new SchemaRegistryClient({ baseURLs: [config.registry.url], maxRetries: 2, retriesWaitMs: 200 });
    const serde = await createEventSerde(registry, schemasByTopic(topics));
    producer = await createEventProducer(kafka);
    actors = await startActors({
      kafka, serde, topics, store, producer, log, metrics: createMetrics(),
      groupId: `${config.kafka.topicPrefix}echocue.actors`,
      cacheMaxDocs: config.actors.cacheMaxDocs,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    await waitForActors(config, 90_000);
    expect(commits[0]).toEqual({ stalled: true }); // the stall really happened, on a batch that was then committed

    const versions: Record<string, Record<string, unknown>> = {};
    for (const c of COLLECTIONS) {
      for (const d of await db.collection(c).find({}, { projection: { _v: 1 } }).toArray()) (versions[c] ??= {})[String(d._id)] = d['_v'];
    }
    expect(Object.keys(versions['ec_message'] ?? {}).length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(versions['ec_thread'] ?? {}).length).toBeGreaterThanOrEqual(1);
    expect(Object.keys(versions['ec_contact'] ?? {}).length).toBeGreaterThanOrEqual(1);
    const once = Object.fromEntries(Object.entries(versions).map(([c, docs]) => [c, Object.fromEntries(Object.keys(docs).map((id) => [id, 1]))]));
    expect(versions).toEqual(once);
  });
});
