// Ingest: signed webhook POSTs against EchoCue's ingest role in its own process, next to (a) a bare Koa route that
// only reads the body, and (b) EchoCue's Kafka producer writing the same records without HTTP. Load generators run
// in child processes (bench/load/). BENCH_QUICK=1: short runs for development.
import { cpus } from 'node:os';
import { figure, type BenchContext, type Figure, type Series, type Stage, type StageResult } from '../lib.ts';
import { fixtureMix, statusBatches, type SignedBody } from '../../harness/load/bodies.ts';
import { startBareKoa, startEchoCue, type ServerProcess } from '../../harness/load/processes.ts';
import { rawProducerRate, type ProducerResult } from '../load/raw-producer.ts';
import { runWorker, webhookRequests, type LoadResult } from '../load/workers.ts';

const QUICK = process.env['BENCH_QUICK'] === '1';
/** Seconds per run: warm-up, saturation, producer baseline, each paced run (sweep points, 80 % runs). */
const SECONDS = QUICK ? { warm: 1, saturation: 3, producer: 2, paced: 2 } : { warm: 3, saturation: 8, producer: 6, paced: 5 };
/** Requests in flight in the unthrottled runs (and sends in flight for the producer baseline). */
const CONNECTIONS = 10;
/** The paced (open-loop) runs may hold this many requests in flight before requests queue in the generator. */
const PACED_CONNECTIONS = 64;
const SWEEP = [0.2, 0.4, 0.6, 0.8, 1.0];
/** `--role ingest` by default: ingest is deployed on its own; BENCH_INGEST_ROLES=ingest,actors,api measures it sharing a process. */
const ROLES = process.env['BENCH_INGEST_ROLES'] ?? 'ingest';
const P99_TARGET_MS = 250;
const MIXES = { one: 'batches of 1 (fixture mix)', hundred: 'batches of 100 statuses' } as const;
type Mix = keyof typeof MIXES;

type Pair = { echo: LoadResult; bare: LoadResult };
type Point = Pair & { fraction: number; offered: number };
type Measured = {
  saturation: Record<Mix, Pair>;
  producer: Record<Mix, ProducerResult>;
  /** Open loop at fractions of EchoCue's saturation (fixture mix), both servers at the same offered rates. */
  sweep: Point[];
  /** Open loop at 80 % of EchoCue's saturation with batches of 100. */
  hundredAt80: Point;
  /** autocannon's overallRate at 80 % (fixture mix). */
  rated: Pair;
};

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (v: number) => Math.round(v).toLocaleString('en-US');

export const stage: Stage = { name: 'ingest', run };

async function run(ctx: BenchContext): Promise<StageResult> {
  const secret = ctx.config.meta.appSecrets[0]!;
  const bodies: Record<Mix, SignedBody[]> = { one: fixtureMix(secret), hundred: statusBatches(secret, 20, 100) };
  const echo = await startEchoCue(ctx.config, ROLES);
  const bare = await startBareKoa();
  try {
    return report(await measure(ctx, echo, bare, bodies), bodies);
  } finally {
    await echo.stop();
    await bare.stop();
  }
}

async function measure(ctx: BenchContext, echo: ServerProcess, bare: ServerProcess, bodies: Record<Mix, SignedBody[]>): Promise<Measured> {
  const cannon = (server: ServerProcess, mix: Mix, seconds: number, overallRate?: number) =>
    runWorker<LoadResult>(
      'autocannon-worker.ts',
      {
        url: server.url,
        requests: webhookRequests(bodies[mix]),
        connections: CONNECTIONS,
        seconds,
        ...(overallRate ? { overallRate } : {}),
      },
      ctx.dir,
    );
  const paced = async (mix: Mix, fraction: number, saturation: number): Promise<Point> => {
    const offered = Math.max(1, Math.round(saturation * fraction));
    const spec = (server: ServerProcess) => ({
      url: server.url,
      requests: webhookRequests(bodies[mix]),
      rate: offered,
      seconds: SECONDS.paced,
      connections: PACED_CONNECTIONS,
    });
    return {
      fraction,
      offered,
      echo: await runWorker<LoadResult>('paced-worker.ts', spec(echo), ctx.dir),
      bare: await runWorker<LoadResult>('paced-worker.ts', spec(bare), ctx.dir),
    };
  };

  for (const server of [echo, bare]) for (const mix of ['one', 'hundred'] as const) await cannon(server, mix, SECONDS.warm);
  const saturation = {
    one: { echo: await cannon(echo, 'one', SECONDS.saturation), bare: await cannon(bare, 'one', SECONDS.saturation) },
    hundred: { echo: await cannon(echo, 'hundred', SECONDS.saturation), bare: await cannon(bare, 'hundred', SECONDS.saturation) },
  };
  const producer = {
    one: await rawProducerRate(ctx.config, bodies.one, { concurrency: CONNECTIONS, seconds: SECONDS.producer }),
    hundred: await rawProducerRate(ctx.config, bodies.hundred, { concurrency: CONNECTIONS, seconds: SECONDS.producer }),
  };
  const sweep: Point[] = [];
  for (const fraction of SWEEP) sweep.push(await paced('one', fraction, saturation.one.echo.rps));
  const hundredAt80 = await paced('hundred', 0.8, saturation.hundred.echo.rps);
  const rate80 = saturation.one.echo.rps * 0.8;
  const rated = { echo: await cannon(echo, 'one', SECONDS.paced, rate80), bare: await cannon(bare, 'one', SECONDS.paced, rate80) };
  return { saturation, producer, sweep, hundredAt80, rated };
}

function report(m: Measured, bodies: Record<Mix, SignedBody[]>): StageResult {
  const eventsPerRequest = { one: mean(bodies.one.map((b) => b.events)), hundred: mean(bodies.hundred.map((b) => b.events)) };
  const at80: Record<Mix, Point> = { one: m.sweep.find((p) => p.fraction === 0.8)!, hundred: m.hundredAt80 };
  const figures: Figure[] = [];
  for (const mix of ['one', 'hundred'] as const) {
    const s = m.saturation[mix];
    const p = at80[mix];
    figures.push(
      figure({
        name: `ingest: requests/s, ${MIXES[mix]}`,
        value: s.echo.rps,
        unit: 'req/s',
        baseline: { name: 'bare Koa route', value: s.bare.rps },
        target: { op: '>=', value: 0.5, on: 'ratio' },
        note: s.echo.rps < 0.5 * s.bare.rps ? missedRate(mix, s.echo.rps, m.producer[mix].sendsPerSecond) : null,
      }),
      figure({
        name: `ingest: events/s, ${MIXES[mix]}`,
        value: s.echo.rps * eventsPerRequest[mix],
        unit: 'events/s',
        baseline: { name: 'raw producer, same records, no HTTP', value: m.producer[mix].eventsPerSecond },
      }),
      ...(['p50', 'p99', 'p999'] as const).map((q) =>
        figure({
          name: `ingest: ${q === 'p999' ? 'p99.9' : q} latency at 80 % of saturation (${fmt(p.offered)} req/s, open loop), ${MIXES[mix]}`,
          value: p.echo.latency[q],
          unit: 'ms',
          lowerIsBetter: true,
          baseline: { name: 'bare Koa route, same offered load', value: p.bare.latency[q] },
          ...(q === 'p99'
            ? ({
                target: { op: '<=', value: P99_TARGET_MS, on: 'value' },
                note: p.echo.latency.p99 > P99_TARGET_MS ? p99Cause(p, p.offered) : null,
              } as const)
            : {}),
        }),
      ),
    );
  }
  const rate80 = m.saturation.one.echo.rps * 0.8;
  figures.push(
    figure({
      name: `ingest: p99 at 80 % of saturation (${fmt(rate80)} req/s, autocannon overallRate), ${MIXES.one}`,
      value: m.rated.echo.latency.p99,
      unit: 'ms',
      baseline: { name: 'bare Koa route, same rate', value: m.rated.bare.latency.p99 },
      lowerIsBetter: true,
      target: { op: '<=', value: P99_TARGET_MS, on: 'value' },
      note: m.rated.echo.latency.p99 > P99_TARGET_MS ? p99Cause(m.rated, rate80) : null,
    }),
  );

  const chart = 'Ingest latency vs offered load';
  const line = (label: string, y: (p: Point) => number): Series => ({
    chart,
    label,
    x: 'offered requests/s',
    y: 'p99 latency (ms)',
    points: m.sweep.map((p) => ({ x: p.offered, y: y(p) })),
  });
  const series = [line('EchoCue ingest', (p) => p.echo.latency.p99), line('bare Koa route', (p) => p.bare.latency.p99)];

  const runs: [string, LoadResult][] = [
    ...(['one', 'hundred'] as const).flatMap(
      (mix) =>
        [
          [`EchoCue, saturation, ${MIXES[mix]}`, m.saturation[mix].echo],
          [`bare Koa, saturation, ${MIXES[mix]}`, m.saturation[mix].bare],
        ] as [string, LoadResult][],
    ),
    ...[...m.sweep, m.hundredAt80].flatMap(
      (p) =>
        [
          [`EchoCue at ${fmt(p.offered)} req/s`, p.echo],
          [`bare Koa at ${fmt(p.offered)} req/s`, p.bare],
        ] as [string, LoadResult][],
    ),
    ['EchoCue, autocannon overallRate', m.rated.echo],
    ['bare Koa, autocannon overallRate', m.rated.bare],
  ];
  const failures = runs.filter(([, r]) => r.failed > 0).map(([what, r]) => `${what}: ${r.failed} of ${r.ok + r.failed}`);
  const notes = [
    `Setup: EchoCue runs \`node src/cli/main.ts serve --role ${ROLES}\` in its own process on the stage's topics and database; the bare Koa baseline (bench/load/bare-koa.ts) is a node:http server -> Koa -> @koa/router route that reads the raw body and answers 200, also in its own process. Load generators are separate processes too; everything (Kafka, FerretDB, registry, server, generator) shares this machine's ${cpus().length} cores, so ratios matter more than absolute figures.`,
    `Bodies: batches of 1 = the ${bodies.one.length} signed fixtures of shared/fixtures/meta in turn (${eventsPerRequest.one.toFixed(2)} events per request on average); batches of 100 = ${bodies.hundred.length} different bodies of 100 delivery/read statuses.`,
    `Saturation (requests/s, events/s): autocannon, ${CONNECTIONS} connections, no pipelining, ${SECONDS.saturation} s per run after a ${SECONDS.warm} s warm-up; only 2xx answers count. Events/s = requests/s x events per request; its baseline is EchoCue's producer (acks=all, idempotent) sending the same pre-encoded records, ${CONNECTIONS} sends in flight, from the stage process. Latencies at saturation (autocannon, whole milliseconds) are in the raw results: with ${CONNECTIONS} requests always in flight they only restate the rate.`,
    `Latencies and the sweep: bench/load/paced-worker.ts sends at a constant rate (fractions of EchoCue's saturation, ${SECONDS.paced} s per run after a short warm-up at the same rate, up to ${PACED_CONNECTIONS} connections) and counts latency from each request's due time, so queueing delay is included (no coordinated omission); both servers get the same offered rates. Near 100 % the queue grows during the run, so the last sweep point depends on the run's length.`,
    `autocannon's overallRate (the last figure) gives each connection a quota per second that it sends back to back, so requests arrive in bursts of ${CONNECTIONS} at each second's start and its p99 is the latency of ${CONNECTIONS} concurrent requests rather than of a steady 80 % load: the open-loop p99 is the one to trust.`,
    ...(failures.length > 0 ? [`Non-2xx or failed requests: ${failures.join('; ')}.`] : []),
  ];
  return { stage: 'ingest', figures, series, notes, raw: { roles: ROLES, seconds: SECONDS, connections: CONNECTIONS, ...m } };
}

function missedRate(mix: Mix, rps: number, producerSends: number): string {
  const work =
    mix === 'hundred'
      ? 'parses 100 statuses losslessly, splits and Avro-encodes 100 events and waits until Kafka (acks=all) holds 101 records'
      : 'verifies the HMAC, parses, splits and Avro-encodes the body and waits until Kafka (acks=all) holds its records';
  const share = Math.round((100 * rps) / producerSends);
  const bound =
    share >= 70
      ? 'so the Kafka write bounds ingest, not Koa or HTTP'
      : 'so the per-request work in the server process (HTTP, HMAC, JSON, splitting, Avro), not only the Kafka write, bounds ingest';
  return (
    `below 50 % of the bare route, which only reads the body. Each EchoCue request ${work} before its 200. ` +
    `EchoCue's producer alone, with no HTTP and ${CONNECTIONS} sends in flight, managed ${fmt(producerSends)} sends/s of one POST's records each; EchoCue reached ${share} % of that, ${bound}.`
  );
}

function p99Cause(r: Pair, offered: number): string {
  const what = `p99 over ${P99_TARGET_MS} ms: at ${fmt(offered)} req/s offered EchoCue answered ${fmt(r.echo.rps)} req/s (p50 ${r.echo.latency.p50.toFixed(1)} ms, max ${fmt(r.echo.latency.max)} ms)`;
  return r.bare.latency.p99 > P99_TARGET_MS / 2
    ? `${what}; the bare route stalled too at this load (p99 ${fmt(r.bare.latency.p99)} ms), so the machine was busy with something else during these runs: rerun the stage alone.`
    : `${what} while the bare route kept p99 at ${r.bare.latency.p99.toFixed(1)} ms: requests queue for the CPU and the Kafka acknowledgements, which the server shares with the broker and the load generator.`;
}
