// The `echocue` command as a user meets it: bad configuration is one clear line and a non-zero exit.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { services, testEnv, withDatabase } from '../helpers/env.ts';
import { ROOT } from '../helpers/services.ts';

const run = promisify(execFile);

async function echocue(args: string[], env: Record<string, string>, timeoutMs = 30_000) {
  try {
    const r = await run(process.execPath, [`${ROOT}bin/echocue.js`, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      timeout: timeoutMs,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('cli > configuration errors', () => {
  test.each([
    [{ PORT: 'abc' }, 'echocue: invalid configuration: PORT must be a whole number from 0 to 65535 (got "abc")'],
    [{ KAFKA_BROKERS: 'nohost' }, 'echocue: invalid configuration: KAFKA_BROKERS each broker must be host:port (got "nohost")'],
    [
      { NODE_ENV: 'production' },
      'echocue: invalid configuration: META_APP_SECRET must be set when NODE_ENV=production (no local default is used in production)',
    ],
  ])('%o gives one line and exit code 2', async (env, line) => {
    const r = await echocue(['serve'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${line}\n`);
  });

  test('an unreachable store is one line naming the variable and a non-zero exit', async () => {
    const r = await echocue(['accounts', 'create', '--name', 'x'], { MONGODB_URI: 'mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=500' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^echocue: EC_STORE_UNAVAILABLE: cannot connect to MongoDB \(MONGODB_URI\)/);
  });

  // The client's own connection retries and start-up's topic retries take about 40 s to give up on a closed port.
  test(
    'an outage at start-up names the dependency that failed (its own code, not EC_CONFIG_INVALID) and exits 1',
    { timeout: 150_000 },
    async () => {
      const env = testEnv(); // the store answers (its own database, dropped after); the broker does not
      const r = await echocue(
        ['serve', '--role', 'ingest'],
        {
          MONGODB_URI: withDatabase(services().MONGODB_URI, env.dbName),
          SCHEMA_REGISTRY_URL: services().SCHEMA_REGISTRY_URL,
          KAFKA_BROKERS: '127.0.0.1:1',
          KAFKA_REQUEST_TIMEOUT_MS: '1000',
          LOG_LEVEL: 'fatal',
          PORT: '0',
          METRICS_PORT: '0',
        },
        120_000,
      ).finally(() => env.cleanup());
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^echocue: EC_KAFKA_UNAVAILABLE: cannot reach Kafka at 127\.0\.0\.1:1 \(KAFKA_BROKERS\)/);
    },
  );

  test('an unknown command or option prints usage and exits 2', async () => {
    const r = await echocue(['frobnicate'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^echocue: unknown command "frobnicate"/);
    const o = await echocue(['serve', '--nope'], {});
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(/^echocue: .*--nope/);
    expect(o.stderr).toContain('usage: echocue');
  });
});
