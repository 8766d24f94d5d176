// `make lint`: imports flow one way (docs: STYLE.md), only the events port's implementation (src/events/kafka/)
// imports a Kafka client, no console.*, and only src/config reads the environment.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Which top-level folders of src/ each folder may import. */
const ALLOWED: Record<string, readonly string[]> = {
  config: [],
  core: ['config'],
  events: ['core', 'config'],
  store: ['core', 'config'],
  ingest: ['events', 'core', 'config'],
  views: ['events', 'store', 'core', 'config'],
  actors: ['events', 'views', 'store', 'core', 'config'],
  delivery: ['events', 'views', 'store', 'core', 'config'],
  api: ['delivery', 'views', 'events', 'store', 'core', 'config'],
  cli: ['ingest', 'actors', 'delivery', 'api', 'views', 'events', 'store', 'core', 'config'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

/** Kafka clients: only src/events/kafka/ (the events port's implementation) may import them. */
const KAFKA_CLIENTS = ['kafkajs', '@platformatic/kafka', '@confluentinc/kafka-javascript', 'node-rdkafka'];

const problems: string[] = [];
for (const file of files(SRC)) {
  const rel = relative(SRC, file);
  const folder = rel.split('/')[0]!;
  const allowed = ALLOWED[folder];
  if (!allowed) {
    problems.push(`${rel}: folder src/${folder} is not in the layout (scripts/check-imports.ts)`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
    const spec = m[1]!;
    if (KAFKA_CLIENTS.some((c) => spec === c || spec.startsWith(`${c}/`)) && !rel.startsWith('events/kafka/')) {
      problems.push(`${rel}: imports the Kafka client ${spec}; use the events port (src/events/port.ts)`);
    }
    if (!spec.startsWith('.')) continue;
    const target = relative(SRC, join(file, '..', spec)).split('/')[0]!;
    if (target !== folder && !allowed.includes(target))
      problems.push(`${rel}: imports src/${target} (${folder} may import ${allowed.join(', ') || 'nothing'})`);
  }
  if (/\bconsole\.(log|warn|error|info|debug)\(/.test(text)) problems.push(`${rel}: uses console.*; use the injected pino logger`);
  if (/\bprocess\.env\b/.test(text) && folder !== 'config' && rel !== 'cli/main.ts')
    problems.push(`${rel}: reads process.env; only src/config reads the environment`);
}

if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`imports ok (${files(SRC).length} files)\n`);
