// Nothing is mocked: on the local stack, the services are real processes of the real programs.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { services, uniqueName, withDatabase } from '../helpers/env.ts';

const local = () => services().via === 'local-stack';

function psql(sql: string): string {
  const dirs = ['/usr/lib/postgresql/15/bin', ...(existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`) : [])];
  const bin = dirs.map((d) => `${d}/psql`).find((p) => existsSync(p))!;
  return execFileSync(bin, ['-h', '127.0.0.1', '-p', process.env['ECHOCUE_LOCAL_POSTGRES_PORT'] ?? '15432', '-U', 'echocue', '-d', 'ferretdb', '-tAc', sql], { encoding: 'utf8' }).trim();
}

describe('deploy > local stack', () => {
  test.runIf(local())('runs a real kafka.Kafka JVM, PostgreSQL, a ferretdb process on it and the Apicurio registry', () => {
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n');
    expect(ps.some((l) => /\bjava\b.*\bkafka\.Kafka\b/.test(l))).toBe(true);
    expect(ps.some((l) => /\/postgres -D \S+ -h 127\.0\.0\.1/.test(l))).toBe(true);
    expect(ps.some((l) => /\/ferretdb --listen-addr=\S+ --postgresql-url=/.test(l))).toBe(true);
    expect(ps.some((l) => /\bjava\b.*quarkus-run\.jar/.test(l))).toBe(true);
  });

  test.runIf(local())('a collection created now gets the _id index, and lookups by _id use it (custom plans)', async () => {
    const db = uniqueName('idx');
    const mongo = new MongoClient(withDatabase(services().MONGODB_URI, db));
    await mongo.connect();
    try {
      const c = mongo.db().collection<{ _id: string; n: number }>('created_later');
      await c.insertMany(Array.from({ length: 3000 }, (_, i) => ({ _id: `k${i}`, n: i })));
      const indexes = psql(`SELECT tablename || ' ' || indexdef FROM pg_indexes WHERE schemaname = '${db}' AND indexdef LIKE '%USING gin%'`);
      expect(indexes).toMatch(/^created_later_\S+ CREATE INDEX \S+ ON \S+ USING gin \(\(\(_jsonb -> '_id'::text\)\) jsonb_path_ops\)/m);
      const scans = () => Number(psql(`SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE schemaname = '${db}' AND indexrelname LIKE '%idgin'`));
      const before = scans();
      // More than five executions of the same prepared statement: a generic plan would stop using the index.
      for (let i = 0; i < 20; i++) expect(await c.findOne({ _id: `k${i * 7}` })).toMatchObject({ n: i * 7 });
      // The statistics collector reports with a delay of its own; wait for it rather than for a time.
      let after = scans();
      for (let tries = 0; after - before < 20 && tries < 50; tries++) {
        await new Promise((r) => setTimeout(r, 100));
        after = scans();
      }
      expect(after - before).toBeGreaterThanOrEqual(20);
    } finally {
      await mongo.db().dropDatabase().catch(() => undefined);
      await mongo.close();
    }
  });

  test('the registry answers the Confluent API the client uses', async () => {
    const res = await fetch(`${services().SCHEMA_REGISTRY_URL}/subjects`);
    expect(res.status).toBe(200);
    expect(Array.isArray(await res.json())).toBe(true);
  });
});
