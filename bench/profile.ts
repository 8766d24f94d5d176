// `node bench/profile.ts`: a CPU profile (--cpu-prof) of the ingest role under autocannon load with 100-status
// bodies, summarised as the functions with the most self time. Findings go to bench/FINDINGS.md.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.ts';
import { statusBatches } from '../harness/load/bodies.ts';
import { startEchoCue } from '../harness/load/processes.ts';
import { runWorker, webhookRequests, type LoadResult } from './load/workers.ts';
import { removeTopicsAndDatabase, withDatabase } from '../harness/isolation.ts';

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number };

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = join(ROOT, '.bench', 'profile');
mkdirSync(dir, { recursive: true });
const id = `benchprof${Date.now().toString(36)}`;
const config = loadConfig({
  ...process.env,
  KAFKA_TOPIC_PREFIX: `${id}.`,
  MONGODB_URI: withDatabase(process.env['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27027/echocue?retryWrites=false', id),
  PORT: '0',
  METRICS_PORT: '0',
  LOG_LEVEL: 'error',
});
const secret = config.meta.appSecrets[0]!;
const before = new Set(readdirSync(dir));
const server = await startEchoCue(config, 'ingest', { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` });
const load = await runWorker<LoadResult>(
  'autocannon-worker.ts',
  {
    url: server.url,
    requests: webhookRequests(statusBatches(secret, 20)),
    connections: 10,
    seconds: Number(process.env['PROFILE_SECONDS'] ?? 10),
  },
  dir,
);
await server.stop();
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
if (!file) throw new Error('no profile written');
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[]; samples: number[] };
const total = profile.samples.length;
const self = new Map<string, number>();
for (const n of profile.nodes) {
  const where = n.callFrame.url.replace(/^.*\/(node_modules\/[^/]+|src\/.*|node:.*)$/, '$1').replace(`file://${ROOT}`, '');
  const key = `${n.callFrame.functionName || '(anonymous)'} ${where}${where ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  self.set(key, (self.get(key) ?? 0) + (n.hitCount ?? 0));
}
process.stdout.write(`ingest under load: ${load.rps.toFixed(0)} req/s; ${total} samples (${file})\n`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25))
  process.stdout.write(`${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}\n`);
await removeTopicsAndDatabase(config);
