// Plans deliveries: for each notification, one delivery per enabled endpoint of the WABA's account subscribed to its
// category (owned by a live API key), stored first, then its first attempt queued on the attempt topic.
// A notification seen twice (a crash before the offsets were committed) finds its deliveries already there.
import { type Kafka } from 'kafkajs';
import { type Logger } from '../core/log.ts';
import { runBatchConsumer, type EventProducer, type RunningConsumer } from '../events/kafka.ts';
import { decodeJson, type AttemptRecord, type Notification } from '../events/outbound.ts';
import { queueAttempts } from './queue.ts';
import { type Topics } from '../events/topics.ts';
import { type AccountStore } from '../store/accounts.ts';
import { deliveryIdOf, type DeliveryDoc, type WebhookStore } from '../store/webhooks.ts';
import { buildEnvelope } from './envelope.ts';

export type PlannerDeps = Readonly<{
  kafka: Kafka;
  groupId: string;
  topics: Topics;
  webhooks: WebhookStore;
  accounts: Pick<AccountStore, 'ownerOf' | 'liveSigningSecret'>;
  producer: EventProducer;
  now: () => Date;
  log: Logger;
}>;

export async function planDeliveries(deps: Omit<PlannerDeps, 'kafka' | 'groupId' | 'log'>, n: Notification): Promise<AttemptRecord[]> {
  const accountId = await deps.accounts.ownerOf(n.waba_id);
  if (!accountId) return [];
  const now = deps.now();
  const { body } = buildEnvelope({ id: n.id, category: n.category, createdAt: new Date(n.created_at), data: n.data });
  const out: AttemptRecord[] = [];
  for (const ep of await deps.webhooks.subscribed(accountId, n.category)) {
    if ((await deps.accounts.liveSigningSecret(ep.key_id)) === null) continue; // the key was revoked
    const doc: DeliveryDoc = {
      _id: deliveryIdOf(ep._id, n.id), endpoint_id: ep._id, key_id: ep.key_id, account_id: accountId, event_id: n.id,
      category: n.category, body, status: 'pending', round: 1, attempts: [], next_attempt_at: now, queued_attempt: 1,
      delivered_at: null, failed_at: null, failure_reason: null, created_at: now, changed_at: now,
    };
    const fresh = await deps.webhooks.insertDelivery(doc);
    const existing = fresh ? doc : await deps.webhooks.delivery(doc._id);
    // Queued again only while nothing was attempted (the crash came between storing and queueing).
    if (existing && existing.status === 'pending' && existing.round === 1 && existing.attempts.length === 0) {
      out.push({ delivery_id: doc._id, round: 1, attempt: 1, due_at: now.getTime() });
    }
  }
  return out;
}

export async function startPlanner(deps: PlannerDeps): Promise<RunningConsumer> {
  const log = deps.log.child({ component: 'delivery-planner' });
  return runBatchConsumer({
    kafka: deps.kafka,
    groupId: deps.groupId,
    topics: [deps.topics.notifications],
    log,
    concurrency: 2,
    async handleBatch(records, heartbeat) {
      const attempts: AttemptRecord[] = [];
      for (const r of records) {
        let n: Notification;
        try {
          n = decodeJson<Notification>(r.value, 'notification');
        } catch {
          log.warn({ topic: r.topic, partition: r.partition, offset: r.offset }, 'skipped a notification record that is not JSON');
          continue;
        }
        attempts.push(...(await planDeliveries(deps, n)));
        await heartbeat(); // a long batch on a slow store must not outlive the session timeout
      }
      if (attempts.length === 0) return;
      await queueAttempts(deps.producer, deps.topics, attempts.map((record) => ({ record, tier: 0 })));
      log.debug({ count: attempts.length }, 'deliveries planned');
    },
  });
}
