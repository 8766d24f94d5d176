// What happens to a delivery after one of its attempts: delivered, retried on a tier (src/delivery/schedule.ts),
// given up after the last attempt, or failed because that failure disabled the endpoint. Pure: tested without I/O;
// the worker (src/delivery/worker.ts) does what it says.
import { MAX_ATTEMPTS, nextAttempt } from './schedule.ts';

/** How the attempt ended: a 2xx, or a failure with the receiver's Retry-After (429/503) if it sent one. */
export type AttemptResult = { ok: true } | { ok: false; retryAfterMs: number | null };

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
}>;

export function nextStep(i: NextStepInput): NextStep {
  if (i.result.ok) return { kind: 'delivered' };
  // A disabled endpoint gets no more attempts, whatever tier would have come next.
  if (i.endpointDisabled) return { kind: 'endpoint_disabled' };
  const next = nextAttempt(i.attempt, i.now, { scale: i.scale, retryAfterMs: i.result.retryAfterMs });
  if (next === null) return { kind: 'give_up', reason: `all ${MAX_ATTEMPTS} attempts failed` };
  return { kind: 'retry', attempt: next.attempt, tier: next.tier, dueAt: next.dueAt };
}
