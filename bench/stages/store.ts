// Stage `store`: what one `_id` lookup and one `_id` replace cost at 1,000,000 documents against the same at
// 10,000, on the store the actors use. On FerretDB v1 without the GIN index on `_jsonb->'_id'` (and custom plans),
// both scan their table, so the cost grows with the collection (docs/decisions/0009-store.md).
import { type MongoClient, type Collection } from 'mongodb';
import { createMongoClient } from '../../src/store/client.ts';
import { figure, percentile, type Stage, type StageResult } from '../lib.ts';

const SMALL = 10_000;
const LARGE = Number(process.env['BENCH_STORE_LARGE'] ?? 1_000_000);
const SAMPLES = 2000;
const INSERT_BATCH = 1000;

type Doc = { _id: string; waba_id: string; thread_id: string; status: string; n: number; text: string };

const docOf = (i: number, r = 0): Doc => ({
  _id: `msg_${i.toString(36).padStart(8, '0')}`,
  waba_id: `w${i % 16}`,
  thread_id: `thr_${(i % 5000).toString(36)}`,
  status: ['sent', 'delivered', 'read'][(i + r) % 3]!,
  n: r,
  text: `message ${i} `.padEnd(200, '.'),
});

async function fill(c: Collection<Doc>, count: number, say: (s: string) => void): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < count; i += INSERT_BATCH) {
    await c.insertMany(
      Array.from({ length: Math.min(INSERT_BATCH, count - i) }, (_, k) => docOf(i + k)),
      { ordered: false },
    );
    if (i % 100_000 === 0 && i > 0) say(`  ${c.collectionName}: ${i.toLocaleString('en-US')} documents`);
  }
  return (performance.now() - t0) / 1000;
}

/** Alternating samples (small, large, small, ...) so drift on the shared machine hits both sizes alike. */
async function sample(
  small: Collection<Doc>,
  large: Collection<Doc>,
  op: (c: Collection<Doc>, i: number, size: number) => Promise<unknown>,
) {
  const out = { small: [] as number[], large: [] as number[] };
  for (let s = 0; s < SAMPLES; s++) {
    for (const [c, size, into] of [
      [small, SMALL, out.small],
      [large, LARGE, out.large],
    ] as const) {
      const i = Math.floor(Math.random() * size);
      const t = performance.now();
      await op(c, i, size);
      into.push(performance.now() - t);
    }
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export const stage: Stage = {
  name: 'store',
  async run(ctx): Promise<StageResult> {
    const say = (s: string) => process.stdout.write(`${s}\n`);
    const mongo: MongoClient = createMongoClient(ctx.config.mongo);
    await mongo.connect();
    try {
      const db = mongo.db();
      const small = db.collection<Doc>('store_small');
      const large = db.collection<Doc>('store_large');
      say(`  filling ${SMALL.toLocaleString('en-US')} and ${LARGE.toLocaleString('en-US')} documents...`);
      const fillSmall = await fill(small, SMALL, say);
      const fillLarge = await fill(large, LARGE, say);
      say(`  filled in ${fillSmall.toFixed(1)} s and ${fillLarge.toFixed(1)} s; sampling ${SAMPLES} lookups and replaces per size...`);
      // Warm both (caches, plans), then measure.
      await sample(small, large, (c, i) => c.findOne({ _id: docOf(i)._id })).catch(() => undefined);
      const lookups = await sample(small, large, (c, i) => c.findOne({ _id: docOf(i)._id }));
      let round = 1;
      const replaces = await sample(small, large, (c, i) => c.replaceOne({ _id: docOf(i)._id }, docOf(i, round++)));
      const verified = await large.findOne({ _id: docOf(LARGE - 1)._id });
      if (!verified) throw new Error('the large collection lost its last document');
      const fig = (what: string, m: { small: number[]; large: number[] }, stat: 'mean' | 'p50' | 'p99') => {
        const f = (xs: number[]) => (stat === 'mean' ? mean(xs) : percentile(xs, stat === 'p50' ? 50 : 99));
        const value = f(m.large);
        const baseline = f(m.small);
        const r = figure({
          name: `store: ${what} by _id, ${stat}, at ${LARGE.toLocaleString('en-US')} documents`,
          value,
          unit: 'ms',
          baseline: { name: `the same at ${SMALL.toLocaleString('en-US')} documents`, value: baseline },
          target: stat === 'mean' ? { op: '<=', on: 'ratio', value: 1.5 } : null,
          note: stat === 'mean' ? 'ratio = cost at the large size / cost at the small size (lower is better; target: at most 1.5)' : null,
        });
        return r;
      };
      return {
        stage: 'store',
        figures: [
          fig('lookup (findOne)', lookups, 'mean'),
          fig('lookup (findOne)', lookups, 'p50'),
          fig('lookup (findOne)', lookups, 'p99'),
          fig('replace (replaceOne)', replaces, 'mean'),
          fig('replace (replaceOne)', replaces, 'p50'),
          fig('replace (replaceOne)', replaces, 'p99'),
        ],
        series: [],
        notes: [
          `Store: ${ctx.config.mongo.uri.replace(/\/\/[^@/]*@/, '//')} (the default local store is FerretDB 1.24.2 on PostgreSQL 15, synchronous_commit=off, with the GIN index on _jsonb->'_id' that deploy/local/ferretdb/id-index.sql gives every FerretDB table, and plan_cache_mode=force_custom_plan).`,
          `Documents: ~300 bytes, message-shaped (5 fields and a 200-character text), _id "msg_<base36>"; ${SMALL.toLocaleString('en-US')} inserted in ${fillSmall.toFixed(1)} s, ${LARGE.toLocaleString('en-US')} in ${fillLarge.toFixed(1)} s (insertMany, ${INSERT_BATCH} per call, one call at a time).`,
          `Samples: ${SAMPLES} per size and operation, one at a time from one client, alternating small and large so machine noise hits both alike, after one warm-up pass of lookups; ids uniformly random over each collection (the large one is far beyond PostgreSQL's shared_buffers, 256 MB, so large-size samples read from the OS page cache or disk).`,
          "Before the index and custom plans (measured by hand while building them, 500 lookups): 0.8 ms at 2,000 documents and 15 ms at 50,000 (a scan per lookup, linear); with a generic plan of FerretDB's prepared statement the index no longer matches `_jsonb->$1` and lookups scan again after five executions.",
        ],
      };
    } finally {
      await mongo
        .db()
        .dropDatabase()
        .catch(() => undefined);
      await mongo.close();
    }
  },
};
