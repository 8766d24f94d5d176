// Attempts deliveries. Each attempt record is handled once it is due (src/delivery/due-consumer.ts): the attempt is
// marked in flight, sent, its outcome stored, and then either the delivery ends (delivered, or failed after the
// last retry) or the next attempt is queued on its tier's topic. Offsets are committed after all of that, so a
// killed worker repeats only the step it was in: an attempt whose outcome is stored is never sent again; one that
// was in flight when the worker died is sent again (its outcome is unknown: the one duplicate case).
import { type Kafka } from 'kafkajs';
import { type Logger } from '../core/log.ts';
import { type ConsumedRecord, type EventProducer, type RunningConsumer } from '../events/kafka.ts';
import { decodeJson, type AttemptRecord } from '../events/outbound.ts';
import { queueAttempts } from './queue.ts';
import { type Topics } from '../events/topics.ts';
import { type AccountStore } from '../store/accounts.ts';
import { type AttemptDoc, type DeliveryDoc, type WebhookStore } from '../store/webhooks.ts';
import { runDueConsumer } from './due-consumer.ts';
import { signatureHeaders } from './envelope.ts';
import { nextStep } from './next-step.ts';
import { type AttemptOutcome } from './send.ts';

export type Sender = { send(url: string, body: string, headers: Record<string, string>): Promise<AttemptOutcome> };

export type WorkerDeps = Readonly<{
  topics: Topics;
  webhooks: WebhookStore;
  accounts: Pick<AccountStore, 'liveSigningSecret'>;
  sender: Sender;
  producer: EventProducer;
  now: () => Date;
  delayScale: number;
  disableAfterMs: number;
  log: Logger;
}>;

const withAttempt = (d: DeliveryDoc, a: AttemptDoc): DeliveryDoc => ({
  ...d,
  attempts: [...d.attempts.filter((x) => !(x.round === a.round && x.n === a.n)), a],
});

export function createAttemptHandler(deps: WorkerDeps) {
  const log = deps.log.child({ component: 'delivery-worker' });

  async function finish(d: DeliveryDoc, status: 'delivered' | 'failed', reason: string | null, at: Date): Promise<void> {
    await deps.webhooks.saveDelivery({
      ...d, status, next_attempt_at: null, changed_at: at,
      ...(status === 'delivered' ? { delivered_at: at } : { failed_at: at, failure_reason: reason }),
    });
  }

  return async function handle(rec: AttemptRecord): Promise<void> {
    let d = await deps.webhooks.delivery(rec.delivery_id);
    // Unknown, finished, or replayed into a newer round meanwhile: nothing to do.
    if (!d || d.status !== 'pending' || d.round !== rec.round) return;
    let attempt = d.attempts.find((a) => a.round === rec.round && a.n === rec.attempt);
    // Only this handler's own send learns it (noteFailure's answer); a repeated record whose outcome is stored queues
    // its successor as before, and that attempt fails at once on the disabled endpoint.
    let endpointDisabled = false;
    if (!attempt || attempt.outcome === 'in_flight') {
      const ep = await deps.webhooks.endpoint(d.endpoint_id);
      const now = deps.now();
      if (!ep) return finish(d, 'failed', 'endpoint_deleted', now);
      if (!ep.enabled) return finish(d, 'failed', 'endpoint_disabled', now);
      const secret = await deps.accounts.liveSigningSecret(ep.key_id);
      if (secret === null) return finish(d, 'failed', 'api_key_revoked', now);
      if (attempt) log.warn({ delivery: d._id, attempt: rec.attempt }, 'sending again an attempt whose outcome is unknown (the worker stopped mid-attempt)');
      const inFlight: AttemptDoc = { round: rec.round, n: rec.attempt, at: now, outcome: 'in_flight', status_code: null, latency_ms: null, error: null, error_code: null, response_body: null, retry_after_ms: null };
      d = withAttempt({ ...d, next_attempt_at: null, changed_at: now }, inFlight);
      if (!(await deps.webhooks.saveDelivery(d))) return;
      const outcome = await deps.sender.send(ep.url, d.body, signatureHeaders({ body: d.body, secret, eventId: d.event_id, timestamp: now, attempt: rec.attempt }));
      attempt = {
        ...inFlight,
        outcome: outcome.ok ? 'success' : 'failure',
        status_code: outcome.status_code,
        latency_ms: outcome.latency_ms,
        error: outcome.error,
        error_code: outcome.error_code,
        response_body: outcome.response_body,
        retry_after_ms: outcome.retry_after_ms,
      };
      d = withAttempt({ ...d, changed_at: deps.now() }, attempt);
      if (!(await deps.webhooks.saveDelivery(d))) return;
      if (outcome.ok) await deps.webhooks.noteSuccess(ep._id);
      else {
        const after = await deps.webhooks.noteFailure(ep._id, deps.now(), deps.disableAfterMs);
        endpointDisabled = after !== null && !after.enabled;
      }
    }
    const now = deps.now();
    const next = nextStep({
      result: attempt.outcome === 'success' ? { ok: true } : { ok: false, retryAfterMs: attempt.retry_after_ms },
      attempt: rec.attempt, now: now.getTime(), scale: deps.delayScale, endpointDisabled,
    });
    if (next.kind === 'delivered') return finish(d, 'delivered', null, attempt.at);
    if (next.kind === 'endpoint_disabled') return finish(d, 'failed', 'endpoint_disabled', now);
    if (next.kind === 'give_up') return finish(d, 'failed', next.reason, now);
    if (d.queued_attempt === next.attempt) return; // a repeated record: its successor is queued already
    // Queued first, then noted: a crash between the two queues it again (a duplicate record, skipped above or by
    // the stored outcome), never not at all.
    await queueAttempts(deps.producer, deps.topics, [{ record: { delivery_id: d._id, round: d.round, attempt: next.attempt, due_at: next.dueAt }, tier: next.tier }]);
    await deps.webhooks.saveDelivery({ ...d, next_attempt_at: new Date(next.dueAt), queued_attempt: next.attempt, changed_at: now });
  };
}

function parsed(r: ConsumedRecord): AttemptRecord | null {
  try {
    const rec = decodeJson<AttemptRecord>(r.value, 'delivery attempt');
    return typeof rec?.delivery_id === 'string' && Number.isInteger(rec.round) && Number.isInteger(rec.attempt) && Number.isFinite(rec.due_at) ? rec : null;
  } catch {
    return null;
  }
}

export type WorkerOptions = WorkerDeps & Readonly<{
  kafka: Kafka;
  groupId: string;
  /** The worker group's session timeout and heartbeat interval; defaults 30000 and 3000 ms (tests shorten them). */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
}>;

export async function startWorker(deps: WorkerOptions): Promise<RunningConsumer> {
  const handle = createAttemptHandler(deps);
  return runDueConsumer({
    kafka: deps.kafka,
    groupId: deps.groupId,
    topics: deps.topics.deliveryTiers,
    log: deps.log.child({ component: 'delivery-worker' }),
    // A record that is not an attempt (written by hand, say) is skipped with a warning, never retried forever.
    dueAt: (r) => parsed(r)?.due_at ?? 0,
    handle: async (r) => {
      const rec = parsed(r);
      if (rec) return handle(rec);
      deps.log.warn({ topic: r.topic, partition: r.partition, offset: r.offset }, 'skipped a delivery-tier record that is not an attempt');
    },
    concurrency: 6,
    sessionTimeoutMs: deps.sessionTimeoutMs,
    heartbeatIntervalMs: deps.heartbeatIntervalMs,
  });
}
