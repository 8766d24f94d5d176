// Nothing is mocked: on the local stack, the services are real processes of the real programs.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { services, uniqueName, withDatabase } from '../helpers/env.ts';
import { apiVersions, describeQuorum } from '../helpers/kafka-wire.ts';

const local = () => services().via === 'local-stack';

/** One psql session running each statement group in turn (-c per group), as the stack's superuser. */
function psql(...sql: string[]): string {
  const dirs = [
    '/usr/lib/postgresql/15/bin',
    ...(existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`) : []),
  ];
  const bin = dirs.map((d) => `${d}/psql`).find((p) => existsSync(p))!;
  return execFileSync(
    bin,
    [
      '-h',
      '127.0.0.1',
      '-p',
      process.env['ECHOCUE_LOCAL_POSTGRES_PORT'] ?? '15432',
      '-U',
      'echocue',
      '-d',
      'ferretdb',
      '-tAq',
      ...sql.flatMap((q) => ['-c', q]),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  ).trim();
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
      const indexes = psql(
        `SELECT tablename || ' ' || indexdef FROM pg_indexes WHERE schemaname = '${db}' AND indexdef LIKE '%USING gin%'`,
      );
      expect(indexes).toMatch(/^created_later_\S+ CREATE INDEX \S+ ON \S+ USING gin \(\(\(_jsonb -> '_id'::text\)\) jsonb_path_ops\)/m);
      // FerretDB v1 queries `_id` as `_jsonb->$1 @> $2` through statements its driver prepares once per
      // connection. Prepared while a collection is small and run five times, the statement gets a generic plan
      // (a scan is cheapest then), which PostgreSQL keeps after the collection grows until the next ANALYZE:
      // `_jsonb->$1` of a generic plan never matches the index. The database's plan_cache_mode
      // (force_custom_plan) plans each execution with its key: the same sequence must end on the index.
      const schema = `plan_${db}`;
      const runs = Array.from({ length: 6 }, (_, i) => `EXECUTE q('_id', '"k${i}"')`);
      const plan = psql(
        `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.t (_jsonb jsonb); INSERT INTO ${schema}.t SELECT jsonb_build_object('_id', 'k' || g) FROM generate_series(1, 10) g; ANALYZE ${schema}.t`,
        `PREPARE q(text, jsonb) AS SELECT _jsonb FROM ${schema}.t WHERE _jsonb -> $1 @> $2`,
        ...runs,
        `INSERT INTO ${schema}.t SELECT jsonb_build_object('_id', 'k' || g) FROM generate_series(11, 30000) g`,
        `EXPLAIN (COSTS OFF) EXECUTE q('_id', '"k7"')`,
        `DROP SCHEMA ${schema} CASCADE`,
      );
      expect(plan).toMatch(/Bitmap Index Scan on \S+_idgin/);
      expect(plan).not.toMatch(/Seq Scan/);
      // And through FerretDB itself, past those five executions, the lookups answer.
      for (let i = 0; i < 20; i++) expect(await c.findOne({ _id: `k${i * 7}` })).toMatchObject({ n: i * 7 });
    } finally {
      await mongo
        .db()
        .dropDatabase()
        .catch(() => undefined);
      await mongo.close();
    }
  });

  // Asked of the broker itself, by hand on the wire (test/helpers/kafka-wire.ts), on whatever stack the tests use.
  test('the broker is Kafka 4 in KRaft mode: the 4.0 protocol baseline and metadata versions, and a metadata quorum', async () => {
    const broker = services().KAFKA_BROKERS.split(',')[0]!;
    const v = await apiVersions(broker);
    // Kafka 4.0 dropped Fetch v0-3, OffsetCommit v0-1 and CreateTopics v0-1 (KIP-896): a 3.x broker accepts them.
    expect(v.apis.get(1)?.min).toBeGreaterThanOrEqual(4);
    expect(v.apis.get(8)?.min).toBeGreaterThanOrEqual(2);
    expect(v.apis.get(19)?.min).toBeGreaterThanOrEqual(2);
    // metadata.version levels: 21 is 3.9-IV0, 22 the first of 4.0 (4.0-IV0); 4.0 stopped supporting those below 3.3-IV3 (7).
    const metadata = v.supportedFeatures.get('metadata.version');
    expect(metadata?.max).toBeGreaterThanOrEqual(22);
    expect(metadata?.min).toBeGreaterThanOrEqual(7);
    // KRaft: the cluster finalized a metadata.version (a ZooKeeper cluster has none), and the metadata log has a
    // quorum whose leader is one of its voters (a ZooKeeper broker does not even offer DescribeQuorum, API 55).
    expect(v.finalizedFeatures.get('metadata.version')).toBeGreaterThanOrEqual(22);
    expect(v.apis.has(55)).toBe(true);
    const quorum = await describeQuorum(broker);
    expect(quorum.leaderId).toBeGreaterThanOrEqual(0);
    expect(quorum.voters).toContain(quorum.leaderId);
  });

  test.runIf(local())('the Kafka JVM runs the 4.x broker jars, configured as a combined KRaft broker and controller', () => {
    const args = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .find((l) => /\bjava\b.*\bkafka\.Kafka\b/.test(l))!
      .split(/\s+/);
    const classpath = args[args.indexOf('-cp') + 1]!;
    const jars = classpath.split(':').flatMap((e) => (e.endsWith('/*') ? readdirSync(e.slice(0, -2)) : [basename(e)]));
    expect(jars.filter((j) => /^kafka-server-\d/.test(j))).toEqual([expect.stringMatching(/^kafka-server-4\.\d+\.\d+\.jar$/)]);
    const config = readFileSync(args[args.indexOf('kafka.Kafka') + 1]!, 'utf8');
    expect(config).toMatch(/^process\.roles=broker,controller$/m);
    expect(config).not.toMatch(/^zookeeper\./m);
  });

  test('the registry answers the Confluent API the client uses', async () => {
    const res = await fetch(`${services().SCHEMA_REGISTRY_URL}/subjects`);
    expect(res.status).toBe(200);
    expect(Array.isArray(await res.json())).toBe(true);
  });
});
