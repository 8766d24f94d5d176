// Attempts deliveries, a due batch at a time (the events port's due consumer, src/events/kafka/due-consumer.ts). Each attempt record carries what sending
// needs (src/delivery/record.ts); endpoints and secrets come from memory (src/delivery/directory.ts). Per batch:
//   1. judge each record against where its delivery stands (src/delivery/progress.ts); what this process does not
//      know, and records without their body (too large, or queued before 0010), are read from the store in one go;
//   2. send the due attempts concurrently, a delivery's records in order (heartbeats meanwhile: the due consumer),
//      signed with the key secret and the endpoint's Standard Webhooks secrets (read once per batch); an attempt to
//      an endpoint whose circuit is open or whose rate limit is used up is deferred, unsent (src/delivery/breaker.ts);
//   3. note each endpoint's health once (its counts over time, and notices: failing, disabled, recovered), then
//      store every outcome in one bulkWrite (each update applies only while
//      its delivery still waits for that attempt of that round), queue the next attempts in one producer send;
//   4. the due consumer commits the offsets.
// A crash before 3 stored the outcomes sends that batch's attempts again (same event id and attempt number:
// receivers dedupe); a crash after it sends nothing again (a restarted worker reads those deliveries, finds the
// outcomes and only queues successors that may be missing). docs/decisions/0010-delivery-round-trips.md.
import { type Clock } from '../core/clock.ts';
import { type Logger } from '../core/log.ts';
import { type Metrics } from '../core/metrics.ts';
import { type ConsumedRecord, type EventProducer, type Events, type RunningConsumer } from '../events/port.ts';
import { type AttemptRecord } from '../events/outbound.ts';
import { type Topics } from '../events/topics.ts';
import { type AccountStore } from '../store/accounts.ts';
import { type EndpointHealthStore, type NoticeKind } from '../store/endpoint-health.ts';
import { RATE_WINDOW_MS, type EndpointRates } from '../store/endpoint-rates.ts';
import { createBreakers, type BreakerOptions } from './breaker.ts';
import { type DeliveryDoc, type WebhookStore } from '../store/webhooks.ts';
import { createDirectory, type Directory } from './directory.ts';
import { KEYS_AT_ONCE, runKeyed } from './lanes.ts';
import { signatureHeaders } from './envelope.ts';
import { standardHeaders } from './standard-signature.ts';
import { batchWrites, endpointHealth, samplesByEndpoint, type Handled } from './outcomes.ts';
import { createProgressCache, judge, progressOf, type ProgressCache, type Verdict } from './progress.ts';
import { queueAttempts } from './queue.ts';
import { attemptRecordOf, isSendable, parseAttemptRecord, type SendableRecord } from './record.ts';
import { type AttemptOutcome } from './send.ts';

export type Sender = { send(url: string, body: string, headers: Record<string, string>): Promise<AttemptOutcome> };

export type WorkerDeps = Readonly<{
  topics: Topics;
  webhooks: Pick<
    WebhookStore,
    'deliveriesByIds' | 'applyUpdates' | 'endpointsByIds' | 'noteSuccess' | 'noteFailure' | 'liveSecretsOf' | 'claimFailingNotice'
  >;
  /** Endpoint health over time and notices (src/store/endpoint-health.ts). */
  health: Pick<EndpointHealthStore, 'count' | 'notice'>;
  /** ENDPOINT_FAILING_NOTICE_SECONDS in ms: a streak of failures this long writes a `failing` notice. */
  failingNoticeAfterMs: number;
  accounts: Pick<AccountStore, 'liveSigningSecret'>;
  sender: Sender;
  producer: EventProducer;
  clock: Clock;
  delayScale: number;
  disableAfterMs: number;
  log: Logger;
  metrics: Pick<Metrics, 'deliveryAttempts' | 'endpointsDisabled'>;
  /** KAFKA_PRODUCE_TIMEOUT_MS for queueing the next attempts. */
  produceTimeoutMs: number;
  /** DELIVERY_CACHE_TTL_MS for endpoints and secrets (default 2000); ignored when `directory` is given. */
  cacheTtlMs?: number;
  /** Shared with the planner of the same process (src/delivery/role.ts); each worker has its own otherwise. */
  directory?: Directory;
  progress?: ProgressCache;
  /** Per-endpoint rate limits shared by every delivery process (src/store/endpoint-rates.ts). */
  rates: Pick<EndpointRates, 'take'>;
  /** DELIVERY_BREAKER_FAILURES and DELIVERY_BREAKER_COOLDOWN_MS (src/delivery/breaker.ts). */
  breaker: BreakerOptions;
  /** The jitter of retry delays (src/delivery/schedule.ts); default Math.random. */
  random?: () => number;
  /** Deliveries of one partition sent at once; default KEYS_AT_ONCE. */
  keysAtOnce?: number;
}>;

type Item = { rec: AttemptRecord; verdict: Verdict };

/** Failures that hold a worker lane for long (no answer, or one that dribbles in): what the circuit breaker counts. */
const SLOW_FAILURES: ReadonlySet<string> = new Set(['timeout', 'connection', 'response_too_slow']);

/** Handles one due batch (exported for tests with fakes at the ports). */
export function createBatchHandler(deps: WorkerDeps) {
  const log = deps.log.child({ component: 'delivery-worker' });
  const directory =
    deps.directory ??
    createDirectory({
      webhooks: deps.webhooks,
      accounts: deps.accounts,
      ttlMs: deps.cacheTtlMs ?? 2000,
      clock: deps.clock,
    });
  const progress = deps.progress ?? createProgressCache();
  /** The latest due time this process queued on each retry tier (src/delivery/outcomes.ts batchWrites). */
  let lastDue: ReadonlyMap<number, number> = new Map();
  // The cooldown is a wait like the retry delays: DELIVERY_DELAY_SCALE shrinks it too (tests), at least 10 ms.
  const breakers = createBreakers({ ...deps.breaker, cooldownMs: Math.max(10, Math.round(deps.breaker.cooldownMs * deps.delayScale)) });
  const parsedOf = new WeakMap<Buffer, AttemptRecord | null>();

  function parse(r: ConsumedRecord): AttemptRecord | null {
    if (r.value === null) return null;
    if (!parsedOf.has(r.value)) parsedOf.set(r.value, parseAttemptRecord(r.value));
    return parsedOf.get(r.value)!;
  }

  /** Records to queue again: `requeue` verdicts (their body carried, or read in step 1). */
  function requeues(items: readonly Item[], docs: ReadonlyMap<string, DeliveryDoc>): { record: AttemptRecord; tier: number }[] {
    const out: { record: AttemptRecord; tier: number }[] = [];
    for (const { rec, verdict: v } of items) {
      if (v.kind !== 'requeue') continue;
      const d = docs.get(rec.delivery_id);
      if (!isSendable(rec) && !d) continue; // gone from the store
      const ref = isSendable(rec) ? { ...rec, _id: rec.delivery_id } : d!;
      out.push({ record: attemptRecordOf(ref, v.attempt, v.dueAt), tier: v.tier });
    }
    if (out.length > 0)
      log.info({ count: out.length }, 'queued again the next attempts of records seen twice (their outcomes were stored)');
    return out;
  }

  async function handleBatch(records: readonly ConsumedRecord[]): Promise<void> {
    // 1. What to do with each record; one read of what is not known here.
    const items = new Map<string, Item>(); // by delivery|round|attempt: a repeated record in one batch counts once
    const keyOf = new Map<string, string>(); // record offset -> item key
    for (const r of records) {
      const rec = parse(r);
      if (!rec) {
        log.warn({ topic: r.topic, partition: r.partition, offset: r.offset }, 'skipped a delivery-tier record that is not an attempt');
        continue;
      }
      const k = `${rec.delivery_id}|${rec.round}|${rec.attempt}`;
      keyOf.set(r.offset, k);
      if (!items.has(k)) items.set(k, { rec, verdict: judge(rec, progress.get(rec.delivery_id), false) });
    }
    const toRead = [...items.values()].filter((i) => i.verdict.kind === 'unknown' || (i.verdict.kind !== 'skip' && !isSendable(i.rec)));
    const docs =
      toRead.length > 0 ? await deps.webhooks.deliveriesByIds(toRead.map((i) => i.rec.delivery_id)) : new Map<string, DeliveryDoc>();
    if (toRead.length > 0) {
      for (const i of toRead) {
        const d = docs.get(i.rec.delivery_id);
        const p = d ? progressOf(d, deps.delayScale) : undefined;
        if (p) progress.set(i.rec.delivery_id, p);
        i.verdict = judge(i.rec, p, true);
        if (d && i.verdict.kind !== 'skip')
          i.rec = { ...i.rec, endpoint_id: d.endpoint_id, key_id: d.key_id, event_id: d.event_id, body: d.body };
        if (d && i.verdict.kind === 'send' && d.attempts.some((a) => a.round === i.rec.round && a.n === i.rec.attempt)) {
          log.warn(
            { delivery: d._id, eventId: d.event_id, attempt: i.rec.attempt },
            'sending again an attempt whose outcome is unknown (a worker stopped mid-attempt)',
          );
        }
      }
    }
    for (const i of items.values()) {
      if (i.verdict.kind === 'skip' && i.verdict.why === 'ahead')
        log.warn(
          {
            delivery: i.rec.delivery_id,
            eventId: isSendable(i.rec) ? i.rec.event_id : undefined,
            round: i.rec.round,
            attempt: i.rec.attempt,
          },
          'skipped an attempt record its delivery does not wait for',
        );
    }

    try {
      await sendAndStore(records, items, keyOf, docs);
    } catch (err) {
      // What this batch changed is not known here any more: its retry reads those deliveries from the store.
      for (const i of items.values()) progress.delete(i.rec.delivery_id);
      throw err;
    }
  }

  async function sendAndStore(
    records: readonly ConsumedRecord[],
    items: Map<string, Item>,
    keyOf: Map<string, string>,
    docs: ReadonlyMap<string, DeliveryDoc>,
  ): Promise<void> {
    // 2. Send, with endpoints and secrets from memory (misses in one go).
    const sendable = [...items.values()].filter((i) => i.verdict.kind === 'send').map((i) => i.rec as SendableRecord);
    const endpointIds = sendable.map((r) => r.endpoint_id);
    // Endpoints from memory (usually no round trip); then, side by side, the secrets read fresh per batch (a
    // rotation signs from the next batch on) and the rate-limit grants: one round trip in all.
    const endpoints = await directory.endpoints(endpointIds);
    // Rate-limited endpoints: what each may take of this batch, from the shared per-second counter (one call each).
    const limited = new Map<string, { limit: number; want: number }>();
    for (const r of sendable) {
      const ep = endpoints.get(r.endpoint_id);
      if (!ep?.enabled || !ep.rate_limit_per_second) continue;
      const l = limited.get(ep._id) ?? { limit: ep.rate_limit_per_second, want: 0 };
      l.want++;
      limited.set(ep._id, l);
    }
    const batchStart = deps.clock.now();
    const [secrets, endpointSecrets, grants] = await Promise.all([
      directory.secrets([...endpoints.values()].filter((e) => e.enabled).map((e) => e.key_id)),
      endpointIds.length > 0 ? deps.webhooks.liveSecretsOf(endpointIds, batchStart) : new Map<string, string[]>(),
      Promise.all(
        [...limited].map(async ([id, l]) => {
          const grant: { limit: number; granted: number; denied: number } = {
            limit: l.limit,
            granted: await deps.rates.take(id, batchStart, l.want, l.limit),
            denied: 0,
          };
          return [id, grant] as const;
        }),
      ).then((entries) => new Map(entries)),
    ]);
    const nextWindow = (Math.floor(batchStart.getTime() / RATE_WINDOW_MS) + 1) * RATE_WINDOW_MS;
    const handled: Handled[] = [];
    const sendOne = async (r: ConsumedRecord) => {
      const k = keyOf.get(r.offset);
      const item = k === undefined ? undefined : items.get(k);
      if (!item || item.verdict.kind !== 'send') return;
      item.verdict = { kind: 'skip', why: 'handled' }; // a repeat of it later in this batch is not sent again
      const rec = item.rec as SendableRecord;
      const tier = String(Math.max(0, deps.topics.deliveryTiers.indexOf(r.topic)));
      const refuse = (reason: Extract<Handled, { kind: 'refused' }>['reason']) => {
        deps.metrics.deliveryAttempts.inc({ outcome: `refused_${reason}`, tier });
        handled.push({ kind: 'refused', rec, reason });
      };
      const ep = endpoints.get(rec.endpoint_id);
      if (!ep) return refuse('endpoint_deleted');
      if (!ep.enabled) return refuse('endpoint_disabled');
      const secret = secrets.get(ep.key_id);
      if (secret === undefined) return refuse('api_key_revoked');
      const defer = (reason: Extract<Handled, { kind: 'deferred' }>['reason'], dueAt: number) => {
        deps.metrics.deliveryAttempts.inc({ outcome: `deferred_${reason}`, tier });
        handled.push({ kind: 'deferred', rec, dueAt, reason });
      };
      // Isolation (src/delivery/breaker.ts): an open circuit, or the rate limit used up, defers the attempt unsent.
      const admission = breakers.admit(ep._id, deps.clock.now().getTime());
      if (!admission.send)
        return defer('circuit_open', admission.until + Math.round((deps.random ?? Math.random)() * 1000 * deps.delayScale));
      const grant = grants.get(ep._id);
      if (grant) {
        if (grant.granted > 0) grant.granted--;
        else return defer('rate_limited', nextWindow + Math.floor(grant.denied++ / grant.limit) * RATE_WINDOW_MS);
      }
      const at = deps.clock.now();
      // Standard Webhooks headers next to the product page's: endpoints created before them have no secret of their own yet.
      const own = endpointSecrets.get(ep._id) ?? [];
      const headers = {
        ...signatureHeaders({ body: rec.body, secret, eventId: rec.event_id, timestamp: at, attempt: rec.attempt }),
        ...(own.length > 0 ? standardHeaders({ secrets: own, id: rec.event_id, timestamp: at, body: rec.body }) : {}),
      };
      const outcome = await deps.sender.send(ep.url, rec.body, headers);
      deps.metrics.deliveryAttempts.inc({ outcome: outcome.ok ? 'success' : outcome.error_code, tier });
      // Only failures that cost this worker time count for the circuit (a quick 4xx/5xx answer costs nothing).
      breakers.record(ep._id, outcome.ok || !SLOW_FAILURES.has(outcome.error_code), deps.clock.now().getTime());
      if (!outcome.ok)
        log.debug(
          {
            topic: r.topic,
            partition: r.partition,
            offset: r.offset,
            eventId: rec.event_id,
            delivery: rec.delivery_id,
            attempt: rec.attempt,
          },
          `attempt failed: ${outcome.error_code}`,
        );
      handled.push({ kind: 'sent', rec, endpointId: ep._id, at, endedAt: deps.clock.now().getTime(), outcome, headers });
    };
    if (sendable.length > 0) await runKeyed(records, deps.keysAtOnce ?? KEYS_AT_ONCE, sendOne);

    // 3. Endpoint health once per endpoint, the outcomes in one bulk, the next attempts in one send.
    const now = deps.clock.now();
    const disabled = new Set<string>();
    const notice = (e: { _id: string; key_id: string }, kind: NoticeKind, detail: string) =>
      deps.health.notice({ endpoint_id: e._id, key_id: e.key_id, kind, at: now, detail });
    // The health counts beside the endpoints' notes, stored before the outcomes: a delivery shown delivered is counted.
    await Promise.all([
      ...[...samplesByEndpoint(handled)].map(([id, samples]) => deps.health.count(id, now, samples)),
      ...endpointHealth(handled).map(async (h) => {
        if (h.ok) {
          const recovered = await deps.webhooks.noteSuccess(h.endpointId);
          if (recovered?.failing_since)
            await notice(recovered, 'recovered', `delivering again after failing since ${recovered.failing_since.toISOString()}`);
          return;
        }
        const after = await deps.webhooks.noteFailure(h.endpointId, now, h.gone !== null ? 0 : deps.disableAfterMs, {
          since: h.since,
          restart: h.restart,
          ...(h.gone !== null ? { reason: h.gone } : {}),
        });
        if (after !== null && !after.enabled) {
          // noteFailure answers disabled also for an endpoint disabled earlier: counted by the call that disabled it.
          if (after.disabled_at?.getTime() === now.getTime()) {
            deps.metrics.endpointsDisabled.inc();
            log.warn({ endpoint: h.endpointId, reason: after.disabled_reason }, 'endpoint disabled');
            await notice(after, 'disabled', after.disabled_reason ?? 'disabled');
          }
          disabled.add(h.endpointId);
          directory.forget(h.endpointId);
        } else if (
          after?.failing_since &&
          now.getTime() - after.failing_since.getTime() >= deps.failingNoticeAfterMs &&
          after.failing_noticed !== true &&
          (await deps.webhooks.claimFailingNotice(h.endpointId))
        ) {
          await notice(after, 'failing', `every attempt failed since ${after.failing_since.toISOString()}`);
        }
      }),
    ]);
    const writes = batchWrites(handled, { now, scale: deps.delayScale, disabled, random: deps.random ?? Math.random, lastDue });
    // At once (no await in between): batches of other partitions in flight see it; the latest per tier wins.
    lastDue = new Map([...lastDue, ...[...writes.lastDue].filter(([tier, due]) => due > (lastDue.get(tier) ?? 0))]);
    const notApplied = await deps.webhooks.applyUpdates(writes.updates);
    for (const id of notApplied) {
      progress.delete(id);
      log.info({ delivery: id }, 'an outcome was not stored: the delivery had moved on (replayed, or stored by another member)');
    }
    const next = writes.next.filter((n) => !notApplied.has(n.record.delivery_id));
    // Successors of repeated records whose outcome was stored but whose successor may not have been queued.
    const again = await requeues([...items.values()], docs);
    await queueAttempts(deps.producer, deps.topics, [...next, ...again], { timeoutMs: deps.produceTimeoutMs });
    for (const [id, p] of writes.progress) if (!notApplied.has(id)) progress.set(id, { ...p, produced: true });
    for (const { record } of again) {
      const p = progress.get(record.delivery_id);
      if (p) progress.set(record.delivery_id, { ...p, produced: true });
    }
  }

  return { handleBatch, dueAt: (r: ConsumedRecord) => parse(r)?.due_at ?? 0, forget: () => progress.clear() };
}

export type WorkerOptions = WorkerDeps &
  Readonly<{
    events: Pick<Events, 'runDueConsumer'>;
    groupId: string;
    /** DELIVERY_PARTITION_CONCURRENCY: tier partitions worked at once. */
    concurrency: number;
    /** The worker group's session timeout and heartbeat interval; defaults 30000 and 3000 ms (tests shorten them). */
    sessionTimeoutMs?: number;
    heartbeatIntervalMs?: number;
  }>;

export async function startWorker(deps: WorkerOptions): Promise<RunningConsumer> {
  const handler = createBatchHandler(deps);
  return deps.events.runDueConsumer({
    groupId: deps.groupId,
    topics: deps.topics.deliveryTiers,
    log: deps.log.child({ component: 'delivery-worker' }),
    // A record that is not an attempt (written by hand, say) is due at once and skipped with a warning.
    dueAt: handler.dueAt,
    handleBatch: handler.handleBatch,
    // Records may now come from partitions another member handled: what this process knew is no longer enough.
    onOwnershipChange: handler.forget,
    concurrency: deps.concurrency,
    sessionTimeoutMs: deps.sessionTimeoutMs,
    heartbeatIntervalMs: deps.heartbeatIntervalMs,
    clock: deps.clock,
  });
}
