// Actors: a backlog of mixed events (200,000; BENCH_QUICK=1: 20,000) already on the topics, applied to the store by
// EchoCue's actors (startSystem, role actors, in this process). The rate is taken from the consumer group's
// committed offsets (the actors commit a batch only once it is stored), over windows ending at 5 %, 12.5 %, 25 %,
// 50 %, 75 % and 100 % of the backlog (10k, 25k, 50k, 100k, 150k, 200k). Baseline, same run, same store, same
// driver: the final documents the actors wrote, bulk-inserted (insertMany, ordered: false, 1,000 a call) into a
// fresh database with the same collections and indexes, converted to events/s (see the notes).
//
// The store is FerretDB v1.24.2 on PostgreSQL (deploy/local/stack.sh `bench-store`, started here when it is not
// running, stopped afterwards): the SQLite backend of the default stack scans on every query (docs/ferretdb-gaps.md).
// BENCH_MONGODB_URI points the stage at another store (a real MongoDB, say) instead.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { MongoClient, type Db, type Document } from 'mongodb';
import { ACTOR_EVENT_TYPES } from '../../src/actors/apply.ts';
import { startSystem } from '../../src/cli/system.ts';
import { createLogger } from '../../src/core/log.ts';
import { schemasByTopic } from '../../src/events/avro-schemas.ts';
import { createKafkaEvents, silenceKafkajsTimeoutWarning } from '../../src/events/kafka/index.ts';
import { createEventSerde } from '../../src/events/serde.ts';
import { topicNames } from '../../src/events/topics.ts';
import { COLLECTIONS, ensureIndexes } from '../../src/store/collections.ts';
import { figure, sleep, type BenchContext, type Figure, type Series, type Stage, type StageResult } from '../lib.ts';
import { ingestBacklog, type IngestedBacklog } from '../../harness/load/backlog.ts';
import { withDatabase } from '../../harness/isolation.ts';

const run$ = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const QUICK = process.env['BENCH_QUICK'] === '1';
const EVENTS = Number(process.env['BENCH_ACTORS_EVENTS'] ?? (QUICK ? 20_000 : 200_000));
/** Where the windows end, as shares of the backlog: 10k, 25k, 50k, 100k, 150k, 200k of 200k. */
const CHECKPOINTS = [0.05, 0.125, 0.25, 0.5, 0.75, 1];
/** The actors get this long (the whole stage must stay within ~6 minutes on a 2-core machine). */
const MAX_APPLY_SECONDS = Number(process.env['BENCH_ACTORS_MAX_SECONDS'] ?? (QUICK ? 120 : 240));
/** No committed progress for this long: the store (or the actors) stalled; stop and report what was applied. */
const STALL_SECONDS = 60;
const SAMPLE_MS = 250;
const BULK_CHUNK = 1000;
const TARGET_RATIO = 0.5;
/** "Does not degrade": the last window against the window after warm-up, within this tolerance (shared machine). */
const DEGRADE_TOLERANCE = 0.9;

/** The notifications topic's max.message.bytes in this stage (0: the broker's default, 1 MiB). See raiseNotificationLimit. */

/** Every collection the actors write. */
const ACTOR_COLLECTIONS = [
  COLLECTIONS.message,
  COLLECTIONS.thread,
  COLLECTIONS.contact,
  COLLECTIONS.contactAlias,
  COLLECTIONS.template,
  COLLECTIONS.wabaState,
  COLLECTIONS.broadcastRecipient,
] as const;

const fmt = (v: number) => Math.round(v).toLocaleString('en-US');

/** A phase that does not finish in time fails the stage with its name (a wedged store must not hang the run). */
export async function within<T>(seconds: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`actors stage: ${what} did not finish within ${seconds} s (is the bench store wedged? deploy/local/stack.sh status)`),
        ),
      seconds * 1000,
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export const stage: Stage = { name: 'actors', run };

type Sample = { t: number; applied: number };

async function run(ctx: BenchContext): Promise<StageResult> {
  silenceKafkajsTimeoutWarning(); // the actors' kafkajs consumer runs in this process, as in EchoCue's entry point
  const store = await benchStore(ctx);
  const notes: string[] = [];
  try {
    const id = `benchactors${Date.now().toString(36)}`;
    const fresh = ctx.freshConfig({ MONGODB_URI: withDatabase(store.uri, id) });
    const config = fresh.config;
    const rawDb = `${id}raw`;
    const mongo = new MongoClient(store.uri, { serverSelectionTimeoutMS: 10_000 });
    await mongo.connect();
    try {
      // 1. The backlog on the topics, as ingest would have written it (no HTTP).
      const log = createLogger({ level: 'error' });
      const topics = topicNames(config.kafka.topicPrefix);
      const kafka = createKafkaEvents({ brokers: config.kafka.brokers, clientId: 'echocue-bench-actors', log });
      await kafka.admin.ensureTopics(topics.all, {
        partitions: config.kafka.partitions,
        replicationFactor: config.kafka.replicationFactor,
      });
      const serde = await createEventSerde(new SchemaRegistryClient({ baseURLs: [config.registry.url] }), schemasByTopic(topics));
      process.stdout.write(`  writing a backlog of ${fmt(EVENTS)} events to ${config.kafka.partitions} partitions per topic...\n`);
      const backlog = await ingestBacklog({ kafka, serde, topics, events: EVENTS });
      process.stdout.write(`  backlog written in ${backlog.seconds.toFixed(1)} s; applying with the actors on ${store.label}...\n`);

      // 2. The store's collections and indexes exist before the actors start (startSystem would create the indexed
      //    ones); on the bench store, each table also gets a GIN index on _id (why: prepareIdIndexes).
      const db = mongo.db(id);
      await within(60, 'creating the collections', prepareCollections(db));
      if (store.pg) await within(60, 'creating the _id indexes', store.pg.prepareIdIndexes(id));

      // 3. The actors, and their committed offsets over time.
      const groupId = `${config.kafka.topicPrefix}echocue.actors`;
      const actorTopics = ACTOR_EVENT_TYPES.map((t) => topics.events[t]);
      const committed = async (): Promise<number> => {
        let n = 0;
        for (const offsets of (await kafka.admin.committedOffsets(groupId, actorTopics)).values())
          for (const o of offsets) n += Math.max(0, Number(o));
        return n;
      };
      const pgPeak = { connections: 0 };
      const t0 = performance.now();
      const system = await within(
        120,
        'starting the actors',
        startSystem({ config, roles: ['actors'], log: createLogger({ level: process.env['BENCH_LOG_LEVEL'] ?? 'error' }) }),
      );
      const tStarted = performance.now();
      const samples: Sample[] = [{ t: 0, applied: 0 }];
      let outcome: 'complete' | 'budget' | 'stalled' = 'complete';
      let metricsText = '';
      try {
        let lastProgress = performance.now();
        let lastPg = 0;
        for (;;) {
          await sleep(SAMPLE_MS);
          const applied = await committed();
          const now = performance.now();
          if (applied > samples[samples.length - 1]!.applied) lastProgress = now;
          samples.push({ t: (now - tStarted) / 1000, applied });
          if (store.pg && now - lastPg > 2000) {
            lastPg = now;
            pgPeak.connections = Math.max(pgPeak.connections, await store.pg.connections().catch(() => 0));
          }
          if (applied >= backlog.records) break;
          if ((now - tStarted) / 1000 > MAX_APPLY_SECONDS) {
            outcome = 'budget';
            break;
          }
          if ((now - lastProgress) / 1000 > STALL_SECONDS) {
            outcome = 'stalled';
            break;
          }
        }
        metricsText = await fetch(`${system.metricsUrl}/metrics`)
          .then((r) => r.text())
          .catch(() => '');
      } finally {
        await within(60, 'stopping the actors', system.stop());
        await kafka.close();
      }
      const startupSeconds = (tStarted - t0) / 1000;
      const applied = samples[samples.length - 1]!.applied;
      const seconds = samples[samples.length - 1]!.t;
      const counters = {
        applied: sumMetric(metricsText, 'echocue_actor_events_applied_total'),
        deadLettered: sumMetric(metricsText, 'echocue_actor_events_dead_lettered_total'),
      };
      process.stdout.write(`  actors: ${fmt(applied)} of ${fmt(backlog.records)} events in ${seconds.toFixed(1)} s (${outcome})\n`);

      // 4. Baseline: the same final documents, bulk-inserted into a fresh database of the same store.
      const dumpStart = performance.now();
      const final = new Map<string, Document[]>();
      const read = await within(
        180,
        'reading the final documents back',
        Promise.all(ACTOR_COLLECTIONS.map((c) => db.collection(c).find({}, { batchSize: 5000 }).toArray())),
      );
      ACTOR_COLLECTIONS.forEach((c, i) => final.set(c, read[i]!));
      const dumpSeconds = (performance.now() - dumpStart) / 1000;
      const docs = [...final.values()].reduce((n, d) => n + d.length, 0);
      const raw = mongo.db(rawDb);
      await within(60, 'creating the baseline collections', prepareCollections(raw));
      if (store.pg) await within(60, 'creating the baseline _id indexes', store.pg.prepareIdIndexes(rawDb));
      const bulk = await within(240, 'the raw bulk write', bulkInsert(raw, final));
      final.clear();
      await raw.dropDatabase().catch(() => undefined);

      return report({
        backlog,
        samples,
        applied,
        seconds,
        outcome,
        startupSeconds,
        counters,
        docsByCollection: bulk.docsByCollection,
        docs,
        bulk,
        dumpSeconds,
        store,
        pgPeak: pgPeak.connections,
        partitions: config.kafka.partitions,
        notes,
      });
    } finally {
      await mongo
        .db(rawDb)
        .dropDatabase()
        .catch(() => undefined);
      await mongo.close();
      await fresh.cleanup().catch(() => undefined);
    }
  } finally {
    await store.stop();
  }
}

// ---------- the store ----------

type PgStore = {
  /** A GIN index on _jsonb->'_id' for every table of the database (FerretDB's schema of the same name). */
  prepareIdIndexes(database: string): Promise<void>;
  /** Connections to the bench store's PostgreSQL database right now. */
  connections(): Promise<number>;
};
export type BenchStore = { uri: string; label: string; pg: PgStore | null; stop(): Promise<void> };

const PG_PORT = process.env['ECHOCUE_LOCAL_POSTGRES_PORT'] ?? '15432';
const FERRETDB_PG_PORT = process.env['ECHOCUE_LOCAL_FERRETDB_PORT'] ?? '27027';

function psqlBinary(): string | null {
  const dirs = [
    process.env['ECHOCUE_PG_BIN'],
    '/usr/lib/postgresql/15/bin',
    ...(existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`) : []),
  ];
  return dirs.map((d) => d && join(d, 'psql')).find((p): p is string => !!p && existsSync(p)) ?? null;
}

async function portOpen(port: string): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(Number(port), '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The bench store: BENCH_MONGODB_URI, or FerretDB on PostgreSQL from the local stack (started when not running). */
export async function benchStore(ctx: BenchContext): Promise<BenchStore> {
  const given = process.env['BENCH_MONGODB_URI'];
  const uri = given ?? `mongodb://127.0.0.1:${FERRETDB_PG_PORT}/echocue?retryWrites=false`;
  let stop = async () => {};
  if (!given && !(await portOpen(FERRETDB_PG_PORT))) {
    const record = join(ctx.dir, 'actors-bench-store.started');
    process.stdout.write('  starting the bench store (deploy/local/stack.sh up ferretdb)...\n');
    await run$(join(ROOT, 'deploy/local/stack.sh'), ['up', '--record', record, 'ferretdb'], { cwd: ROOT });
    stop = async () => {
      await run$(join(ROOT, 'deploy/local/stack.sh'), ['down', '--only', record], { cwd: ROOT }).catch(() => undefined);
    };
  }
  const psql = psqlBinary();
  const onLocalPg = !given || new URL(given.replace(/^mongodb:/, 'http:')).port === FERRETDB_PG_PORT;
  const pg: PgStore | null = onLocalPg && psql ? pgStore(psql) : null;
  const label = given ? `the store at BENCH_MONGODB_URI` : `FerretDB 1.24.2 on PostgreSQL (127.0.0.1:${FERRETDB_PG_PORT})`;
  return { uri, label, pg, stop };
}

function pgStore(psql: string): PgStore {
  const sql = (q: string) =>
    run$(psql, ['-h', '127.0.0.1', '-p', PG_PORT, '-U', 'echocue', '-d', 'ferretdb', '-v', 'ON_ERROR_STOP=1', '-tAc', q]).then((r) =>
      r.stdout.trim(),
    );
  return {
    // FerretDB v1.24 on PostgreSQL pushes `{_id: x}` down as `_jsonb->'_id' @> '"x"'`, which its own btree index on
    // `_jsonb->'_id'` cannot serve: every lookup by _id, and every replace, scans the table. A GIN index on the same
    // expression serves `@>`; it stands in for MongoDB's _id index (both databases of the run get it). fastupdate off:
    // a GIN pending list would be scanned by every lookup until it is flushed.
    async prepareIdIndexes(database) {
      if (!/^[a-z0-9_]+$/.test(database)) throw new Error(`unexpected database name ${database}`);
      await sql(`DO $$ DECLARE r record; BEGIN
        FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = '${database}' AND c.relkind = 'r' AND c.relname NOT LIKE '\\_ferretdb%' LOOP
          EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb -> ''_id'')) WITH (fastupdate = off)', left(r.relname, 50) || '_id_gin', '${database}', r.relname);
        END LOOP; END $$`);
    },
    async connections() {
      return Number(await sql(`SELECT count(*) FROM pg_stat_activity WHERE datname = 'ferretdb'`));
    },
  };
}

/** Every collection the actors write, with EchoCue's indexes, created before anything is written. */
export async function prepareCollections(db: Db): Promise<void> {
  await ensureIndexes(db);
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const c of ACTOR_COLLECTIONS) if (!existing.has(c)) await db.createCollection(c);
}

// ---------- baseline ----------

type Bulk = { seconds: number; docs: number; docsByCollection: Record<string, number>; marks: { docs: number; t: number }[] };

/** insertMany of every final document, 1,000 a call, one call at a time; collections interleaved in proportion so
 *  that every collection grows along the whole run, as under the actors. */
async function bulkInsert(db: Db, final: Map<string, Document[]>): Promise<Bulk> {
  const chunks: { collection: string; docs: Document[]; order: number }[] = [];
  for (const [collection, docs] of final) {
    const n = Math.ceil(docs.length / BULK_CHUNK);
    for (let i = 0; i < n; i++) chunks.push({ collection, docs: docs.slice(i * BULK_CHUNK, (i + 1) * BULK_CHUNK), order: (i + 0.5) / n });
  }
  chunks.sort((a, b) => a.order - b.order);
  const marks: Bulk['marks'] = [{ docs: 0, t: 0 }];
  const start = performance.now();
  let written = 0;
  for (const c of chunks) {
    await db.collection(c.collection).insertMany(c.docs, { ordered: false });
    written += c.docs.length;
    marks.push({ docs: written, t: (performance.now() - start) / 1000 });
  }
  return {
    seconds: (performance.now() - start) / 1000,
    docs: written,
    docsByCollection: Object.fromEntries([...final].map(([c, d]) => [c, d.length])),
    marks,
  };
}

// ---------- figures ----------

/** When `target` was crossed, interpolated between the samples around it. */
function crossing(points: readonly { x: number; t: number }[], target: number): number | null {
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (b.x >= target) return b.x === a.x ? b.t : a.t + ((target - a.x) / (b.x - a.x)) * (b.t - a.t);
  }
  return null;
}

/** Rate in each window between consecutive checkpoints (x: where the window ends). */
function windows(points: readonly { x: number; t: number }[], ends: readonly number[], scale = 1): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  let prev = { x: 0, t: 0 };
  for (const end of ends) {
    const t = crossing(points, end);
    if (t === null) break;
    if (t > prev.t) out.push({ x: Math.round(end * scale), y: ((end - prev.x) * scale) / (t - prev.t) });
    prev = { x: end, t };
  }
  return out;
}

function sumMetric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

function report(r: {
  backlog: IngestedBacklog;
  samples: Sample[];
  applied: number;
  seconds: number;
  outcome: 'complete' | 'budget' | 'stalled';
  startupSeconds: number;
  counters: { applied: number; deadLettered: number };
  docsByCollection: Record<string, number>;
  docs: number;
  bulk: Bulk;
  dumpSeconds: number;
  store: BenchStore;
  pgPeak: number;
  partitions: number;
  notes: string[];
}): StageResult {
  const { backlog, applied } = r;
  const ends = CHECKPOINTS.map((c) => Math.round(c * backlog.records)).filter((e) => e <= applied);
  // A run cut short ends its last window where it stopped.
  if (applied > (ends[ends.length - 1] ?? 0)) ends.push(applied);
  const actorSeries = windows(
    r.samples.map((s) => ({ x: s.applied, t: s.t })),
    ends,
  );
  // The baseline in event-equivalents: the raw write of the D final documents of A applied events stands for A events,
  // so a document written counts A/D events.
  const perDoc = applied / Math.max(1, r.bulk.docs);
  const rawSeries = windows(
    r.bulk.marks.map((m) => ({ x: m.docs, t: m.t })),
    ends.map((e) => e / perDoc),
    perDoc,
  );
  const actorRate = applied / r.seconds;
  const rawRate = applied / r.bulk.seconds;
  const figures: Figure[] = [];
  figures.push(
    figure({
      name:
        applied === backlog.records
          ? `actors: events/s applied to the store, backlog of ${fmt(applied)} events`
          : `actors: events/s applied to the store, first ${fmt(applied)} events of a ${fmt(backlog.records)}-event backlog`,
      value: actorRate,
      unit: 'events/s',
      baseline: { name: `raw bulk write of the same ${fmt(r.bulk.docs)} final documents (insertMany), as events/s`, value: rawRate },
      target: { op: '>=', value: TARGET_RATIO, on: 'ratio' },
      note:
        `Actors: ${fmt(applied)} events in ${r.seconds.toFixed(1)} s from the moment the actors were started (consumer-group join included). ` +
        `Raw write: ${fmt(r.bulk.docs)} documents in ${r.bulk.seconds.toFixed(1)} s = ${fmt(r.bulk.docs / r.bulk.seconds)} documents/s; ` +
        `× ${perDoc.toFixed(2)} events per final document = ${fmt(rawRate)} events/s (the ratio is the raw write's time over the actors' time).`,
    }),
  );
  // Degradation: the second half of what was applied against the first half after the warm-up window (the first
  // window holds the consumer-group join and JIT). Halves, not single windows: the actors commit a whole batch (a
  // thousand events and more) at once, so short windows are noisy.
  const actorPoints = r.samples.map((s) => ({ x: s.applied, t: s.t }));
  const rawPoints = r.bulk.marks.map((m) => ({ x: m.docs * perDoc, t: m.t }));
  const from = ends[0] ?? 0;
  const mid = Math.round(applied / 2);
  const rateBetween = (points: { x: number; t: number }[], a: number, b: number) => {
    const ta = crossing(points, a);
    const tb = crossing(points, b);
    return ta !== null && tb !== null && tb > ta ? (b - a) / (tb - ta) : null;
  };
  const early = from < mid ? rateBetween(actorPoints, from, mid) : null;
  const late = rateBetween(actorPoints, mid, applied);
  if (early !== null && late !== null) {
    figures.push(
      figure({
        name: `actors: events/s over events ${fmt(mid)}-${fmt(applied)} vs ${fmt(from)}-${fmt(mid)} (does the rate hold as the backlog is worked off and the store grows?)`,
        value: late,
        unit: 'events/s',
        baseline: { name: `actors, events ${fmt(from)}-${fmt(mid)} of the same run`, value: early },
        target: { op: '>=', value: DEGRADE_TOLERANCE, on: 'ratio' },
        note: `"Must not degrade with backlog size or document count", read as: the second half keeps at least ${DEGRADE_TOLERANCE * 100} % of the rate of the first half (a noise allowance on a shared 2-core machine; the first ${fmt(from)} events, with the consumer-group join, left out: ${fmt(actorSeries[0]?.y ?? 0)} events/s). The window-by-window rates are in the chart.`,
      }),
    );
    const rawEarly = rateBetween(rawPoints, from, mid);
    const rawLate = rateBetween(rawPoints, mid, applied);
    if (rawEarly !== null && rawLate !== null) {
      figures.push(
        figure({
          name: `raw bulk write: event-equivalents/s over the second half of the documents vs the first (how the store itself scales)`,
          value: rawLate,
          unit: 'events/s',
          baseline: { name: 'raw bulk write, first half', value: rawEarly },
        }),
      );
    }
  }
  const chart = 'Actor throughput vs backlog size';
  const series: Series[] = [
    { chart, label: 'actors (events/s in each window)', x: 'events applied so far', y: 'events/s', points: actorSeries },
    {
      chart,
      label: 'baseline: raw bulk write of the final documents (event-equivalents/s)',
      x: 'events applied so far',
      y: 'events/s',
      points: rawSeries,
    },
  ];
  const byType = Object.entries(backlog.byType)
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ${fmt(n)}`)
    .join(', ');
  const notes = [
    `Backlog: ${fmt(backlog.records)} events (${byType}) from ${fmt(backlog.bodies)} Meta-shaped bodies over 16 WABAs, split by ingest's own splitPayload, Avro-encoded and written with EchoCue's producer (acks=all) in ${backlog.seconds.toFixed(1)} s, before the actors start; ${fmt(backlog.contacts)} contacts (one inbound message in six from a new contact, the rest from known ones, so inserts and replaces keep their proportion), ${fmt(backlog.outbound)} outbound messages with sent/delivered/read statuses. Not written: the raw-body topic (the actors do not read it).`,
    `Store: ${r.store.label}${r.store.pg ? ", PostgreSQL 15 with synchronous_commit=off; each FerretDB table also has a GIN index on _jsonb->'_id', in both databases, because FerretDB v1.24 queries _id with @> (which its btree _id index cannot serve) and would otherwise scan the table on every lookup and replace" : ''}. Actors: startSystem(['actors']) in the bench process, ${r.partitions} partitions per topic, 2 partitions applied at once (EchoCue's default); rate from the group's committed offsets sampled every ${SAMPLE_MS} ms, each window's ends interpolated between samples (the actors commit a whole batch, a thousand events and more, at once, so short windows are noisy); actors started in ${r.startupSeconds.toFixed(1)} s (topics, indexes, schemas) before the clock starts.`,
    `Final documents: ${Object.entries(r.docsByCollection)
      .map(([c, n]) => `${c} ${fmt(n)}`)
      .join(
        ', ',
      )} (${fmt(r.docs)}; read back in ${r.dumpSeconds.toFixed(1)} s). Baseline: insertMany of those documents, ordered: false, ${fmt(BULK_CHUNK)} per call, one call at a time, collections interleaved in proportion, into a fresh database of the same store with the same collections and indexes. Its events/s = documents/s × (events applied ÷ final documents): the rate at which the end state of the same backlog could be written if nothing had to be read or rewritten.`,
    `Actors' counters: ${fmt(r.counters.applied)} applied, ${fmt(r.counters.deadLettered)} dead-lettered.${r.pgPeak > 0 ? ` Peak connections from FerretDB to PostgreSQL: ${r.pgPeak}.` : ''}`,
    ...r.notes,
  ];
  if (r.outcome !== 'complete') {
    notes.unshift(
      r.outcome === 'budget'
        ? `Only ${fmt(applied)} of ${fmt(backlog.records)} events were applied within the ${MAX_APPLY_SECONDS} s the stage allows the actors (the whole stage must fit in ~6 minutes on this 2-core machine). The figures and series cover those ${fmt(applied)} events only; nothing is extrapolated. Cause: the actors' rate on this store (${fmt(actorRate)} events/s) × ${MAX_APPLY_SECONDS} s < ${fmt(backlog.records)}.`
        : `The actors made no progress for ${STALL_SECONDS} s after ${fmt(applied)} of ${fmt(backlog.records)} events and were stopped; the figures cover what was applied. See the notes on the store.`,
    );
  }
  return {
    stage: 'actors',
    figures,
    series,
    notes,
    raw: {
      outcome: r.outcome,
      samples: r.samples,
      bulkMarks: r.bulk.marks,
      backlog,
      counters: r.counters,
      docsByCollection: r.docsByCollection,
      pgPeakConnections: r.pgPeak,
    },
  };
}
