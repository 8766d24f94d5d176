// Per-test isolation: every test gets its own topic prefix, consumer groups and database, and cleans them up.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { createLogger, type Logger } from '../../src/core/log.ts';
import { ContractError } from './contract-error.ts';
import { ROOT } from './services.ts';
import { removeTopicsAndDatabase, withDatabase } from '../../harness/isolation.ts';

export const FIXTURE_SECRET = 'echocue-fixture-app-secret';
export const FIXTURES_DIR = join(ROOT, '../shared/fixtures/meta');

export const services = () => inject('services');

export const uniqueName = (prefix = 't') => `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** The same URI with another database name. */
export { withDatabase };

export type TestEnv = { config: Config; log: Logger; dbName: string; cleanup(): Promise<void> };

/** A Config on the test services with a fresh topic prefix and database. Cleanup drops both. */
export function testEnv(overrides: Record<string, string> = {}): TestEnv {
  const s = services();
  const name = uniqueName();
  const config = loadConfig({
    KAFKA_BROKERS: s.KAFKA_BROKERS,
    MONGODB_URI: withDatabase(s.MONGODB_URI, name),
    SCHEMA_REGISTRY_URL: s.SCHEMA_REGISTRY_URL,
    KAFKA_TOPIC_PREFIX: `${name}.`,
    KAFKA_PARTITIONS: '3',
    META_APP_SECRET: FIXTURE_SECRET,
    META_VERIFY_TOKEN: 'test-verify-token',
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'error',
    ...overrides,
  });
  const log = createLogger({ level: config.log.level });
  return {
    config,
    log,
    dbName: name,
    cleanup: () => removeTopicsAndDatabase(config),
  };
}

export type Fixture = { file: string; field: string; signature: string; body: Buffer };

/** Every fixture of shared/fixtures/meta with the signature its README lists. */
export function fixtures(): Fixture[] {
  const readme = readFileSync(join(FIXTURES_DIR, 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| `([^`]+\.json)` \| `([^`]+)` \|.*\| `(sha256=[0-9a-f]{64})` \|$/gm)];
  if (rows.length === 0) throw new Error('no fixture rows found in shared/fixtures/meta/README.md');
  return rows.map(([, file, field, signature]) => ({
    file: file!,
    field: field!,
    signature: signature!,
    body: readFileSync(join(FIXTURES_DIR, file!)),
  }));
}

export const fixture = (file: string): Fixture => {
  const f = fixtures().find((x) => x.file === file);
  if (!f) throw new Error(`no fixture ${file}`);
  return f;
};

/** Polls until `probe` returns a value (not undefined), or fails after `timeoutMs` with the last error. A
 *  ContractError (an answer the API's document does not allow) fails at once: polling on would hide it (issue 19). */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof ContractError) throw err;
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
