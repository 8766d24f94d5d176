// Generates docs/errors.md, the page of every error code, from the one table in src/core/errors.ts.
// `node scripts/gen-error-codes.ts` writes it; `--check` fails when the committed page is stale, or when the table
// holds a code that nothing in src/ raises (a page must not promise errors that cannot happen).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, type ErrorSurface } from '../src/core/errors.ts';
import { writeGenerated } from './write-generated.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
const text = sources(join(root, 'src'))
  .filter((p) => !p.endsWith(join('core', 'errors.ts')))
  .map((p) => readFileSync(p, 'utf8'))
  .join('\n');
const unraised = Object.keys(ERROR_CODES).filter((code) => !text.includes(`'${code}'`));
if (unraised.length > 0) {
  process.stderr.write(`src/core/errors.ts lists codes nothing in src/ raises: ${unraised.join(', ')}; remove them or raise them\n`);
  process.exit(1);
}

const SURFACE: Record<ErrorSurface, string> = {
  http: 'HTTP answer',
  'start-up': 'start-up',
  cli: '`echocue` command',
  internal: 'internal (logs, dead-letter headers)',
};

const rows = Object.entries(ERROR_CODES).map(([code, spec]) => {
  const s = spec as { status: number; retriable: boolean; surface: readonly ErrorSurface[]; exit?: number; meaning: string };
  const status = s.surface.includes('http') ? String(s.status) : '–';
  const exit = s.surface.includes('cli') || s.surface.includes('start-up') ? String(s.exit ?? 1) : '–';
  return `| \`${code}\` | ${status} | ${s.retriable ? 'yes' : 'no'} | ${s.surface.map((x) => SURFACE[x]).join(', ')} | ${exit} | ${s.meaning.replaceAll('|', '\\|')} |`;
});

const md = `# Error codes

Generated from \`src/core/errors.ts\` by \`make gen\`; do not edit by hand (\`make check\` fails on a stale copy).

Every error EchoCue raises on purpose carries one of these codes. An HTTP error answer is
\`{"error":{"code":"EC_…","message":"…","details":{…}}}\` with the status below; \`details\` names the parameter or
reason where there is one, and never holds a secret. Decide from \`code\` (stable) and never from \`message\`
(worded for people, may change). *Retriable* means the same call may succeed later unchanged: the HTTP 503s and
429 (Meta retries a webhook answered 503; an API client should back off, honouring \`Retry-After\` on 429), and inside
EchoCue whatever retries (start-up steps, the actors' batches) retries exactly these. *Exit* is the exit status of
\`echocue\` when a command or start-up stops on the code.

| code | HTTP status | retriable | where it shows | exit | meaning |
|---|---|---|---|---|---|
${rows.join('\n')}
`;

writeGenerated(join(root, 'docs', 'errors.md'), 'docs/errors.md', md);
