// What a worker batch writes once its attempts are done: each endpoint's health once (a success ends the failure
// streak, failures start it), then per delivery one update of the store (the attempt pushed, the status or next
// attempt set) and, for retries, the next attempt record on its tier. Each outcome's decision is nextStep's
// (src/delivery/next-step.ts). Pure: tested without I/O; the worker (src/delivery/worker.ts) does the writes.
import { type AttemptRecord } from '../events/outbound.ts';
import { type AttemptSample } from '../store/endpoint-health.ts';
import { type AttemptDoc, type DeliveryUpdate } from '../store/webhooks.ts';
import { nextStep, type AttemptResult, type NextStep } from './next-step.ts';
import { tierFor } from './schedule.ts';
import { type Progress } from './progress.ts';
import { attemptRecordOf, type SendableRecord } from './record.ts';
import { type AttemptFailure, type AttemptOutcome } from './send.ts';

/** One record of the batch, handled: sent (with its outcome), refused before sending (nothing was sent: the
 *  delivery fails), or deferred (nothing was sent and no attempt is counted: the same attempt is queued again, due at
 *  `dueAt`, because its endpoint's rate limit was used up or its circuit is open: src/delivery/breaker.ts). */
export type Handled =
  | Readonly<{
      kind: 'sent';
      rec: SendableRecord;
      endpointId: string;
      at: Date;
      endedAt: number;
      outcome: AttemptOutcome;
      /** What was sent (stored with the attempt, for the dashboard). */
      headers?: Readonly<Record<string, string>>;
    }>
  | Readonly<{ kind: 'refused'; rec: SendableRecord; reason: 'endpoint_deleted' | 'endpoint_disabled' | 'api_key_revoked' }>
  | Readonly<{ kind: 'deferred'; rec: SendableRecord; dueAt: number; reason: 'rate_limited' | 'circuit_open' }>;

/** An endpoint's health after a batch: a success last (the streak ends), or failures since `since` (`restart`: a
 *  success came before them in the batch, so the streak starts over there; `gone`: why one of those failures disables
 *  it at once, a 410 Gone or `webhook-delivery: disable`, the receiver's way of saying the URL will never take
 *  webhooks again; null when none does). */
export type Health =
  { endpointId: string; ok: true } | { endpointId: string; ok: false; since: Date; restart: boolean; gone: string | null };

/** The HTTP status a receiver answers to say "this endpoint is gone: stop sending" (Standard Webhooks, Svix, CloudEvents). */
export const GONE_STATUS = 410;

/** Why a failed attempt disables its endpoint at once, or null: a 410, or `webhook-delivery: disable`. */
function goneReason(o: AttemptFailure): string | null {
  if (o.status_code === GONE_STATUS) return 'the endpoint answered 410 Gone';
  if (o.directive === 'disable') return 'the endpoint answered webhook-delivery: disable';
  return null;
}

export function endpointHealth(handled: readonly Handled[]): Health[] {
  const byEndpoint = new Map<string, { endedAt: number; ok: boolean; gone: string | null }[]>();
  for (const h of handled) {
    if (h.kind !== 'sent') continue;
    const gone = h.outcome.ok ? null : goneReason(h.outcome);
    byEndpoint.set(h.endpointId, [...(byEndpoint.get(h.endpointId) ?? []), { endedAt: h.endedAt, ok: h.outcome.ok, gone }]);
  }
  return [...byEndpoint].map(([endpointId, results]) => {
    const sorted = results.sort((a, b) => a.endedAt - b.endedAt);
    const lastOk = sorted.findLastIndex((r) => r.ok);
    if (lastOk === sorted.length - 1) return { endpointId, ok: true as const };
    return {
      endpointId,
      ok: false as const,
      since: new Date(sorted[lastOk + 1]!.endedAt),
      restart: lastOk !== -1,
      gone: sorted.slice(lastOk + 1).find((r) => r.gone !== null)?.gone ?? null,
    };
  });
}

/** Each endpoint's attempts of the batch, for its health over time (src/store/endpoint-health.ts). */
export function samplesByEndpoint(handled: readonly Handled[]): Map<string, AttemptSample[]> {
  const out = new Map<string, AttemptSample[]>();
  for (const h of handled) {
    if (h.kind !== 'sent') continue;
    const list = out.get(h.endpointId) ?? [];
    list.push({ ok: h.outcome.ok, latencyMs: h.outcome.latency_ms });
    out.set(h.endpointId, list);
  }
  return out;
}

export type BatchWrites = {
  updates: DeliveryUpdate[];
  next: { record: AttemptRecord; tier: number }[];
  /** Where each delivery stands once its update applied (the next records not produced yet). */
  progress: Map<string, Progress>;
  /** The latest due time queued on each retry tier, this batch included: the next batch's `lastDue`. */
  lastDue: Map<number, number>;
};

const attemptDoc = (h: Extract<Handled, { kind: 'sent' }>): AttemptDoc => ({
  round: h.rec.round,
  n: h.rec.attempt,
  at: h.at,
  outcome: h.outcome.ok ? 'success' : 'failure',
  status_code: h.outcome.status_code,
  latency_ms: h.outcome.latency_ms,
  error: h.outcome.error,
  error_code: h.outcome.error_code,
  response_body: h.outcome.response_body,
  retry_after_ms: h.outcome.retry_after_ms,
  directive: h.outcome.directive,
  ...(h.headers ? { request_headers: { ...h.headers } } : {}),
});

/** A failed attempt as the schedule reads it: overloaded after a 429 or a timeout. */
const resultOf = (o: AttemptFailure): AttemptResult => ({
  ok: false,
  retryAfterMs: o.retry_after_ms,
  overloaded: o.error_code === 'timeout' || o.status_code === TOO_MANY_REQUESTS,
  abort: o.directive === 'abort-message',
});
const TOO_MANY_REQUESTS = 429;

/** The writes of a batch: `disabled` the endpoints its failures disabled, `now` the time of the writes. */
export function batchWrites(
  handled: readonly Handled[],
  opts: {
    now: Date;
    scale: number;
    disabled: ReadonlySet<string>;
    random: () => number;
    /** The latest due time this process queued on each retry tier (see below); none when absent. */
    lastDue?: ReadonlyMap<number, number>;
  },
): BatchWrites {
  const { now } = opts;
  const out: BatchWrites = { updates: [], next: [], progress: new Map(), lastDue: new Map(opts.lastDue ?? []) };
  // Each retry's step, decided once. A tier topic is read in order and waits for its head: a jittered retry queued
  // behind one due later would be sent late. So this process's retries on a tier are queued in due order and
  // none is due before one it queued there earlier (the jitter still spreads the retries of one batch, in order);
  // their due times say when they will really be sent (docs/decisions/0020-outbound-v2.md).
  const steps = new Map<Handled, NextStep>();
  for (const h of handled) {
    if (h.kind !== 'sent') continue;
    steps.set(
      h,
      nextStep({
        result: h.outcome.ok ? { ok: true } : resultOf(h.outcome),
        attempt: h.rec.attempt,
        now: h.endedAt,
        scale: opts.scale,
        jitter: opts.random(),
        endpointDisabled: !h.outcome.ok && opts.disabled.has(h.endpointId),
      }),
    );
  }
  const retries = [...steps.values()].filter((x): x is Extract<NextStep, { kind: 'retry' }> => x.kind === 'retry');
  for (const r of retries.sort((a, b) => a.dueAt - b.dueAt)) {
    r.dueAt = Math.max(r.dueAt, out.lastDue.get(r.tier) ?? 0);
    out.lastDue.set(r.tier, r.dueAt);
  }
  const ended = (status: 'delivered' | 'failed') => ({ round: 0, status, queued: null, dueAt: null, tier: null, produced: true });
  for (const h of handled) {
    const { rec } = h;
    const base = { id: rec.delivery_id, round: rec.round, attempt: rec.attempt };
    const fail = (reason: string, push: AttemptDoc | null) => {
      out.updates.push({
        ...base,
        push,
        set: {
          status: 'failed',
          next_attempt_at: null,
          queued_attempt: null,
          queued_tier: null,
          failed_at: now,
          failure_reason: reason,
          changed_at: now,
        },
      });
      out.progress.set(rec.delivery_id, { ...ended('failed'), round: rec.round });
    };
    /** Attempt `attempt` queued on `tier`, due at `dueAt`: a retry (with the attempt that failed), or a deferral. */
    const queue = (attempt: number, dueAt: number, tier: number, push: AttemptDoc | null) => {
      out.updates.push({
        ...base,
        push,
        set: { next_attempt_at: new Date(dueAt), queued_attempt: attempt, queued_tier: tier, changed_at: now },
      });
      out.next.push({ record: attemptRecordOf({ ...rec, _id: rec.delivery_id }, attempt, dueAt), tier });
      out.progress.set(rec.delivery_id, { round: rec.round, status: 'pending', queued: attempt, dueAt, tier, produced: false });
    };
    if (h.kind === 'refused') {
      fail(h.reason, null);
      continue;
    }
    if (h.kind === 'deferred') {
      // Never on the attempt topic (its records are due at once): the first retry tier whose delay covers the wait.
      queue(rec.attempt, h.dueAt, tierFor(1, Math.max(0, h.dueAt - now.getTime()) / opts.scale), null);
      continue;
    }
    const push = attemptDoc(h);
    const step = steps.get(h)!;
    switch (step.kind) {
      case 'delivered':
        out.updates.push({
          ...base,
          push,
          set: { status: 'delivered', next_attempt_at: null, queued_attempt: null, queued_tier: null, delivered_at: h.at, changed_at: now },
        });
        out.progress.set(rec.delivery_id, { ...ended('delivered'), round: rec.round });
        break;
      case 'endpoint_disabled':
        fail('endpoint_disabled', push);
        break;
      case 'give_up':
        fail(step.reason, push);
        break;
      case 'retry':
        queue(step.attempt, step.dueAt, step.tier, push);
        break;
    }
  }
  out.next.sort((a, b) => a.record.due_at - b.record.due_at); // queued in due order (a stable sort)
  return out;
}
