// Plans deliveries: for each notification, one delivery per enabled endpoint of the WABA's account subscribed to its
// category (owned by a live API key), stored first, then its first attempt queued on the attempt topic. Per batch:
// one insertMany of the new deliveries, one producer send of their first attempts (each carrying what sending needs:
// src/delivery/record.ts). A notification seen twice (a crash before the offsets were committed) finds its
// deliveries already there.
import { type Clock } from '../core/clock.ts';
import { type Logger } from '../core/log.ts';
import { type EventProducer, type Events, type RunningConsumer } from '../events/port.ts';
import { decodeJson, type AttemptRecord, type Category, type Notification } from '../events/outbound.ts';
import { renderData } from '../views/webhook-events.ts';
import { subscriptionFor, subscriptionsOf } from './subscriptions.ts';
import { createDirectory, type Directory } from './directory.ts';
import { type ProgressCache } from './progress.ts';
import { queueAttempts } from './queue.ts';
import { attemptRecordOf } from './record.ts';
import { type Topics } from '../events/topics.ts';
import { type AccountStore } from '../store/accounts.ts';
import { deliveryIdOf, type DeliveryDoc, type EndpointDoc, type WebhookStore } from '../store/webhooks.ts';
import { buildEnvelope } from './envelope.ts';

export type PlannerDeps = Readonly<{
  events: Pick<Events, 'runBatchConsumer'>;
  groupId: string;
  topics: Topics;
  webhooks: Pick<WebhookStore, 'subscribed' | 'insertDeliveries' | 'deliveriesByIds' | 'endpointsByIds'>;
  accounts: Pick<AccountStore, 'ownerOf' | 'liveSigningSecret'>;
  producer: EventProducer;
  clock: Clock;
  log: Logger;
  /** DELIVERY_PARTITION_CONCURRENCY: notification partitions planned at once (each batch is a few round trips,
   *  whatever its size). */
  concurrency: number;
  /** KAFKA_PRODUCE_TIMEOUT_MS for queueing first attempts. */
  produceTimeoutMs: number;
  /** Shared with the worker of the same process (src/delivery/role.ts): it then knows the deliveries planned here. */
  directory?: Directory;
  progress?: ProgressCache;
  cacheTtlMs?: number;
}>;

/** The exact body of a notification in payload version `version`. */
export const eventBody = (n: Pick<Notification, 'id' | 'category' | 'created_at' | 'data'>, version: number, test = false): string =>
  buildEnvelope({
    id: n.id,
    category: n.category,
    createdAt: new Date(n.created_at),
    data: renderData(n.category, version, n.data),
    version,
    test,
  }).body;

/** A new delivery of an event to an endpoint, waiting for its first attempt (also for test events). */
export function newDelivery(
  ep: Pick<EndpointDoc, '_id' | 'key_id' | 'account_id'>,
  event: { id: string; category: Category; body: string },
  now: Date,
): DeliveryDoc {
  return {
    _id: deliveryIdOf(ep._id, event.id),
    endpoint_id: ep._id,
    key_id: ep.key_id,
    account_id: ep.account_id,
    event_id: event.id,
    category: event.category,
    body: event.body,
    status: 'pending',
    round: 1,
    attempts: [],
    next_attempt_at: now,
    queued_attempt: 1,
    queued_tier: 0,
    delivered_at: null,
    failed_at: null,
    failure_reason: null,
    created_at: now,
    changed_at: now,
  };
}

/** Plans a batch of notifications: their deliveries stored in one insertMany, their first attempts to queue. */
export async function planBatch(
  deps: Pick<PlannerDeps, 'webhooks' | 'accounts' | 'clock'> & { directory: Directory },
  notes: readonly Notification[],
): Promise<{ record: AttemptRecord; tier: number }[]> {
  if (notes.length === 0) return [];
  const now = deps.clock.now();
  // One lookup per WABA, per (account, category) and per key of the batch, side by side.
  const wabas = [...new Set(notes.map((n) => n.waba_id))];
  const owners = new Map(await Promise.all(wabas.map(async (w) => [w, await deps.accounts.ownerOf(w)] as const)));
  const pairs = [...new Set(notes.flatMap((n) => (owners.get(n.waba_id) ? [`${owners.get(n.waba_id)}|${n.category}`] : [])))];
  const subscribed = new Map(
    await Promise.all(
      pairs.map(async (p) => {
        const [accountId, category] = p.split('|') as [string, string];
        return [p, await deps.webhooks.subscribed(accountId, category)] as const;
      }),
    ),
  );
  const secrets = await deps.directory.secrets([...subscribed.values()].flat().map((e) => e.key_id)); // a revoked key's endpoints get nothing
  const docs = new Map<string, DeliveryDoc>();
  for (const n of notes) {
    const accountId = owners.get(n.waba_id);
    if (!accountId) continue;
    const eps = (subscribed.get(`${accountId}|${n.category}`) ?? []).filter((ep) => secrets.has(ep.key_id));
    const bodies = new Map<number, string>(); // by payload version: rendered once per notification
    for (const ep of eps) {
      const sub = subscriptionFor(subscriptionsOf(ep), n);
      if (!sub) continue; // filtered out (only failed statuses, one phone number, ...)
      if (!bodies.has(sub.version)) bodies.set(sub.version, eventBody(n, sub.version));
      const doc = newDelivery(ep, { id: n.id, category: n.category, body: bodies.get(sub.version)! }, now);
      docs.set(doc._id, doc);
    }
  }
  const existed = await deps.webhooks.insertDeliveries([...docs.values()]);
  // Planned before (a crash before the offsets were committed): queued again only while nothing was attempted.
  const before = existed.size > 0 ? await deps.webhooks.deliveriesByIds([...existed]) : new Map<string, DeliveryDoc>();
  const out: { record: AttemptRecord; tier: number }[] = [];
  for (const doc of docs.values()) {
    const d = existed.has(doc._id) ? before.get(doc._id) : doc;
    if (d && d.status === 'pending' && d.round === 1 && d.attempts.length === 0)
      out.push({ record: attemptRecordOf(d, 1, now.getTime()), tier: 0 });
  }
  return out;
}

export async function startPlanner(deps: PlannerDeps): Promise<RunningConsumer> {
  const log = deps.log.child({ component: 'delivery-planner' });
  const directory =
    deps.directory ??
    createDirectory({
      webhooks: deps.webhooks,
      accounts: deps.accounts,
      ttlMs: deps.cacheTtlMs ?? 2000,
      clock: deps.clock,
    });
  return deps.events.runBatchConsumer({
    groupId: deps.groupId,
    topics: [deps.topics.notifications],
    log,
    concurrency: deps.concurrency,
    async handleBatch(records) {
      const notes: Notification[] = [];
      for (const r of records) {
        try {
          notes.push(decodeJson<Notification>(r.value, 'notification'));
        } catch {
          log.warn({ topic: r.topic, partition: r.partition, offset: r.offset }, 'skipped a notification record that is not JSON');
        }
      }
      const attempts = await planBatch({ ...deps, directory }, notes);
      if (attempts.length === 0) return;
      // The worker of this process knows these deliveries wait for attempt 1 (no read of them before sending). Noted
      // before queueing, so that the worker never finds them unknown; a failed send retries the batch, which queues
      // them again (they still have no attempt).
      for (const { record } of attempts) {
        deps.progress?.set(record.delivery_id, { round: 1, status: 'pending', queued: 1, dueAt: record.due_at, tier: 0, produced: true });
      }
      await queueAttempts(deps.producer, deps.topics, attempts, { timeoutMs: deps.produceTimeoutMs });
      log.debug({ count: attempts.length }, 'deliveries planned');
    },
  });
}
