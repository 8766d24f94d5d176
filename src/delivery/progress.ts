// Where each delivery stands (round, status, the attempt on a tier topic), as far as this process knows it: the
// planner notes the deliveries it queued, the worker the outcomes it stored. An attempt record is sent only when it
// is exactly the attempt its delivery waits for; what this process does not know is read from the store (one go per
// batch), never guessed. `judge` is pure: tested without I/O.
//
// Why a hit is safe without a read: a delivery has one attempt record at a time (the next one is queued only after
// the previous outcome is stored), rounds only grow, and a replay starts a new round only once the last one ended.
// So a record of an older round, or of a round this process saw end, is stale; a record of the attempt this process
// itself queued is the one to send. Anything else (a newer round, a later attempt: another member or the API wrote
// it) is unknown here. The cache is dropped when the worker group rebalances (records may then come from partitions
// another member handled).
import { LRUCache } from 'lru-cache';
import { type AttemptRecord } from '../events/outbound.ts';
import { type DeliveryDoc, type DeliveryStatus } from '../store/webhooks.ts';
import { tierFor } from './schedule.ts';

export type Progress = Readonly<{
  round: number;
  status: DeliveryStatus;
  /** The attempt of this round last queued (or about to be). */
  queued: number | null;
  /** Its due time and tier topic, to queue it again after a crash between storing and queueing. */
  dueAt: number | null;
  tier: number | null;
  /** It is on its topic for sure (this process produced it): a repeated predecessor need not queue it again. */
  produced: boolean;
}>;

export type Verdict =
  | { kind: 'send' }
  | { kind: 'skip'; why: 'finished' | 'stale_round' | 'handled' | 'not_found' | 'ahead' }
  | { kind: 'requeue'; attempt: number; dueAt: number; tier: number }
  | { kind: 'unknown' };

/** What to do with `rec` given where its delivery stands; `fromStore`: `p` was just read (not this process's memory). */
export function judge(rec: Pick<AttemptRecord, 'round' | 'attempt'>, p: Progress | undefined, fromStore: boolean): Verdict {
  if (!p) return fromStore ? { kind: 'skip', why: 'not_found' } : { kind: 'unknown' };
  if (rec.round < p.round) return { kind: 'skip', why: 'stale_round' };
  if (rec.round > p.round) return fromStore ? { kind: 'skip', why: 'ahead' } : { kind: 'unknown' };
  if (p.status !== 'pending') return { kind: 'skip', why: 'finished' };
  if (p.queued === rec.attempt) return { kind: 'send' };
  if (p.queued !== null && rec.attempt < p.queued) {
    // The outcome of this attempt is stored; its successor may not have reached its topic (a crash in between).
    if (rec.attempt === p.queued - 1 && !p.produced && p.dueAt !== null && p.tier !== null) {
      return { kind: 'requeue', attempt: p.queued, dueAt: p.dueAt, tier: p.tier };
    }
    return { kind: 'skip', why: 'handled' };
  }
  return fromStore ? { kind: 'skip', why: 'ahead' } : { kind: 'unknown' };
}

/** Where a stored delivery stands (its queued record's topic derived when the document predates `queued_tier`). */
export function progressOf(
  d: Pick<DeliveryDoc, 'round' | 'status' | 'queued_attempt' | 'next_attempt_at' | 'queued_tier' | 'attempts'>,
  scale: number,
): Progress {
  const dueAt = d.next_attempt_at?.getTime() ?? null;
  let tier = d.queued_tier ?? null;
  if (tier === null && d.queued_attempt !== null && dueAt !== null) {
    const last = d.attempts.filter((a) => a.round === d.round && a.n === d.queued_attempt! - 1).at(-1);
    tier = d.queued_attempt === 1 ? 0 : tierFor(d.queued_attempt - 1, last ? (dueAt - last.at.getTime()) / scale : 0);
  }
  return { round: d.round, status: d.status, queued: d.queued_attempt, dueAt, tier, produced: false };
}

export type ProgressCache = {
  get(id: string): Progress | undefined;
  set(id: string, p: Progress): void;
  delete(id: string): void;
  clear(): void;
};

export function createProgressCache(max = 200_000): ProgressCache {
  const lru = new LRUCache<string, Progress>({ max });
  return {
    get: (id) => lru.get(id),
    set: (id, p) => void lru.set(id, p),
    delete: (id) => void lru.delete(id),
    clear: () => lru.clear(),
  };
}
