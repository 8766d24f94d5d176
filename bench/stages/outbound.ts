// Stage 3, outbound delivery (issue: Benchmarks). The delivery role (planner + attempt worker) runs in this process
// (startSystem roles ['delivery']) against the local stack; notifications are written straight onto the
// notifications topic as the actors write them, for one account with 24 WABAs and one endpoint on a local receiver
// (127.0.0.1, allowed through DELIVERY_ALLOW_CIDRS). Each phase gets its own topics and database (a fresh config),
// so a phase that overruns its time box leaves nothing behind for the next:
//   A. deliveries/s when the receiver answers 200 (a backlog drained), against the physical ceiling: the same number
//      of signed POSTs (envelope + HMAC headers) sent straight to the receiver by the same client (createSender) at
//      the worker's maximum concurrency, without Kafka or the store;
//   B. first attempts/s when 10 % of deliveries get a 500, and that each of those is retried on the 30 s tier;
//   C. scheduling error of the retry tiers at DELIVERY_DELAY_SCALE=0.01: receiver arrival time of attempt k+1 minus
//      the due_at the worker wrote on the tier topic, against plain setTimeout timers of the same delays started at
//      the same moments in the same process.
// The receiver, the feeder and the baseline share the process with the delivery role, so both sides of each ratio
// pay for the receiver alike.
import { MongoClient, type Collection } from 'mongodb';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { type Config } from '../../src/config/index.ts';
import { createLogger, type Logger } from '../../src/core/log.ts';
import { buildEnvelope, signatureHeaders } from '../../src/delivery/envelope.ts';
import { createSender } from '../../src/delivery/send.ts';
import { createKafkaEvents } from '../../src/events/kafka/index.ts';
import { type EventProducer, type Events } from '../../src/events/port.ts';
import { type Notification } from '../../src/events/outbound.ts';
import { JITTER } from '../../src/delivery/schedule.ts';
import { DELIVERY_TIERS, topicNames, type Topics } from '../../src/events/topics.ts';
import { COLLECTIONS } from '../../src/store/collections.ts';
import { deliveryIdOf, type DeliveryDoc } from '../../src/store/webhooks.ts';
import { figure, percentile, sleep, type BenchContext, type Figure, type Series, type Stage, type StageResult } from '../lib.ts';
import { benchNotification, feedNotifications, readDueTimes } from '../load/outbound-feed.ts';
import { startBenchReceiver, type Arrival, type BenchReceiver } from '../load/outbound-receiver.ts';
import { benchWabas, seedAccount } from '../load/outbound-seed.ts';

const QUICK = process.env['BENCH_QUICK'] === '1';
const SCALE = 0.01;
/** Deliveries in phases A and B, and how long each may take (the rate is taken over what arrived). */
const N = QUICK ? 400 : 3000;
const PHASE_CAP_MS = QUICK ? 25_000 : 30_000;
/** Phase C: deliveries whose attempts 1..TIERS.length fail, fed over FEED_SECONDS. */
const M = QUICK ? 30 : 150;
const FEED_SECONDS = QUICK ? 3 : 8;
/** Retry tiers measured (1: 30 s, 2: 2 m, 3: 10 m, 4: 1 h). The 6 h tier is 216 s at this scale, past the budget. */
const TIERS: readonly number[] = QUICK ? [1, 2, 3] : [1, 2, 3, 4];
const TIER_LABEL = ['', '30 s', '2 m', '10 m', '1 h', '6 h'];
/** The worker's most concurrent sends: 6 partitions at once (due-consumer concurrency) x 16 deliveries each. */
const WORKER_CONCURRENCY = 6 * 16;
const WABAS = benchWabas(24);

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** Per second between the first and the last of `times` (ms). */
function rateOf(times: readonly number[]): number {
  if (times.length < 2) return NaN;
  let first = Infinity;
  let last = -Infinity;
  for (const t of times) {
    first = Math.min(first, t);
    last = Math.max(last, t);
  }
  return ((times.length - 1) * 1000) / Math.max(1, last - first);
}

const notesOf = (tag: string, n: number): Notification[] =>
  Array.from({ length: n }, (_, i) => benchNotification(tag, i, WABAS[i % WABAS.length]!));

type Phase = {
  config: Config;
  topics: Topics;
  kafka: Events;
  producer: EventProducer;
  endpointId: string;
  deliveries: Collection<DeliveryDoc>;
  /** Starts the delivery role (after a backlog was fed, or before a steady feed). */
  start(): Promise<void>;
  /** Due times the worker queued on the retry tiers: `delivery|round|attempt` -> due_at. */
  dueTimes(): Promise<Map<string, number>>;
};

/** A fresh config (own topics and database), seeded with the account, the delivery role startable; all torn down after. */
async function withPhase<T>(ctx: BenchContext, rx: BenchReceiver, log: Logger, fn: (p: Phase) => Promise<T>): Promise<T> {
  const { config, cleanup } = ctx.freshConfig({
    DELIVERY_DELAY_SCALE: String(SCALE),
    DELIVERY_ALLOW_CIDRS: '127.0.0.1/32',
    DELIVERY_TIMEOUT_MS: '5000',
  });
  const kafka = createKafkaEvents({ brokers: config.kafka.brokers, clientId: 'echocue-bench', log });
  const topics = topicNames(config.kafka.topicPrefix);
  const mongo = new MongoClient(config.mongo.uri);
  let producer: EventProducer | null = null;
  let system: RunningSystem | null = null;
  try {
    await kafka.admin.ensureTopics(topics.all, { partitions: config.kafka.partitions, replicationFactor: config.kafka.replicationFactor });
    producer = await kafka.createProducer();
    await mongo.connect();
    const seeded = await seedAccount(config, { wabas: WABAS, endpointUrls: [`${rx.base}/hook`], categories: ['message.inbound'] });
    return await fn({
      config,
      topics,
      kafka,
      producer,
      endpointId: seeded.endpointIds[0]!,
      deliveries: mongo.db().collection<DeliveryDoc>(COLLECTIONS.delivery),
      async start() {
        system = await startSystem({ config, roles: ['delivery'], log });
      },
      dueTimes: () => readDueTimes(kafka, topics.deliveryTiers.slice(1), `${config.kafka.topicPrefix}bench.reader`),
    });
  } finally {
    await (system as RunningSystem | null)?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await kafka.close().catch(() => undefined);
    await mongo.close().catch(() => undefined);
    await cleanup().catch(() => undefined);
  }
}

async function waitCount(count: () => Promise<number>, want: number, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  let n = await count();
  while (n < want && Date.now() < until) {
    await sleep(250);
    n = await count();
  }
  return n;
}

export const stage: Stage = {
  name: 'outbound',
  async run(ctx: BenchContext): Promise<StageResult> {
    const log = createLogger({ level: ctx.config.log.level });
    const notes: string[] = [];
    const figures: Figure[] = [];
    const series: Series[] = [];
    const raw: Record<string, unknown> = { n: N, m: M, scale: SCALE, quick: QUICK, phase_cap_ms: PHASE_CAP_MS };
    const rx = await startBenchReceiver();
    const url = `${rx.base}/hook`;
    const t0 = Date.now();
    const progress = (msg: string, extra: Record<string, unknown> = {}) =>
      ctx.log.info({ ...extra, at_s: Math.round((Date.now() - t0) / 1000) }, `outbound: ${msg}`);
    try {
      // ---- Baseline: the same signed POSTs straight to the receiver, same client, the worker's concurrency.
      const sender = createSender({ timeoutMs: 5000, allow: ['127.0.0.1/32'] });
      const baseNotes = notesOf('_Z_', N + 300);
      const post = async (i: number) => {
        const n = baseNotes[i]!;
        const { body } = buildEnvelope({ id: n.id, category: n.category, createdAt: new Date(n.created_at), data: n.data });
        const out = await sender.send(
          url,
          body,
          signatureHeaders({ body, secret: 'ecs_bench-signing-secret', eventId: n.id, timestamp: new Date(), attempt: 1 }),
        );
        if (!out.ok) throw new Error(`baseline POST failed: ${out.error}`);
      };
      await pool(300, WORKER_CONCURRENCY, (i) => post(N + i)); // warm-up (JIT, sockets)
      const b0 = performance.now();
      await pool(N, WORKER_CONCURRENCY, post);
      const baselineRate = (N * 1000) / (performance.now() - b0);
      await sender.close();
      progress('baseline done', { baselineRate: Math.round(baselineRate) });
      const ceiling = {
        name: `the same signed POSTs sent straight to the receiver by createSender, ${WORKER_CONCURRENCY} at a time`,
        value: baselineRate,
      };

      // ---- A: a backlog of N notifications, drained by the delivery role; the receiver answers 200.
      const a = await withPhase(ctx, rx, log, async (p) => {
        await feedNotifications(p.producer, p.topics.notifications, notesOf('_A_', N));
        await p.start();
        const complete = await rx.until(() => rx.firsts('evt_bench_A_', 1).length >= N, PHASE_CAP_MS);
        const firsts = rx.firsts('evt_bench_A_', 1);
        const stored = await waitCount(() => p.deliveries.countDocuments({ status: 'delivered' }), firsts.length, 5_000);
        return { complete, firsts, stored, sends: rx.countOf('evt_bench_A_') };
      });
      const rateA = rateOf(a.firsts.map((x) => x.at));
      progress('phase A done', { rateA: Math.round(rateA), delivered: a.firsts.length });
      raw['phaseA'] = { delivered: a.firsts.length, sends: a.sends, stored_delivered: a.stored, rate: rateA, complete: a.complete };
      figures.push(
        figure({
          name: 'outbound: deliveries/s, receiver answers 200',
          value: rateA,
          unit: 'deliveries/s',
          baseline: ceiling,
          note: `${a.firsts.length} of ${N} deliveries (a backlog of notifications, 24 WABAs, one endpoint), first to last arrival${a.complete ? '' : ` (time box of ${PHASE_CAP_MS / 1000} s reached)`}; ${a.stored} stored as delivered; ${a.sends - a.firsts.length} attempts sent twice. Store writes per batch, not per delivery (docs/decisions/0010-delivery-round-trips.md): the planner one insertMany, the worker one bulk of per-delivery updates (in bulks of 64) and one health update per endpoint around the POSTs.`,
        }),
      );

      // ---- B: a backlog of N; 10 % of the deliveries get a 500 on their first attempt, then 200.
      const failB = new Set(
        Array.from({ length: N }, (_, i) => i)
          .filter((i) => i % 10 === 0)
          .map((i) => `evt_bench_B_${i}`),
      );
      rx.setAnswer((eventId, attempt) => (attempt === 1 && failB.has(eventId) ? 500 : 200));
      const b = await withPhase(ctx, rx, log, async (p) => {
        await feedNotifications(p.producer, p.topics.notifications, notesOf('_B_', N));
        await p.start();
        const complete = await rx.until(
          () => rx.firsts('evt_bench_B_', 1).length >= N && rx.firsts('evt_bench_B_', 2).length >= failB.size,
          PHASE_CAP_MS,
        );
        // The 500s answered before the box closed get up to 8 s more for their retry.
        const answered500 = () => rx.firsts('evt_bench_B_', 1).filter((x) => x.status === 500).length;
        if (!complete) await rx.until(() => rx.firsts('evt_bench_B_', 2).length >= answered500(), 8_000);
        const due = await p.dueTimes();
        const dueOf = (x: Arrival) => due.get(`${deliveryIdOf(p.endpointId, x.eventId)}|1|2`);
        return {
          complete,
          firsts: rx.firsts('evt_bench_B_', 1),
          retries: rx.firsts('evt_bench_B_', 2).map((x) => ({ x, due: dueOf(x) })),
          sends: rx.countOf('evt_bench_B_'),
        };
      });
      rx.setAnswer(() => 200);
      const rateB = rateOf(b.firsts.map((x) => x.at));
      const failedB = b.firsts.filter((x) => x.status === 500);
      const firstAt = new Map(failedB.map((x) => [x.eventId, x.at]));
      const tier1 = DELIVERY_TIERS[1]!.delayMs * SCALE;
      // Each retry's delay is jittered ±20 % (src/delivery/schedule.ts): due 240 to 360 ms after its 500.
      const onTier = b.retries.filter(
        ({ x, due }) => due !== undefined && x.at >= due && x.at - firstAt.get(x.eventId)! >= tier1 * (1 - JITTER),
      );
      const errB = b.retries.filter((r) => r.due !== undefined).map(({ x, due }) => x.at - due!);
      progress('phase B done', { rateB: Math.round(rateB), failed: failedB.length, retried: b.retries.length });
      raw['phaseB'] = {
        first_attempts: b.firsts.length,
        sends: b.sends,
        rate: rateB,
        answered_500: failedB.length,
        retried: b.retries.length,
        retried_on_tier: onTier.length,
        error_p50: percentile(errB, 50),
        error_p99: percentile(errB, 99),
        complete: b.complete,
      };
      figures.push(
        figure({
          name: 'outbound: first attempts/s, 10 % answered 500',
          value: rateB,
          unit: 'first attempts/s',
          baseline: ceiling,
          note: `${b.firsts.length} of ${N} first attempts, first to last arrival${b.complete ? '' : ` (time box of ${PHASE_CAP_MS / 1000} s reached)`}; the retries of the 500s (due 300 ms later) run meanwhile and compete.`,
        }),
      );
      figures.push(
        figure({
          name: 'outbound: 500s retried on the 30 s tier (300 ms at scale 0.01)',
          value: failedB.length === 0 ? 0 : (onTier.length * 100) / failedB.length,
          unit: '% of 500s',
          target: { op: '>=', value: 100, on: 'value' },
          note: `${onTier.length} of ${failedB.length} first attempts answered 500 were retried from the retry-30s topic, at least 240 ms (300 ms less the 20 % jitter) after the 500 and not before their due time; scheduling error of those retries while the backlog drained: p50 ${percentile(errB, 50)} ms, p99 ${percentile(errB, 99)} ms.`,
        }),
      );

      // ---- C: deliveries failing attempts 1..k, fed at a steady rate; setTimeout timers mirror each retry wait.
      const lastFailing = TIERS[TIERS.length - 1]!;
      rx.setAnswer((eventId, attempt) => (eventId.startsWith('evt_bench_C_') && attempt <= lastFailing ? 500 : 200));
      const timerErrors = new Map<number, number[]>(TIERS.map((k) => [k, []]));
      let timersPending = 0;
      rx.onArrival((x) => {
        if (!x.eventId.startsWith('evt_bench_C_') || x.attempt > lastFailing) return;
        const delay = DELIVERY_TIERS[x.attempt]!.delayMs * SCALE;
        const due = Date.now() + delay;
        timersPending++;
        setTimeout(() => {
          timersPending--;
          timerErrors.get(x.attempt)!.push(Date.now() - due);
        }, delay);
      });
      const notesC = notesOf('_C_', M);
      const chainMs = TIERS.reduce((s, k) => s + DELIVERY_TIERS[k]!.delayMs * SCALE, 0);
      const c = await withPhase(ctx, rx, log, async (p) => {
        await p.start();
        const feed0 = Date.now();
        for (let i = 0; i < M; i++) {
          await feedNotifications(p.producer, p.topics.notifications, [notesC[i]!]);
          const wait = feed0 + ((i + 1) * FEED_SECONDS * 1000) / M - Date.now();
          if (wait > 0) await sleep(wait);
        }
        const complete = await rx.until(() => rx.firsts('evt_bench_C_', lastFailing + 1).length >= M, chainMs + 15_000);
        await rx.until(() => timersPending === 0, 2_000);
        const due = await p.dueTimes();
        const docs = await p.deliveries.find({ event_id: { $in: notesC.map((n) => n.id) } }).toArray();
        return { complete, due, docs, endpointId: p.endpointId, sends: rx.countOf('evt_bench_C_') };
      });
      rx.onArrival(() => {});
      progress('phase C done');
      const dueOf = (x: Arrival) => c.due.get(`${deliveryIdOf(c.endpointId, x.eventId)}|1|${x.attempt}`);
      // The error at the worker's attempt start (before its store writes and the POST): the consumer's part alone.
      const startErr = new Map<number, number[]>(TIERS.map((k) => [k, []]));
      for (const d of c.docs) {
        for (const at of d.attempts) {
          const k = at.n - 1;
          const due = c.due.get(`${d._id}|1|${at.n}`);
          if (at.round === 1 && startErr.has(k) && due !== undefined) startErr.get(k)!.push(at.at.getTime() - due);
        }
      }
      const echoP99: { x: number; y: number }[] = [];
      const timerP99: { x: number; y: number }[] = [];
      const perTier: Record<string, unknown>[] = [];
      for (const k of TIERS) {
        const delay = DELIVERY_TIERS[k]!.delayMs * SCALE;
        const errs = rx
          .firsts('evt_bench_C_', k + 1)
          .map((x) => x.at - (dueOf(x) ?? NaN))
          .filter(Number.isFinite);
        const te = timerErrors.get(k)!;
        const se = startErr.get(k)!;
        const row = {
          tier: DELIVERY_TIERS[k]!.topic,
          delay_ms: delay,
          n: errs.length,
          p50: percentile(errs, 50),
          p99: percentile(errs, 99),
          min: percentile(errs, 0),
          max: percentile(errs, 100),
          worker_start_p50: percentile(se, 50),
          worker_start_p99: percentile(se, 99),
          timer_n: te.length,
          timer_p50: percentile(te, 50),
          timer_p99: percentile(te, 99),
        };
        perTier.push(row);
        echoP99.push({ x: delay, y: row.p99 });
        timerP99.push({ x: delay, y: row.timer_p99 });
        figures.push(
          figure({
            name: `outbound: retry scheduling error p99, ${TIER_LABEL[k]} tier (${delay} ms at scale ${SCALE})`,
            value: (row.p99 / delay) * 100,
            unit: '% of delay',
            baseline: { name: 'setTimeout p99 error, same delay, same process, same moments', value: (row.timer_p99 / delay) * 100 },
            lowerIsBetter: true,
            target: { op: '<=', value: 5, on: 'value' },
            note: `receiver arrival minus due_at over ${row.n} of ${M} retries: p50 ${row.p50} ms, p99 ${row.p99} ms (min ${row.min}, max ${row.max}); at the worker's attempt start (before its store writes and the POST): p50 ${row.worker_start_p50} ms, p99 ${row.worker_start_p99} ms; setTimeout: p50 ${row.timer_p50} ms, p99 ${row.timer_p99} ms over ${row.timer_n}.`,
          }),
        );
      }
      raw['phaseC'] = { deliveries: M, feed_seconds: FEED_SECONDS, sends: c.sends, complete: c.complete, tiers: perTier };
      series.push(
        {
          chart: 'Retry scheduling error by tier',
          label: 'EchoCue p99 (receiver arrival - due)',
          x: `tier delay (ms, scale ${SCALE})`,
          y: 'p99 error (ms)',
          points: echoP99,
        },
        {
          chart: 'Retry scheduling error by tier',
          label: 'setTimeout p99 (baseline)',
          x: `tier delay (ms, scale ${SCALE})`,
          y: 'p99 error (ms)',
          points: timerP99,
        },
      );
      notes.push(
        `Delivery role in-process (startSystem roles ['delivery']), with the receiver, the notification feeder and the baseline sender in the same Node process; Kafka, the store and the registry share the machine's cores. Each phase has its own topics and database. N = ${N} deliveries per throughput phase, each phase boxed to ${PHASE_CAP_MS / 1000} s${QUICK ? ' (BENCH_QUICK)' : ''}.`,
        `Baseline concurrency ${WORKER_CONCURRENCY} = the worker's upper bound (6 tier partitions at once x 16 deliveries per fetched batch).`,
        `Scheduling error: DELIVERY_DELAY_SCALE=${SCALE} (30 s -> 300 ms, 2 m -> 1.2 s, 10 m -> 6 s, 1 h -> 36 s). ${M} deliveries fed over ${FEED_SECONDS} s, each failing attempts 1-${lastFailing}; due_at read back from the tier topics. Tiers measured: ${TIERS.map((k) => TIER_LABEL[k]).join(', ')}; the ${TIERS.includes(4) ? '' : '1 h and '}6 h tier${TIERS.includes(4) ? ' is' : 's are'} left out for the stage's time budget (6 h is 216 s at this scale) and run through the same due consumer. The error in ms does not grow with the delay, so the %-of-delay target is hardest on the 30 s tier.`,
      );
    } finally {
      await rx.close();
    }
    return { stage: 'outbound', figures, series, notes, raw };
  },
};
