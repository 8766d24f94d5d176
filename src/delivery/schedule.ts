// When the next attempt of a delivery is due: the first attempt at once, then at most five retries after
// 30 s, 2 m, 10 m, 1 h and 6 h (each tier's delay counted from the failed attempt, times DELIVERY_DELAY_SCALE).
// A receiver's Retry-After (429/503) can push an attempt later, never earlier. Pure: tested without I/O.
import { DELIVERY_TIERS } from '../events/topics.ts';

/** Attempts per round: the first plus one per retry tier. */
export const MAX_ATTEMPTS = DELIVERY_TIERS.length;

/** Retry-After is honoured up to the longest tier (6 h): longer asks would hold up that tier's partition. */
export const MAX_RETRY_AFTER_MS = DELIVERY_TIERS[DELIVERY_TIERS.length - 1]!.delayMs;

/** `tier` is the topic the record waits on: the attempt's own tier, or a longer one when Retry-After asked for
 *  more, so that no record waits longer than its topic's delay (a tier partition's head is always due first). */
export type NextAttempt = { attempt: number; tier: number; dueAt: number };

/** After attempt `failed` (1-based) failed at `now`: the next attempt, or null when that was the last one. */
export function nextAttempt(failed: number, now: number, opts: { scale: number; retryAfterMs: number | null }): NextAttempt | null {
  if (failed >= MAX_ATTEMPTS) return null;
  const own = failed; // attempt 1 failed -> retry tier 1 (30 s)
  const asked = opts.retryAfterMs === null ? 0 : Math.min(opts.retryAfterMs, MAX_RETRY_AFTER_MS);
  const wait = Math.max(DELIVERY_TIERS[own]!.delayMs, asked);
  return { attempt: failed + 1, tier: tierFor(own, wait), dueAt: Math.round(now + wait * opts.scale) };
}

/** The topic of the retry after attempt `failed` failed, waiting `waitMs` (unscaled): its own tier, or the first
 *  longer one whose delay covers the wait (the last tier for anything longer). */
export function tierFor(failed: number, waitMs: number): number {
  const tier = DELIVERY_TIERS.findIndex((t, i) => i >= failed && t.delayMs >= waitMs);
  return tier === -1 ? DELIVERY_TIERS.length - 1 : tier;
}
