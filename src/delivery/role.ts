// The delivery role: the planner and the attempt worker of one process, sharing what they know (the endpoint and
// secret cache, and where each delivery stands), so that a delivery planned here is sent without a read of it.
import { type Clock } from '../core/clock.ts';
import { type Logger } from '../core/log.ts';
import { type Metrics } from '../core/metrics.ts';
import { type EventProducer, type Events, type RunningConsumer } from '../events/port.ts';
import { type Topics } from '../events/topics.ts';
import { type AccountStore } from '../store/accounts.ts';
import { type EndpointHealthStore } from '../store/endpoint-health.ts';
import { type EndpointRates } from '../store/endpoint-rates.ts';
import { type BreakerOptions } from './breaker.ts';
import { type WebhookStore } from '../store/webhooks.ts';
import { createDirectory } from './directory.ts';
import { startPlanner } from './planner.ts';
import { createProgressCache } from './progress.ts';
import { startWorker, type Sender } from './worker.ts';

export type DeliveryRoleDeps = Readonly<{
  events: Events;
  groupPrefix: string;
  topics: Topics;
  webhooks: WebhookStore;
  accounts: Pick<AccountStore, 'ownerOf' | 'liveSigningSecret'>;
  sender: Sender;
  producer: EventProducer;
  clock: Clock;
  delayScale: number;
  disableAfterMs: number;
  /** ENDPOINT_FAILING_NOTICE_SECONDS in ms. */
  failingNoticeAfterMs: number;
  health: EndpointHealthStore;
  rates: EndpointRates;
  breaker: BreakerOptions;
  /** DELIVERY_CACHE_TTL_MS. */
  cacheTtlMs: number;
  /** DELIVERY_PARTITION_CONCURRENCY, for the planner and the worker each. */
  concurrency: number;
  /** KAFKA_PRODUCE_TIMEOUT_MS. */
  produceTimeoutMs: number;
  log: Logger;
  metrics: Pick<Metrics, 'deliveryAttempts' | 'endpointsDisabled'>;
}>;

/** The role's consumer groups and what each reads (for the consumer-lag metrics: src/events/consumer-lag.ts). */
export const deliveryGroups = (groupPrefix: string, topics: Topics) =>
  [
    { groupId: `${groupPrefix}echocue.delivery.planner`, topics: [topics.notifications] },
    { groupId: `${groupPrefix}echocue.delivery.worker`, topics: topics.deliveryTiers },
  ] as const;

export async function startDeliveryRole(deps: DeliveryRoleDeps): Promise<RunningConsumer> {
  const directory = createDirectory({ webhooks: deps.webhooks, accounts: deps.accounts, ttlMs: deps.cacheTtlMs, clock: deps.clock });
  const progress = createProgressCache();
  const [plannerGroup, workerGroup] = deliveryGroups(deps.groupPrefix, deps.topics);
  const planner = await startPlanner({ ...deps, groupId: plannerGroup.groupId, directory, progress });
  try {
    const worker = await startWorker({ ...deps, groupId: workerGroup.groupId, directory, progress });
    return {
      health: () => [...planner.health(), ...worker.health()],
      stop: async () => {
        await planner.stop();
        await worker.stop();
      },
    };
  } catch (err) {
    await planner.stop().catch(() => undefined);
    throw err;
  }
}
