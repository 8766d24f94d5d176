// What happens to a delivery after one of its attempts: delivered, retried on a tier (src/delivery/schedule.ts),
// given up after the last attempt, or failed because that failure disabled the endpoint. Pure: tested without I/O;
// the worker (src/delivery/worker.ts) does what it says.
import { MAX_ATTEMPTS, nextAttempt } from './schedule.ts';

/** How the attempt ended: a 2xx, or a failure with the receiver's Retry-After (429/503) if it sent one, whether it
 *  looked overloaded (a 429 or a timeout) and whether it asked to stop retrying this message. */
export type AttemptResult = { ok: true } | { ok: false; retryAfterMs: number | null; overloaded: boolean; abort: boolean };

/** Why a delivery the receiver asked to stop retrying failed. */
export const ABORTED_REASON = 'the receiver answered webhook-delivery: abort-message; no more attempts';

export type NextStep =
  | { kind: 'delivered' }
  | { kind: 'retry'; attempt: number; tier: number; dueAt: number }
  | { kind: 'give_up'; reason: string }
  | { kind: 'endpoint_disabled' };

export type NextStepInput = Readonly<{
  result: AttemptResult;
  /** The attempt that ended (1-based). */
  attempt: number;
  /** ms since epoch. */
  now: number;
  /** DELIVERY_DELAY_SCALE. */
  scale: number;
  /** This failure disabled the endpoint (the store's noteFailure said so). */
  endpointDisabled: boolean;
  /** A random number in [0, 1) for the jitter of the next delay. */
  jitter: number;
}>;

export function nextStep(i: NextStepInput): NextStep {
  if (i.result.ok) return { kind: 'delivered' };
  // A disabled endpoint gets no more attempts, whatever tier would have come next.
  if (i.endpointDisabled) return { kind: 'endpoint_disabled' };
  if (i.result.abort) return { kind: 'give_up', reason: ABORTED_REASON };
  const { retryAfterMs, overloaded } = i.result;
  const next = nextAttempt(i.attempt, i.now, { scale: i.scale, retryAfterMs, overloaded, jitter: i.jitter });
  if (next === null) return { kind: 'give_up', reason: `all ${MAX_ATTEMPTS} attempts failed` };
  return { kind: 'retry', attempt: next.attempt, tier: next.tier, dueAt: next.dueAt };
}
