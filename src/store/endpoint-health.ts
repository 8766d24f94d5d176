// Endpoint health over time and the notices customers read instead of e-mails. Stats: one document per endpoint,
// 5-minute bucket and delivery process, counted by the delivery worker once per batch and endpoint ($inc: attempts, successes,
// latency sum and histogram; $max: latency), so a day is 288 small documents read in one query. Notices: an
// endpoint started failing (a streak of failed attempts lasted ENDPOINT_FAILING_NOTICE_SECONDS), was disabled, or
// recovered (a success ended a streak that had been noticed). Both are swept with the attempt log
// (src/delivery/retention.ts).
import { type Db } from 'mongodb';
import { randomId } from '../core/ids.ts';
import { COLLECTIONS } from './collections.ts';
import { createSerial } from './serial.ts';

export const BUCKET_MS = 5 * 60_000;
/** Upper bounds (ms) of the latency histogram; the last bucket is everything slower. */
export const LATENCY_BOUNDS_MS = [100, 250, 500, 1000, 2500, 5000, 10_000] as const;

export type StatDoc = {
  _id: string;
  endpoint_id: string;
  bucket: Date;
  attempts: number;
  successes: number;
  latency_sum_ms: number;
  latency_max_ms: number;
  /** Counts per LATENCY_BOUNDS_MS bucket, then one for slower: l0 … l7. */
  [le: `l${number}`]: number;
};

export type NoticeKind = 'failing' | 'disabled' | 'recovered';
export type NoticeDoc = { _id: string; endpoint_id: string; key_id: string; kind: NoticeKind; at: Date; detail: string };

/** One endpoint's attempts of a batch, as the stats count them. */
export type AttemptSample = { ok: boolean; latencyMs: number };

export const bucketOf = (at: Date): Date => new Date(Math.floor(at.getTime() / BUCKET_MS) * BUCKET_MS);
const latencySlot = (ms: number): number => {
  const i = LATENCY_BOUNDS_MS.findIndex((b) => ms <= b);
  return i === -1 ? LATENCY_BOUNDS_MS.length : i;
};

export function createEndpointHealthStore(db: Db) {
  const stats = db.collection<StatDoc>(COLLECTIONS.endpointStat);
  const notices = db.collection<NoticeDoc>(COLLECTIONS.endpointNotice);
  // Each process counts into documents of its own, one write at a time per document (src/store/serial.ts): exact
  // on FerretDB v1 too, whose updates are not atomic. Readers add the processes' documents up.
  const writer = randomId('w', 6);
  const serial = createSerial();
  return {
    /** Counts a batch's attempts of one endpoint in the bucket of `at` (one upsert). */
    async count(endpointId: string, at: Date, samples: readonly AttemptSample[]): Promise<void> {
      if (samples.length === 0) return;
      const bucket = bucketOf(at);
      const _id = `${endpointId}|${bucket.getTime()}|${writer}`;
      const inc: Record<string, number> = { attempts: samples.length, successes: samples.filter((x) => x.ok).length, latency_sum_ms: 0 };
      for (const x of samples) {
        inc['latency_sum_ms']! += x.latencyMs;
        const slot = `l${latencySlot(x.latencyMs)}`;
        inc[slot] = (inc[slot] ?? 0) + 1;
      }
      await serial(_id, () =>
        stats.updateOne(
          { _id },
          {
            $inc: inc,
            $max: { latency_max_ms: Math.max(...samples.map((x) => x.latencyMs)) },
            $setOnInsert: { endpoint_id: endpointId, bucket },
          },
          { upsert: true },
        ),
      );
    },
    /** The endpoint's buckets from `since` on, oldest first, every process's counts added up. */
    async statsSince(endpointId: string, since: Date): Promise<StatDoc[]> {
      const docs = await stats
        .find({ endpoint_id: endpointId, bucket: { $gte: bucketOf(since) } })
        .sort({ bucket: 1 })
        .toArray();
      const byBucket = new Map<number, StatDoc>();
      for (const d of docs) {
        const t = d.bucket.getTime();
        const sum = byBucket.get(t);
        if (!sum) {
          byBucket.set(t, { ...d, _id: `${endpointId}|${t}` });
          continue;
        }
        sum.attempts += d.attempts;
        sum.successes += d.successes;
        sum.latency_sum_ms += d.latency_sum_ms;
        sum.latency_max_ms = Math.max(sum.latency_max_ms, d.latency_max_ms);
        for (let i = 0; i <= LATENCY_BOUNDS_MS.length; i++) sum[`l${i}`] = (sum[`l${i}`] ?? 0) + (d[`l${i}`] ?? 0);
      }
      return [...byBucket.values()];
    },
    async notice(n: Omit<NoticeDoc, '_id'>): Promise<NoticeDoc> {
      const doc = { _id: randomId('ntc'), ...n };
      await notices.insertOne(doc);
      return doc;
    },
    /** The key's notices (of one endpoint when given), newest first, at most `limit`, from `since` on. */
    notices(keyId: string, opts: { endpointId?: string; since: Date; limit: number }): Promise<NoticeDoc[]> {
      return notices
        .find({ key_id: keyId, at: { $gte: opts.since }, ...(opts.endpointId ? { endpoint_id: opts.endpointId } : {}) })
        .sort({ at: -1, _id: 1 })
        .limit(opts.limit)
        .toArray();
    },
    /** Deletes stats buckets and notices older than `before`; answers how many. */
    async prune(before: Date): Promise<number> {
      const [a, b] = await Promise.all([stats.deleteMany({ bucket: { $lt: before } }), notices.deleteMany({ at: { $lt: before } })]);
      return a.deletedCount + b.deletedCount;
    },
  };
}

export type EndpointHealthStore = ReturnType<typeof createEndpointHealthStore>;

/** p-th percentile (0–100) of a bucket's latencies, as the upper bound of the histogram slot it falls in (null
 *  without attempts; the slowest slot answers the largest latency seen). Pure. */
export function latencyPercentile(s: Pick<StatDoc, 'attempts' | 'latency_max_ms'> & Partial<StatDoc>, p: number): number | null {
  if (s.attempts === 0) return null;
  const rank = Math.ceil((p / 100) * s.attempts);
  let seen = 0;
  for (let i = 0; i <= LATENCY_BOUNDS_MS.length; i++) {
    seen += (s[`l${i}`] as number | undefined) ?? 0;
    if (seen >= rank) return i < LATENCY_BOUNDS_MS.length ? Math.min(LATENCY_BOUNDS_MS[i]!, s.latency_max_ms) : s.latency_max_ms;
  }
  return s.latency_max_ms;
}
