// `make bench [STAGE=ingest,actors,...]`: runs each stage alone, one after another, on the local stack, then writes
// BENCHMARKS.md and the charts from the newest result of every stage. Raw results: .bench/ (gitignored).
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.ts';
import { createLogger } from '../src/core/log.ts';
import { type BenchContext, type Stage, type StageResult } from './lib.ts';
import { writeReport } from './report.ts';
import { removeTopicsAndDatabase, withDatabase } from '../harness/isolation.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAGES = ['store', 'ingest', 'actors', 'scale', 'outbound', 'e2e', 'memory', 'soak'] as const;

async function loadStage(name: string): Promise<Stage> {
  const mod = (await import(`./stages/${name}.ts`)) as { stage: Stage };
  return mod.stage;
}

function freshConfig(base: Record<string, string | undefined>, name: string, overrides: Record<string, string> = {}) {
  const id = `bench${name}${Date.now().toString(36)}`;
  const config = loadConfig({
    ...base,
    KAFKA_TOPIC_PREFIX: `${id}.`,
    MONGODB_URI: withDatabase(base['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27027/echocue?retryWrites=false', id),
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'error',
    ...overrides,
  });
  return {
    config,
    cleanup: () => removeTopicsAndDatabase(config),
  };
}

async function main(): Promise<void> {
  const wanted = (process.env['STAGE'] ?? process.argv[2] ?? 'all')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // STAGE=report rewrites BENCHMARKS.md and the charts from the newest results without measuring anything.
  const names = wanted.includes('all') ? [...STAGES] : wanted.filter((n) => n !== 'report');
  for (const n of names) {
    if (!(STAGES as readonly string[]).includes(n))
      throw new Error(`STAGE must be "all", "report" or a list of ${STAGES.join(', ')} (got "${n}")`);
  }
  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(ROOT, '.bench', runId);
  const latest = join(ROOT, '.bench', 'latest');
  mkdirSync(dir, { recursive: true });
  mkdirSync(latest, { recursive: true });
  const log = createLogger({ level: 'info' });
  const base = { ...process.env } as Record<string, string | undefined>;
  const started = Date.now();
  for (const name of names) {
    const stage = await loadStage(name);
    const fresh = freshConfig(base, name);
    const ctx: BenchContext = {
      config: fresh.config,
      log,
      dir,
      cleanup: fresh.cleanup,
      freshConfig: (overrides) => freshConfig(base, name, overrides),
    };
    const t0 = Date.now();
    process.stdout.write(`\n== stage ${name}\n`);
    let result: StageResult;
    try {
      result = await stage.run(ctx);
    } finally {
      await fresh.cleanup().catch(() => undefined);
    }
    const seconds = Math.round((Date.now() - t0) / 1000);
    const json = JSON.stringify({ ...result, seconds, at: new Date().toISOString() }, null, 2);
    writeFileSync(join(dir, `${name}.json`), json);
    writeFileSync(join(latest, `${name}.json`), json);
    for (const f of result.figures) {
      process.stdout.write(
        `  ${f.name}: ${f.value?.toFixed(1)} ${f.unit}${f.baseline ? `  (baseline ${f.baseline.name}: ${f.baseline.value?.toFixed(1)} ${f.baseline.unit}; ratio ${f.ratio?.toFixed(2)})` : ''}${f.met === null ? '' : f.met ? '  target met' : '  TARGET MISSED'}\n`,
      );
    }
    process.stdout.write(`  (${seconds} s)\n`);
  }
  const results = readdirSync(latest)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(latest, f), 'utf8')) as StageResult & { seconds: number; at: string });
  const ordered = STAGES.flatMap((s) => results.filter((r) => r.stage === s));
  await writeReport(ROOT, ordered, { totalSeconds: Math.round((Date.now() - started) / 1000), stagesRun: names });
  process.stdout.write(`\nwrote BENCHMARKS.md and benchmarks/*.svg (raw: ${dir}${existsSync(dir) ? '' : ''})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
