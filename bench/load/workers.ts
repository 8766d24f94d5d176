// Load generators run as child processes (`node bench/load/<script>.ts <spec.json>`): each reads its spec from a
// file and prints one JSON result on stdout. This keeps them off the event loop of the stage and of the server.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let seq = 0;

/** Runs `bench/load/<script>` on a spec (saved in the run's folder) and returns what it printed; killed after `timeoutMs`. */
export async function runWorker<T>(script: string, spec: unknown, dir: string, timeoutMs = 300_000): Promise<T> {
  const file = join(dir, `load-${process.pid}-${++seq}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const child = spawn(process.execPath, [join('bench/load', script), file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`bench/load/${script} exited with ${code ?? 'a signal (timed out?)'}: ${err.trim()}`);
  return JSON.parse(out) as T;
}

/** Reads the spec a worker was started with. */
export const readSpec = <T>(): T => JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as T;

/** One HTTP request of a load run. */
export type LoadRequest = { method: 'POST'; path: string; headers: Record<string, string>; body: string };

/** What every HTTP load worker reports (latencies in ms). */
export type LoadResult = {
  tool: 'autocannon' | 'paced';
  /** Offered requests/s (null: unthrottled). */
  offered: number | null;
  connections: number;
  seconds: number;
  ok: number;
  failed: number;
  /** Answered 2xx per second over the run. */
  rps: number;
  latency: { p50: number; p99: number; p999: number; max: number };
};

export const webhookRequests = (bodies: readonly { body: string; signature: string }[]): LoadRequest[] =>
  bodies.map((b) => ({
    method: 'POST',
    path: '/v1/whatsapp/webhook',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': b.signature, 'user-agent': 'facebookexternalua' },
    body: b.body,
  }));
