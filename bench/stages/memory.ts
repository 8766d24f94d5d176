// Stage 5, memory (issue: Benchmarks): peak RSS of each role under load, and whether it comes back to its idle level.
// Each role runs as its own `echocue serve --role X` child on one fresh config (topics + database); the bench samples
// VmRSS from /proc/<pid>/status every 200 ms. Timeline: all four idle; then the pipeline load: unique signed inbound
// messages POSTed to ingest, which the actors apply as they arrive (behind, so they work through a backlog) and
// whose notifications become deliveries to a local receiver; then REST GETs against the api role; then 20 s after
// each role's own load ended (what V8 gives back by itself), and again after a full GC forced through each child's
// inspector (what the process really keeps).
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { createLogger } from '../../src/core/log.ts';
import { schemasByTopic } from '../../src/events/avro-schemas.ts';
import { createEventSerde } from '../../src/events/serde.ts';
import { createKafkaEvents } from '../../src/events/kafka/index.ts';
import { topicNames } from '../../src/events/topics.ts';
import { figure, sleep, type BenchContext, type Figure, type Series, type Stage, type StageResult } from '../lib.ts';
import { counterOf, envOf, rssOf, serveChild, type Child } from '../load/memory-children.ts';
import { pollApi, postMessages, type LoadResult } from '../load/memory-load.ts';
import { startBenchReceiver } from '../load/outbound-receiver.ts';
import { benchWabas, seedAccount } from '../load/outbound-seed.ts';

const QUICK = process.env['BENCH_QUICK'] === '1';
const ROLES = ['ingest', 'actors', 'delivery', 'api'] as const;
type Role = (typeof ROLES)[number];
const SAMPLE_MS = 200;
const IDLE_MS = QUICK ? 5_000 : 10_000;
/** Before the idle window: consumer groups join, caches fill, start-up garbage settles. */
const SETTLE_MS = QUICK ? 3_000 : 5_000;
const POSTS = QUICK ? 300 : 1_500;
const POST_CONCURRENCY = 16;
/** The pipeline load's time box (ingest, actors and delivery each end by then at the latest). */
const PIPELINE_CAP_MS = QUICK ? 30_000 : 50_000;
const API_MS = QUICK ? 6_000 : 15_000;
const API_CONCURRENCY = 8;
const AFTER_MS = 20_000;
const MIB = 1024 * 1024;

type Sample = { t: number; rss: number };

const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

export const stage: Stage = {
  name: 'memory',
  async run(ctx: BenchContext): Promise<StageResult> {
    const { config, cleanup } = ctx.freshConfig({
      API_RATE_LIMIT: '1000000',
      DELIVERY_ALLOW_CIDRS: '127.0.0.1/32',
      DELIVERY_DELAY_SCALE: '0.01',
    });
    const log = createLogger({ level: config.log.level });
    const rx = await startBenchReceiver();
    const children: Child[] = [];
    const samples = new Map<Role, Sample[]>(ROLES.map((r) => [r, []]));
    const hwm = new Map<Role, number>();
    let sampler: NodeJS.Timeout | undefined;
    const figures: Figure[] = [];
    const series: Series[] = [];
    const notes: string[] = [];
    const raw: Record<string, unknown> = { quick: QUICK, posts: POSTS, sample_ms: SAMPLE_MS };
    const t0 = Date.now();
    const progress = (msg: string, extra: Record<string, unknown> = {}) =>
      ctx.log.info({ ...extra, at_s: Math.round((Date.now() - t0) / 1000) }, `memory: ${msg}`);
    try {
      const wabas = benchWabas(6);
      const seeded = await seedAccount(config, { wabas, endpointUrls: [`${rx.base}/hook`], categories: ['message.inbound'] });
      // Topics and schema subjects first: four processes starting at once on a fresh prefix race to create the
      // subjects' compatibility rules (Apicurio answers "A rule named 'COMPATIBILITY' already exists" to the losers).
      const topics = topicNames(config.kafka.topicPrefix);
      const kafka = createKafkaEvents({ brokers: config.kafka.brokers, clientId: 'echocue-bench', log });
      await kafka.admin
        .ensureTopics(topics.all, { partitions: config.kafka.partitions, replicationFactor: config.kafka.replicationFactor })
        .finally(() => kafka.close());
      await createEventSerde(
        new SchemaRegistryClient({ baseURLs: [config.registry.url], maxRetries: 2, retriesWaitMs: 200 }),
        schemasByTopic(topics),
      );

      const env = envOf(config);
      for (const role of ROLES) children.push(serveChild(role, env));
      const child = (r: Role) => children.find((c) => c.role === r)!;
      sampler = setInterval(() => {
        const t = Date.now();
        for (const c of children) {
          const m = rssOf(c.pid);
          if (!m) continue;
          samples.get(c.role as Role)!.push({ t, rss: m.rss });
          hwm.set(c.role as Role, m.hwm);
        }
      }, SAMPLE_MS);
      const urls = Object.fromEntries(
        await Promise.all(ROLES.map(async (r) => [r, await within(child(r).ready, 90_000, `${r} to start`)] as const)),
      ) as Record<Role, string>;
      progress('all roles serving');

      // ---- Idle.
      await sleep(SETTLE_MS);
      const idle0 = Date.now();
      await sleep(IDLE_MS);
      const idle1 = Date.now();

      // ---- Pipeline load: POSTs to ingest; the actors apply them; deliveries go out.
      const load0 = Date.now();
      const deadline = load0 + PIPELINE_CAP_MS;
      const end: Partial<Record<Role, number>> = {};
      const [posted, applied, delivered] = await Promise.all([
        postMessages(urls.ingest, {
          n: POSTS,
          concurrency: POST_CONCURRENCY,
          deadline,
          secret: config.meta.appSecrets[0]!,
          wabas,
          contacts: 200,
        }).then((r) => ((end.ingest = Date.now()), r)),
        (async () => {
          let n = 0;
          while (Date.now() < deadline) {
            n = await counterOf(await child('actors').metricsUrl, 'echocue_actor_events_applied_total').catch(() => n);
            if (n >= POSTS) break;
            await sleep(250);
          }
          end.actors = Date.now();
          return n;
        })(),
        (async () => {
          const count = () => [...rx.index.first.values()].filter((a) => a.attempt === 1).length;
          await rx.until(() => count() >= POSTS, deadline - Date.now());
          end.delivery = Date.now();
          return count();
        })(),
      ]);
      progress('pipeline load done', { posted: posted.ok, applied, delivered });

      // ---- API load: GETs a poller makes.
      const api0 = Date.now();
      let polled: LoadResult | { error: string };
      try {
        polled = await pollApi(urls.api, { key: seeded.key, concurrency: API_CONCURRENCY, deadline: api0 + API_MS });
      } catch (err) {
        polled = { error: (err as Error).message };
      }
      end.api = Date.now();
      progress('api load done', { polled });

      // ---- After: 20 s past each role's own load.
      const windows: Record<Role, { start: number; end: number }> = {
        ingest: { start: load0, end: end.ingest! },
        actors: { start: load0, end: end.actors! },
        delivery: { start: load0, end: end.delivery! },
        api: { start: api0, end: end.api },
      };
      const last = Math.max(...ROLES.map((r) => windows[r].end)) + AFTER_MS;
      await sleep(Math.max(0, last - Date.now()) + SAMPLE_MS);
      // ---- After a forced GC: each child collects fully; RSS sampled for 3 s after.
      const gc0 = Date.now();
      const gcErrors: string[] = [];
      await Promise.all(children.map((c) => c.forceGc().catch((err: Error) => void gcErrors.push(err.message))));
      await sleep(3_000);
      const gc1 = Date.now();
      clearInterval(sampler);
      sampler = undefined;

      // ---- Figures.
      const loadDone: Record<Role, string> = {
        ingest: `${posted.ok} of ${POSTS} POSTs answered 200 (${POST_CONCURRENCY} at a time) in ${((end.ingest! - load0) / 1000).toFixed(1)} s`,
        actors: `${applied} of ${POSTS} events applied in ${((end.actors! - load0) / 1000).toFixed(1)} s (a backlog behind ingest)`,
        delivery: `${delivered} of ${POSTS} deliveries received in ${((end.delivery! - load0) / 1000).toFixed(1)} s`,
        api:
          'error' in polled
            ? `GETs failed: ${polled.error}`
            : `${polled.ok} GETs answered 200 in ${(polled.ms / 1000).toFixed(1)} s (${API_CONCURRENCY} at a time; thread lists, a thread's messages, contacts, windows)`,
      };
      const perRole: Record<string, unknown> = {};
      for (const role of ROLES) {
        const s = samples.get(role)!;
        const w = windows[role];
        const idle = median(s.filter((x) => x.t >= idle1 - 5_000 && x.t <= idle1).map((x) => x.rss));
        const peak = Math.max(...s.filter((x) => x.t >= w.start && x.t <= w.end + 2_000).map((x) => x.rss));
        const after = median(s.filter((x) => x.t >= w.end + AFTER_MS - 3_000 && x.t <= w.end + AFTER_MS).map((x) => x.rss));
        const afterGc = median(s.filter((x) => x.t >= gc1 - 2_000 && x.t <= gc1).map((x) => x.rss));
        const back = after / idle <= 1.3;
        const drained = role === 'actors' ? applied >= POSTS : role === 'delivery' ? delivered >= POSTS : true;
        const final = s.length > 0 ? s[s.length - 1]!.rss : NaN;
        perRole[role] = {
          idle_mib: idle / MIB,
          peak_mib: peak / MIB,
          after_mib: after / MIB,
          after_gc_mib: afterGc / MIB,
          end_of_stage_mib: final / MIB,
          hwm_mib: (hwm.get(role) ?? NaN) / MIB,
          load_s: (w.end - w.start) / 1000,
        };
        figures.push(
          figure({
            name: `memory: ${role} peak RSS under load`,
            value: peak / MIB,
            unit: 'MiB',
            baseline: { name: `${role} idle RSS (median of the last 5 s idle)`, value: idle / MIB },
            note: `${loadDone[role]}; peak of the ${SAMPLE_MS} ms samples from the load's start to 2 s after its end; VmHWM over the process's life ${((hwm.get(role) ?? NaN) / MIB).toFixed(0)} MiB.`,
          }),
        );
        figures.push(
          figure({
            name: `memory: ${role} RSS ${AFTER_MS / 1000} s after the load`,
            value: after / MIB,
            unit: 'MiB',
            baseline: { name: `${role} idle RSS`, value: idle / MIB },
            target: { op: '<=', value: 1.3, on: 'ratio' },
            note: `median of the samples ${AFTER_MS / 1000 - 3}-${AFTER_MS / 1000} s after the load ended: ${back ? 'back within 30 % of idle' : 'NOT back within 30 % of idle'} (no GC forced).${drained ? '' : ' Its backlog was not drained when the time box closed, so it was still working during this window.'}`,
          }),
        );
        figures.push(
          figure({
            name: `memory: ${role} RSS after a forced full GC`,
            value: afterGc / MIB,
            unit: 'MiB',
            baseline: { name: `${role} idle RSS`, value: idle / MIB },
            target: { op: '<=', value: 1.3, on: 'ratio' },
            note: `median of the samples 1-3 s after HeapProfiler.collectGarbage through the child's inspector, once every role's after-window had passed${role === 'actors' ? '; the actors keep up to ACTORS_CACHE_MAX_DOCS documents of their partitions by design (docs/decisions/0009-store.md), which no GC frees' : ''}.`,
          }),
        );
        // One point a second (the highest sample of that second), from the start of the idle phase.
        const buckets = new Map<number, number>();
        for (const x of s) {
          if (x.t < idle0) continue;
          const sec = Math.floor((x.t - idle0) / 1000);
          buckets.set(sec, Math.max(buckets.get(sec) ?? 0, x.rss));
        }
        series.push({
          chart: 'RSS over time by role',
          label: role,
          x: 'seconds',
          y: 'RSS (MiB)',
          points: [...buckets].map(([x, y]) => ({ x, y: Math.round((y / MIB) * 10) / 10 })),
        });
      }
      const at = (t: number) => ((t - idle0) / 1000).toFixed(0);
      raw['roles'] = perRole;
      raw['timeline_s'] = {
        idle: [0, Number(at(idle1))],
        pipeline: [Number(at(load0)), ...ROLES.filter((r) => r !== 'api').map((r) => Number(at(windows[r].end)))],
        api: [Number(at(api0)), Number(at(end.api))],
      };
      raw['load'] = { posted, applied, delivered, polled };
      notes.push(
        `Each role is its own child process (node src/cli/main.ts serve --role X) on one fresh config; RSS = VmRSS from /proc/<pid>/status every ${SAMPLE_MS} ms. Chart time 0 = start of the idle phase.`,
        `Timeline (s): idle 0-${at(idle1)}; pipeline load from ${at(load0)} (${POSTS} unique signed inbound messages to ingest; ingest done at ${at(end.ingest!)}, actors at ${at(end.actors!)}, delivery at ${at(end.delivery!)}; time box ${PIPELINE_CAP_MS / 1000} s); API GETs ${at(api0)}-${at(end.api)}; each role then watched ${AFTER_MS / 1000} s after its own load.`,
        `"After" forces no GC: V8 keeps part of a grown heap for a while, so it shows what an operator would see. "After a forced full GC" (${at(gc0)} s, through each child's inspector: --inspect=127.0.0.1:0, HeapProfiler.collectGarbage${gcErrors.length ? `; failed: ${gcErrors.join('; ')}` : ''}) shows what the process really keeps.`,
        `RSS at the end of the stage (idle for every role by then): ${ROLES.map((r) => `${r} ${(perRole[r] as { end_of_stage_mib: number }).end_of_stage_mib.toFixed(0)} MiB`).join(', ')}. The idle baseline is taken ${(SETTLE_MS / 1000).toFixed(0)}-${((SETTLE_MS + IDLE_MS) / 1000).toFixed(0)} s after the roles started serving; an idle process's RSS can still creep up for a while after that (heap growth between major GCs), which the chart shows.`,
      );
    } finally {
      if (sampler) clearInterval(sampler);
      await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
      await rx.close();
      await cleanup().catch(() => undefined);
    }
    return { stage: 'memory', figures, series, notes, raw };
  },
};

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}
