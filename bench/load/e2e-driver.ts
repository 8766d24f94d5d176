// Child process of the end-to-end stage: sends signed batches at fixed event rates (open loop) and probes when each
// POST's events become visible through the REST API. `node bench/load/e2e-driver.ts spec.json` prints an E2eResult.
import { Pool } from 'undici';
import { percentile } from '../lib.ts';
import { e2eBatch } from '../../harness/load/bodies.ts';
import { openLoop } from './pacer.ts';
import { createProber } from './probes.ts';
import { readSpec } from './workers.ts';

export type E2eSpec = {
  url: string;
  key: string;
  secret: string;
  wabaIds: string[];
  phoneIds: string[];
  probePhoneId: string;
  /** Offered events/s of each measured level, in order. */
  levels: number[];
  seconds: number;
  warmupSeconds: number;
  /** Events per POST. */
  size: number;
  pollMs: number;
  statusProbesPerSecond: number;
  maxStatusPolls: number;
  drainMs: number;
  warmupDrainMs: number;
};
/** n: samples, lost ones included (their latency is censored at the end of the drain); NaN percentiles without samples. */
type Pcts = { n: number; lost: number; p50: number; p99: number };
export type E2eLevel = {
  offered: number;
  achieved: number;
  requests: number;
  failed: number;
  post: Pcts;
  thread: Pcts;
  status: Pcts;
  polls: number;
  meanPollMs: number;
};
export type E2eResult = { warmup: E2eLevel; levels: E2eLevel[] };

const spec = readSpec<E2eSpec>();
const run = String(Date.now() % 100_000).padStart(5, '0');
const pool = new Pool(spec.url, { connections: 16, pipelining: 1, keepAliveTimeout: 60_000 });
const prober = createProber({
  url: spec.url,
  key: spec.key,
  probePhoneId: spec.probePhoneId,
  pollMs: spec.pollMs,
  maxStatusPolls: spec.maxStatusPolls,
});
let seq = 0;
const pcts = (xs: number[], lost = 0): Pcts => ({ n: xs.length, lost, p50: percentile(xs, 50), p99: percentile(xs, 99) });

async function level(eventsPerSecond: number, seconds: number, drainMs: number): Promise<E2eLevel> {
  const rate = eventsPerSecond / spec.size;
  const count = Math.max(1, Math.round(rate * seconds));
  // Built before the clock starts, so the driver's own work stays out of the measured latencies.
  const batches = Array.from({ length: count }, () => {
    const n = seq++;
    const w = n % spec.wabaIds.length;
    return e2eBatch(spec.secret, {
      run,
      seq: n,
      wabaId: spec.wabaIds[w]!,
      phoneId: spec.phoneIds[w]!,
      probePhoneId: spec.probePhoneId,
      size: spec.size,
    });
  });
  const statusEvery = Math.max(1, Math.round(rate / spec.statusProbesPerSecond));
  const post: number[] = [];
  let failed = 0;
  let events = 0;
  const sent: Promise<void>[] = [];
  const start = performance.now();
  await openLoop(rate, seconds * 1000, (i, dueAt) => {
    const b = batches[i % batches.length]!;
    const wall = Date.now();
    const headers = { 'content-type': 'application/json', 'x-hub-signature-256': b.signature };
    sent.push(
      pool.request({ method: 'POST', path: '/v1/whatsapp/webhook', headers, body: b.body }).then(
        async (res) => {
          await res.body.dump();
          const answeredAt = performance.now();
          post.push(answeredAt - dueAt);
          if (res.statusCode !== 200) return void failed++;
          events += b.events;
          prober.add('thread', b.probeWaId, answeredAt, wall);
          if (i % statusEvery === 0) prober.add('status', b.probeWamid, answeredAt, wall);
        },
        () => void failed++,
      ),
    );
  });
  await Promise.all(sent);
  const elapsed = (performance.now() - start) / 1000;
  const probes = await prober.drain(drainMs);
  return {
    offered: eventsPerSecond,
    achieved: events / elapsed,
    requests: post.length,
    failed,
    post: pcts(post),
    thread: pcts(probes.thread, probes.lostThread),
    status: pcts(probes.status, probes.lostStatus),
    polls: probes.polls,
    meanPollMs: probes.polls ? probes.pollMs / probes.polls : 0,
  };
}

// The warm-up also waits for the actors' consumer group to join (its first batches wait for the rebalance).
const warmup = await level(spec.levels[0]!, spec.warmupSeconds, spec.warmupDrainMs);
const levels: E2eLevel[] = [];
for (const l of spec.levels) levels.push(await level(l, spec.seconds, spec.drainMs));
await prober.stop();
await pool.close();
process.stdout.write(`${JSON.stringify({ warmup, levels } satisfies E2eResult)}\n`);
