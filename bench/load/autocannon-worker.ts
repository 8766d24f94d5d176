// Child process: one autocannon run (closed loop: `connections` requests in flight, or autocannon's overallRate).
// `node bench/load/autocannon-worker.ts spec.json` prints a LoadResult.
import { createRequire } from 'node:module';
import { readSpec, type LoadRequest, type LoadResult } from './workers.ts';

export type AutocannonSpec = { url: string; requests: LoadRequest[]; connections: number; seconds: number; overallRate?: number };

type AutocannonOut = {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  latency: { p50: number; p99: number; p99_9: number; max: number };
};
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, res: AutocannonOut) => void) => unknown;

// autocannon ships no type declarations; it is loaded through require and typed by the fields read here.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const spec = readSpec<AutocannonSpec>();
const out = await new Promise<AutocannonOut>((resolve, reject) =>
  autocannon(
    {
      url: spec.url,
      requests: spec.requests,
      connections: spec.connections,
      pipelining: 1,
      duration: spec.seconds,
      timeout: 30,
      ...(spec.overallRate ? { overallRate: Math.round(spec.overallRate) } : {}),
    },
    (err, res) => (err ? reject(err) : resolve(res)),
  ),
);
const result: LoadResult = {
  tool: 'autocannon',
  offered: spec.overallRate ?? null,
  connections: spec.connections,
  seconds: out.duration,
  ok: out['2xx'],
  failed: out.non2xx + out.errors,
  rps: out['2xx'] / out.duration,
  latency: { p50: out.latency.p50, p99: out.latency.p99, p999: out.latency.p99_9, max: out.latency.max },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
