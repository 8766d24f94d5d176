// A batch that outlives the group session, two ways, on the real broker and store:
// 1. Its store writes take longer than the session: the actors keep their membership (they heartbeat while the batch
//    is handled), so the batch is applied once. Had the member missed its heartbeats, the group would have evicted it
//    during the write, its offsets commit would fail, and it would read the batch again from the last committed
//    offset and apply it a second time.
// 2. The member's whole process stalls past the session (a long GC pause: no heartbeat can run): it is evicted, its
//    commit fails, and it must rejoin and go on, applying the batch again, rather than stop consuming.
// Every actor document carries `_v`, the number of times the store wrote it: applied once, every message and thread is
// at 1. A second application of a stored batch writes nothing (a redelivery changes nothing, decision 0012), but it
// reads the batch's documents from the store again (the member's cache is dropped when it rejoins): a message loaded
// twice is the mark of a batch applied twice.
import { afterAll, describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { startSystem } from '../../src/cli/system.ts';
import { startActors } from '../../src/actors/consumer.ts';
import { type ActorStore } from '../../src/actors/ports.ts';
import { createMetrics } from '../../src/core/metrics.ts';
import { schemasByTopic } from '../../src/events/avro-schemas.ts';
import { type EventProducer, type RunningConsumer } from '../../src/events/port.ts';
import { testEvents } from '../../harness/kafka.ts';
import { createEventSerde } from '../../src/events/serde.ts';
import { topicNames } from '../../src/events/topics.ts';
import { createActorStore } from '../../src/store/actor-store.ts';
import { fixture, testEnv, type TestEnv } from '../helpers/env.ts';
import { postFixture } from '../helpers/http.ts';
import { ACTOR_COLLECTION_NAMES, actorDocuments } from '../helpers/store-dump.ts';
import { waitForActors } from '../../harness/topics.ts';

/** API_CHANGE_SETTLE_MS's default: how long a change may take to become visible to pollers. */
const SETTLE_MS = 5000;

const SESSION_TIMEOUT_MS = 6_000; // the broker's group.min.session.timeout.ms default
const STALL_MS = 10_000; // the first commit to the store is held this long: well past the session
const FIXTURES = [
  'messages.text.json',
  'messages.image.json',
  'messages.reaction.json',
  'statuses.sent.json',
  'statuses.delivered.json',
  'statuses.read.json',
];
const RECEIVED_AT = new Date('2026-06-15T09:41:02.000Z'); // ingest's clock, so that both runs store the same documents

type Versions = Record<string, Record<string, unknown>>;
type Run = { env: TestEnv; stalls: number; versions: Versions; loadedTwice: string[] };

describe('actors > a batch that outlives the session timeout', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  /** Ingests the fixtures into a fresh environment, then runs the actors (6 s session) on a store whose first commit
   *  `stall`s; returns once the group's committed offsets reach the end of every actor topic. */
  async function run(stall: () => Promise<void>): Promise<Run> {
    const env = testEnv();
    cleanups.push(() => env.cleanup());
    const ingest = await startSystem({ config: env.config, roles: ['ingest'], log: env.log, clock: { now: () => RECEIVED_AT } });
    try {
      for (const f of FIXTURES) expect((await postFixture(ingest.url, fixture(f))).status, f).toBe(200);
    } finally {
      await ingest.stop();
    }
    const mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
    cleanups.push(() => mongo.close());
    const real = createActorStore(mongo.db(), { settleMs: SETTLE_MS });
    let stalls = 0;
    const loads = new Map<string, number>();
    const store: ActorStore = {
      load: (c, ids) => {
        if (c === 'message') for (const id of ids) loads.set(id, (loads.get(id) ?? 0) + 1);
        return real.load(c, ids);
      },
      contactsByAliases: (waba, aliases) => real.contactsByAliases(waba, aliases),
      async commit(w) {
        if (stalls++ === 0) await stall();
        return real.commit(w);
      },
    };
    const { config, log } = env;
    const topics = topicNames(config.kafka.topicPrefix);
    const events = testEvents(config, 'long-batch-test');
    cleanups.push(() => events.close());
    const registry = new SchemaRegistryClient({ baseURLs: [config.registry.url], maxRetries: 2, retriesWaitMs: 200 });
    const producer: EventProducer = await events.createProducer();
    cleanups.push(() => producer.disconnect());
    const actors: RunningConsumer = await startActors({
      events,
      store,
      producer,
      log,
      topics,
      serde: await createEventSerde(registry, schemasByTopic(topics)),
      metrics: createMetrics(),
      groupId: `${config.kafka.topicPrefix}echocue.actors`,
      cacheMaxDocs: config.actors.cacheMaxDocs,
      concurrency: config.actors.partitionConcurrency,
      produceTimeoutMs: config.kafka.produceTimeoutMs,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    cleanups.push(() => actors.stop());
    await waitForActors(config, 90_000);
    const versions: Versions = {};
    for (const c of ACTOR_COLLECTION_NAMES) {
      for (const d of await mongo
        .db()
        .collection(c)
        .find({}, { projection: { _v: 1 } })
        .toArray())
        (versions[c] ??= {})[String(d._id)] = d['_v'];
    }
    await actors.stop();
    return { env, stalls, versions, loadedTwice: [...loads].filter(([, n]) => n > 1).map(([id]) => id) };
  }

  let once: Run | undefined;

  test(
    'slow store writes: the member heartbeats through them, the batch is applied once and every offset committed',
    { timeout: 120_000 },
    async () => {
      expect(STALL_MS).toBeGreaterThan(SESSION_TIMEOUT_MS);
      const r = await run(() => new Promise((resolve) => setTimeout(resolve, STALL_MS)));
      expect(r.stalls).toBeGreaterThanOrEqual(1); // the stall really happened, on a batch that was then committed
      expect(Object.keys(r.versions['ec_message'] ?? {}).length).toBeGreaterThanOrEqual(3);
      expect(Object.keys(r.versions['ec_thread'] ?? {}).length).toBeGreaterThanOrEqual(1);
      expect(Object.keys(r.versions['ec_contact'] ?? {}).length).toBeGreaterThanOrEqual(1);
      // Messages and threads are each written by one batch (their own topic's); applied once, each is at version 1.
      // Contacts are written by the inbound batch and again by the status batch (statuses link their recipient), so
      // their count says nothing about a second application.
      const once1 = (c: string) => Object.fromEntries(Object.keys(r.versions[c] ?? {}).map((id) => [id, 1]));
      for (const c of ['ec_message', 'ec_thread']) expect(r.versions[c], c).toEqual(once1(c));
      expect(r.loadedTwice).toEqual([]);
      once = r;
    },
  );

  test(
    'a process stall past the session (no heartbeat can run): the evicted member rejoins, applies the batch again, and commits every offset',
    { timeout: 120_000 },
    async () => {
      // Atomics.wait blocks this thread, timers and sockets included, as a long GC pause would.
      const r = await run(async () => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STALL_MS));
      // The member really was evicted: the stalled batch was applied a second time after the rejoin.
      expect(r.loadedTwice.length).toBeGreaterThan(0);
      // And the second application changed nothing but the write counts.
      expect(once, 'the first test ran').toBeDefined();
      expect(await actorDocuments(r.env.config.mongo.uri)).toEqual(await actorDocuments(once!.env.config.mongo.uri));
    },
  );
});
