// Child process: an open-loop run at a fixed offered rate (bench/load/pacer.ts) over an undici pool; latency is
// counted from each request's due time. `node bench/load/paced-worker.ts spec.json` prints a LoadResult.
import { Pool } from 'undici';
import { percentile } from '../lib.ts';
import { openLoop } from './pacer.ts';
import { readSpec, type LoadRequest, type LoadResult } from './workers.ts';

export type PacedSpec = { url: string; requests: LoadRequest[]; rate: number; seconds: number; connections: number };

const spec = readSpec<PacedSpec>();
const pool = new Pool(spec.url, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 60_000 });
const latencies: number[] = [];
let ok = 0;
let failed = 0;
const pending: Promise<void>[] = [];
const send = (r: LoadRequest) =>
  pool.request({ method: r.method, path: r.path, headers: r.headers, body: r.body, headersTimeout: 30_000, bodyTimeout: 30_000 });

// Warm-up at the same rate, not measured: this process's JIT, the pool's connections, the server's first requests.
const warm: Promise<unknown>[] = [];
await openLoop(spec.rate, Math.min(1000, spec.seconds * 250), (i) => {
  warm.push(
    send(spec.requests[i % spec.requests.length]!).then(
      (res) => res.body.dump(),
      () => undefined,
    ),
  );
});
await Promise.all(warm);

const start = performance.now();

await openLoop(spec.rate, spec.seconds * 1000, (i, dueAt) => {
  pending.push(
    send(spec.requests[i % spec.requests.length]!).then(
      async (res) => {
        await res.body.dump();
        latencies.push(performance.now() - dueAt);
        if (res.statusCode >= 200 && res.statusCode < 300) ok++;
        else failed++;
      },
      () => {
        failed++;
      },
    ),
  );
});
await Promise.all(pending);
const seconds = (performance.now() - start) / 1000;
await pool.close();

const result: LoadResult = {
  tool: 'paced',
  offered: spec.rate,
  connections: spec.connections,
  seconds,
  ok,
  failed,
  rps: ok / seconds,
  latency: {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    p999: percentile(latencies, 99.9),
    max: latencies.reduce((a, b) => Math.max(a, b), 0),
  },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
