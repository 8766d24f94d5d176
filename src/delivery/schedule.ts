// When the next attempt of a delivery is due: the first attempt at once, then at most five retries after
// 30 s, 2 m, 10 m, 1 h and 6 h (each tier's delay counted from the failed attempt, times DELIVERY_DELAY_SCALE), as
// Svix does it (../shared/docs/outbound-webhooks.md §0.4): ±20 % jitter on every delay, so that the deliveries of an
// endpoint that failed together do not all come back at once; at least 60 s after a 429 or a timeout (an overloaded
// receiver); a receiver's Retry-After (429/503) honoured within [the scheduled delay, twice it], never earlier and
// never stretching the retry window beyond twice the schedule. Pure: the jitter is an input, tested without I/O.
import { DELIVERY_TIERS } from '../events/topics.ts';

/** Attempts per round: the first plus one per retry tier. */
export const MAX_ATTEMPTS = DELIVERY_TIERS.length;

/** Every delay is spread over ±JITTER of itself. */
export const JITTER = 0.2;

/** The least wait after a 429 or a timeout, whatever the tier (Svix's overload penalty). */
export const OVERLOAD_FLOOR_MS = 60_000;

/** The longest any record waits on a tier topic: the longest tier's delay with the most jitter (7 h 12 m). A
 *  Retry-After asking for more is honoured up to this. */
export const MAX_RETRY_AFTER_MS = DELIVERY_TIERS[DELIVERY_TIERS.length - 1]!.delayMs * (1 + JITTER);

/** `tier` is the topic the record waits on: the attempt's own tier, or a longer one when its wait is longer than
 *  that tier's delay with the most jitter, so that no record waits much longer than its topic's delay (a tier
 *  partition's head is always due within (1 + JITTER) × its delay). */
export type NextAttempt = { attempt: number; tier: number; dueAt: number };

export type RetryInput = Readonly<{
  /** DELIVERY_DELAY_SCALE. */
  scale: number;
  /** The receiver's Retry-After (429/503), ms. */
  retryAfterMs: number | null;
  /** The attempt timed out or was answered 429: wait at least OVERLOAD_FLOOR_MS. */
  overloaded: boolean;
  /** A random number in [0, 1): where in ±JITTER the delay falls (0.5: the delay itself). */
  jitter: number;
}>;

/** After attempt `failed` (1-based) failed at `now`: the next attempt, or null when that was the last one. */
export function nextAttempt(failed: number, now: number, opts: RetryInput): NextAttempt | null {
  if (failed >= MAX_ATTEMPTS) return null;
  const own = failed; // attempt 1 failed -> retry tier 1 (30 s)
  const scheduled = Math.max(DELIVERY_TIERS[own]!.delayMs, opts.overloaded ? OVERLOAD_FLOOR_MS : 0);
  const jitter = Math.min(Math.max(opts.jitter, 0), 1);
  // The floor holds after the jitter too: an overloaded receiver's retries spread over [60 s, 72 s], never sooner.
  const jittered = Math.max(scheduled * (1 - JITTER + 2 * JITTER * jitter), opts.overloaded ? OVERLOAD_FLOOR_MS : 0);
  const wait = opts.retryAfterMs === null ? jittered : Math.min(Math.max(opts.retryAfterMs, scheduled), 2 * scheduled, MAX_RETRY_AFTER_MS);
  return { attempt: failed + 1, tier: tierFor(own, wait), dueAt: Math.round(now + wait * opts.scale) };
}

/** The topic of the retry after attempt `failed` failed, waiting `waitMs` (unscaled): its own tier, or the first
 *  longer one whose delay with the most jitter covers the wait (the last tier for anything longer). */
export function tierFor(failed: number, waitMs: number): number {
  const tier = DELIVERY_TIERS.findIndex((t, i) => i >= failed && t.delayMs * (1 + JITTER) >= waitMs);
  return tier === -1 ? DELIVERY_TIERS.length - 1 : tier;
}
