// The store for stages that run the actors: BENCH_MONGODB_URI (what `deploy/local/stack.sh bench-env` prints: FerretDB
// on PostgreSQL) when set, else the stage's own store. The local stack's default FerretDB on SQLite scans the whole
// collection on every query (docs/ferretdb-gaps.md), so the actors and the API slow down as data grows.
// Same approach as bench/stages/actors.ts (GIN index on _jsonb->'_id'), kept here so the e2e stage does not import a stage.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { type Config } from '../../src/config/index.ts';
import { COLLECTIONS } from '../../src/store/collections.ts';
import { withDatabase } from '../../harness/isolation.ts';

const run$ = promisify(execFile);
const PG_PORT = process.env['ECHOCUE_LOCAL_POSTGRES_PORT'] ?? '15432';
const FERRETDB_PG_PORT = process.env['ECHOCUE_LOCAL_FERRETDB_PORT'] ?? '27027';
/** The PostgreSQL database behind the bench FerretDB (deploy/local/stack.sh: ferretdb). */
const PG_DATABASE = process.env['BENCH_PG_DATABASE'] ?? 'ferretdb';

export type BenchStore = {
  config: Config;
  label: string;
  /** Creates every EchoCue collection and, on the local FerretDB-on-PostgreSQL, a GIN index serving its `_id` lookups. */
  prepare(): Promise<void>;
  /** Drops the stage's database on the bench store (the harness drops the one on its own store). */
  cleanup(): Promise<void>;
};

function psqlBinary(): string | null {
  const dirs = [
    process.env['ECHOCUE_PG_BIN'],
    '/usr/lib/postgresql/15/bin',
    ...(existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`) : []),
  ];
  return dirs.map((d) => d && join(d, 'psql')).find((p): p is string => !!p && existsSync(p)) ?? null;
}

const databaseOf = (uri: string) => /^mongodb(?:\+srv)?:\/\/[^/?]+\/([^?]*)/.exec(uri)?.[1] ?? '';

export function benchStore(config: Config): BenchStore {
  const given = process.env['BENCH_MONGODB_URI'];
  if (!given) {
    const label =
      'the harness store (MONGODB_URI, BENCH_MONGODB_URI unset: on the default local FerretDB on SQLite every query scans its collection, which dominates these figures)';
    return { config, label, prepare: async () => {}, cleanup: async () => {} };
  }
  const database = databaseOf(config.mongo.uri);
  const uri = withDatabase(given, database);
  const onLocalPg = new URL(given.replace(/^mongodb:/, 'http:')).port === FERRETDB_PG_PORT;
  const psql = onLocalPg ? psqlBinary() : null;
  return {
    config: { ...config, mongo: { ...config.mongo, uri } },
    label: `BENCH_MONGODB_URI${psql ? ", FerretDB on PostgreSQL with a GIN index on _jsonb->'_id' per table (FerretDB v1.24 queries _id with @>, which its btree index cannot serve)" : ''}`,
    async prepare() {
      const mongo = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
      await mongo.connect();
      try {
        const existing = new Set((await mongo.db().listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
        for (const c of Object.values(COLLECTIONS)) if (!existing.has(c)) await mongo.db().createCollection(c);
      } finally {
        await mongo.close();
      }
      if (!psql) return;
      if (!/^[a-z0-9_]+$/.test(database)) throw new Error(`unexpected database name ${database}`);
      await run$(psql, [
        '-h',
        '127.0.0.1',
        '-p',
        PG_PORT,
        '-U',
        'echocue',
        '-d',
        PG_DATABASE,
        '-v',
        'ON_ERROR_STOP=1',
        '-tAc',
        `DO $$ DECLARE r record; BEGIN
        FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = '${database}' AND c.relkind = 'r' AND c.relname NOT LIKE '\\_ferretdb%' LOOP
          EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb -> ''_id''))', left(r.relname, 50) || '_id_gin', '${database}', r.relname);
        END LOOP; END $$`,
      ]);
    },
    async cleanup() {
      const mongo = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 60_000 });
      try {
        await mongo.connect();
        await mongo.db().dropDatabase();
      } catch (err) {
        process.stderr.write(`bench store: could not drop ${database}: ${(err as Error).message}\n`);
      } finally {
        await mongo.close().catch(() => undefined);
      }
    },
  };
}
