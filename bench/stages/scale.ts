// Scale-out of the actors (issue 17, docs/capacity.md): the same backlog of mixed events applied by one actors
// process, then (on its own topics, group and database) by two actors processes sharing the consumer group, each
// `echocue serve --role actors` as a child process on the bench store. The rate is taken from the group's committed
// offsets between 10 % and 90 % of the backlog (start-up, the join and the tail left out). Baseline: the one-process
// rate of the same run. Meanwhile the CPU time of every part is read from /proc (the actors processes, FerretDB,
// PostgreSQL, the broker), so the figure says where the time went: on this 2-core machine the processes share the
// cores with the store they write to.
import { readFileSync, readdirSync } from 'node:fs';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { MongoClient } from 'mongodb';
import { ACTOR_EVENT_TYPES } from '../../src/actors/apply.ts';
import { type Config } from '../../src/config/index.ts';
import { createLogger } from '../../src/core/log.ts';
import { schemasByTopic } from '../../src/events/avro-schemas.ts';
import { createKafkaEvents } from '../../src/events/kafka/index.ts';
import { createEventSerde } from '../../src/events/serde.ts';
import { topicNames } from '../../src/events/topics.ts';
import { ingestBacklog } from '../../harness/load/backlog.ts';
import { startEchoCue, type ServerProcess } from '../../harness/load/processes.ts';
import { withDatabase } from '../../harness/isolation.ts';
import { readyz } from '../../harness/readiness.ts';
import { figure, sleep, type BenchContext, type Figure, type Stage, type StageResult } from '../lib.ts';
import { benchStore, prepareCollections, within, type BenchStore } from './actors.ts';

const QUICK = process.env['BENCH_QUICK'] === '1';
const EVENTS = Number(process.env['BENCH_SCALE_EVENTS'] ?? (QUICK ? 10_000 : 40_000));
const PROCESSES = Number(process.env['BENCH_SCALE_PROCESSES'] ?? 2);
const MAX_SECONDS = Number(process.env['BENCH_SCALE_MAX_SECONDS'] ?? (QUICK ? 90 : 240));
const WINDOW = { from: 0.1, to: 0.9 } as const;
const CLOCK_TICKS = 100; // USER_HZ on Linux

export const stage: Stage = { name: 'scale', run };

type Cpu = Record<string, number>;
type RunResult = { processes: number; rate: number; seconds: number; applied: number; total: number; cpu: Cpu; wall: number };

const fmt = (v: number) => Math.round(v).toLocaleString('en-US');

async function run(ctx: BenchContext): Promise<StageResult> {
  const store = await benchStore(ctx);
  try {
    const one = await measure(ctx, store, 1);
    const many = await measure(ctx, store, PROCESSES);
    return report(one, many, store);
  } finally {
    await store.stop();
  }
}

/** A fresh backlog on fresh topics, applied by `n` actors processes; the rate between 10 % and 90 % of it. */
async function measure(ctx: BenchContext, store: BenchStore, n: number): Promise<RunResult> {
  const id = `benchscale${n}${Date.now().toString(36)}`;
  const fresh = ctx.freshConfig({ MONGODB_URI: withDatabase(store.uri, id) });
  const config = fresh.config;
  const log = createLogger({ level: 'error' });
  const kafka = createKafkaEvents({ brokers: config.kafka.brokers, clientId: 'echocue-bench-scale', log });
  const mongo = new MongoClient(store.uri, { serverSelectionTimeoutMS: 10_000 });
  const procs: ServerProcess[] = [];
  try {
    await mongo.connect();
    const topics = topicNames(config.kafka.topicPrefix);
    await kafka.admin.ensureTopics(topics.all, { partitions: config.kafka.partitions, replicationFactor: config.kafka.replicationFactor });
    const serde = await createEventSerde(new SchemaRegistryClient({ baseURLs: [config.registry.url] }), schemasByTopic(topics));
    const db = mongo.db(id);
    await within(60, 'creating the collections', prepareCollections(db));
    if (store.pg) await within(60, 'creating the _id indexes', store.pg.prepareIdIndexes(id));
    // Every process has joined and holds its share before the first record is written: the measured window is
    // the steady state of n members, not one member working while the next starts.
    for (let i = 0; i < n; i++) procs.push(await within(120, 'starting an actors process', startActors(config)));
    await within(120, 'the actors joining their group', joined(procs, ACTOR_EVENT_TYPES.length * config.kafka.partitions));
    process.stdout.write(`  ${n} actors process(es) joined; writing a backlog of ${fmt(EVENTS)} events...\n`);
    const groupId = `${config.kafka.topicPrefix}echocue.actors`;
    const actorTopics = ACTOR_EVENT_TYPES.map((t) => topics.events[t]);
    const committed = async () => {
      let c = 0;
      for (const offsets of (await kafka.admin.committedOffsets(groupId, actorTopics)).values())
        for (const o of offsets) c += Math.max(0, Number(o));
      return c;
    };
    const started = performance.now();
    const backlog = await ingestBacklog({ kafka, serde, topics, events: EVENTS });
    const total = backlog.records;
    let at: { t: number; applied: number; cpu: Cpu } | null = null;
    let end: { t: number; applied: number; cpu: Cpu } | null = null;
    for (;;) {
      await sleep(250);
      const applied = await committed();
      const t = (performance.now() - started) / 1000;
      if (!at && applied >= WINDOW.from * total) at = { t, applied, cpu: cpuTicks(procs) };
      if (at && applied >= WINDOW.to * total) {
        end = { t, applied, cpu: cpuTicks(procs) };
        break;
      }
      if (t > MAX_SECONDS) {
        end = { t, applied, cpu: cpuTicks(procs) };
        break;
      }
    }
    const from = at ?? { t: 0, applied: 0, cpu: end.cpu };
    const seconds = end.t - from.t;
    const cpu: Cpu = {};
    for (const k of Object.keys(end.cpu)) cpu[k] = (end.cpu[k]! - (from.cpu[k] ?? 0)) / CLOCK_TICKS / Math.max(seconds, 0.001);
    const rate = (end.applied - from.applied) / Math.max(seconds, 0.001);
    process.stdout.write(
      `  ${n} process(es): ${fmt(rate)} events/s between ${fmt(from.applied)} and ${fmt(end.applied)} of ${fmt(total)}\n`,
    );
    return { processes: n, rate, seconds, applied: end.applied - from.applied, total, cpu, wall: end.t };
  } finally {
    for (const p of procs) await p.stop().catch(() => undefined);
    await kafka.close().catch(() => undefined);
    await mongo.close().catch(() => undefined);
    await fresh.cleanup().catch(() => undefined);
  }
}

/** Resolves once the processes' /readyz shares (partitions of the actors group) add up to every partition. */
async function joined(procs: readonly ServerProcess[], partitions: number): Promise<void> {
  for (;;) {
    let sum = 0;
    for (const p of procs) sum += (await readyz(p.url)).shares.actors ?? 0;
    if (sum === partitions) return;
    await sleep(250);
  }
}

function startActors(config: Config): Promise<ServerProcess> {
  return startEchoCue(config, 'actors', { METRICS_PORT: '0' });
}

/** CPU ticks (user + system) used so far by each part: the actors processes, FerretDB, PostgreSQL, the broker
 *  (Java), and the whole machine. Processes are found by name in /proc (the local stack's). */
function cpuTicks(actors: readonly ServerProcess[]): Cpu {
  const ticksOf = (pid: number | string): number => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      return 0;
    }
  };
  const commOf = (pid: string): string => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  const out: Cpu = { actors: actors.reduce((n, p) => n + ticksOf(p.pid), 0), ferretdb: 0, postgres: 0, kafka: 0 };
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const comm = commOf(pid);
    if (comm === 'ferretdb') out['ferretdb']! += ticksOf(pid);
    else if (comm === 'postgres') out['postgres']! += ticksOf(pid);
    else if (comm === 'java') out['kafka']! += ticksOf(pid); // the broker and the registry both run on the JVM
  }
  const cpuLine = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  out['machine'] = cpuLine.slice(0, 8).reduce((a, b) => a + b, 0) - cpuLine[3]! - cpuLine[4]!; // all but idle and iowait
  return out;
}

function report(one: RunResult, many: RunResult, store: BenchStore): StageResult {
  const cores = (c: Cpu) =>
    ['actors', 'ferretdb', 'postgres', 'kafka', 'machine'].map((k) => `${k} ${(c[k] ?? 0).toFixed(2)}`).join(', ') + ' cores';
  const figures: Figure[] = [
    figure({
      name: `scale: actors events/s with ${many.processes} processes sharing the group (events ${Math.round(WINDOW.from * 100)} %-${Math.round(WINDOW.to * 100)} % of a ${fmt(many.total)}-record backlog)`,
      value: many.rate,
      unit: 'events/s',
      baseline: { name: '1 actors process, the same backlog on its own topics and database', value: one.rate },
      note:
        `CPU in use while measured (cores): 1 process: ${cores(one.cpu)}; ${many.processes} processes: ${cores(many.cpu)}. ` +
        `The store (FerretDB and PostgreSQL) and the actors share this machine's 2 cores, so a second process can only add what ` +
        `the store leaves free; on separate machines the rate scales with the processes until the store is the limit (docs/capacity.md).`,
    }),
    figure({
      name: 'scale: events/s per actors process, 1 process',
      value: one.rate,
      unit: 'events/s',
      note: `${fmt(one.applied)} events in ${one.seconds.toFixed(1)} s on ${store.label}.`,
    }),
  ];
  return {
    stage: 'scale',
    figures,
    series: [],
    notes: [
      `Each run writes its own backlog (${fmt(one.total)} records, 16 WABAs) to its own topics (6 partitions each) and applies it into its own database on ${store.label}; the actors are child processes (\`echocue serve --role actors\`).`,
      'The CPU shares come from /proc (utime + stime of the actors processes and of every ferretdb, postgres and java process) over the measured window; java is the broker and the registry together.',
    ],
    raw: { one, many },
  };
}
