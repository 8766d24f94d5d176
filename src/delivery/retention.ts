// The attempt log's retention (and the endpoints' health buckets and notices): deliveries that ended (delivered or failed) and did not change for
// DELIVERY_RETENTION_DAYS are deleted, with every attempt they hold, by a sweep every
// DELIVERY_RETENTION_SWEEP_SECONDS in each delivery process (the first one at start). Sweeps of several processes
// overlap harmlessly: a delete by filter is idempotent. Pending deliveries are never swept, whatever their age (a
// delivery only waits 7 h 12 m at most between attempts). A failed sweep is logged and tried at the next one.
import { type Clock } from '../core/clock.ts';
import { type Logger } from '../core/log.ts';
import { type Metrics } from '../core/metrics.ts';
import { type EndpointHealthStore } from '../store/endpoint-health.ts';
import { type EndpointRates } from '../store/endpoint-rates.ts';
import { type WebhookStore } from '../store/webhooks.ts';

export type RetentionJob = { stop(): Promise<void>; sweep(): Promise<number> };

export function startRetentionJob(deps: {
  webhooks: Pick<WebhookStore, 'pruneDeliveries'>;
  /** Its stats buckets and notices go with the same retention. */
  health: Pick<EndpointHealthStore, 'prune'>;
  /** Rate-limit counters older than a minute. */
  rates: Pick<EndpointRates, 'prune'>;
  clock: Clock;
  retentionMs: number;
  everyMs: number;
  log: Logger;
  metrics: Pick<Metrics, 'deliveriesPruned'>;
}): RetentionJob {
  const log = deps.log.child({ component: 'delivery-retention' });
  let running: Promise<number> | null = null;
  const sweep = (): Promise<number> => {
    running ??= (async () => {
      const before = new Date(deps.clock.now().getTime() - deps.retentionMs);
      try {
        const minuteAgo = new Date(deps.clock.now().getTime() - 60_000);
        const [n] = await Promise.all([deps.webhooks.pruneDeliveries(before), deps.health.prune(before), deps.rates.prune(minuteAgo)]);
        deps.metrics.deliveriesPruned.inc(n);
        if (n > 0) log.info({ deleted: n, before: before.toISOString() }, 'deleted deliveries past their retention');
        return n;
      } catch (err) {
        log.warn({ err }, 'the retention sweep failed; it runs again at the next interval');
        return 0;
      } finally {
        running = null;
      }
    })();
    return running;
  };
  const timer = setInterval(() => void sweep(), deps.everyMs);
  timer.unref();
  void sweep();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
