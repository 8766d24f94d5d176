// Every metric EchoCue exports, created on a registry the composition root owns (no global default registry).
// docs/operations/metrics.md lists every family with its labels; docs/decisions/0017-metrics-and-logs.md says why.
import { Counter, Histogram, Registry } from 'prom-client';

export const METRIC = {
  webhookRequests: 'echocue_ingest_webhook_requests_total',
  webhookRejected: 'echocue_ingest_webhook_rejected_total',
  webhookIgnored: 'echocue_ingest_webhook_ignored_total',
  eventsProduced: 'echocue_ingest_events_produced_total',
  unownedWabaEvents: 'echocue_ingest_unowned_waba_events_total',
  ingestLatency: 'echocue_ingest_latency_seconds',
  actorEventsApplied: 'echocue_actor_events_applied_total',
  actorConflicts: 'echocue_actor_write_conflicts_total',
  actorDeadLettered: 'echocue_actor_events_dead_lettered_total',
  actorBatchApply: 'echocue_actor_batch_apply_seconds',
  consumerLag: 'echocue_kafka_consumer_lag',
  consumerCommitted: 'echocue_kafka_consumer_committed_offset',
  consumerLagScrapeErrors: 'echocue_kafka_consumer_lag_scrape_errors_total',
  storeCall: 'echocue_store_call_seconds',
  storeErrors: 'echocue_store_call_errors_total',
  deliveryAttempts: 'echocue_delivery_attempts_total',
  endpointsDisabled: 'echocue_delivery_endpoints_disabled_total',
  deliveriesPruned: 'echocue_delivery_deliveries_pruned_total',
  apiRequest: 'echocue_api_request_duration_seconds',
  apiRateLimited: 'echocue_api_rate_limited_total',
} as const;

/** Seconds, from 1 ms to 10 s: store calls, batches and API requests all fall in this range. */
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(registry = new Registry()) {
  return {
    registry,
    webhookRequests: new Counter({
      name: METRIC.webhookRequests,
      help: 'Webhook POSTs by HTTP status',
      labelNames: ['status'],
      registers: [registry],
    }),
    webhookRejected: new Counter({
      name: METRIC.webhookRejected,
      help: 'Webhook POSTs refused, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    webhookIgnored: new Counter({
      name: METRIC.webhookIgnored,
      help: 'Signed POSTs that are not WhatsApp Business Account payloads',
      registers: [registry],
    }),
    eventsProduced: new Counter({
      name: METRIC.eventsProduced,
      help: 'Events written to Kafka, by type',
      labelNames: ['event_type'],
      registers: [registry],
    }),
    unownedWabaEvents: new Counter({
      name: METRIC.unownedWabaEvents,
      help: 'Events of WABAs no EchoCue account owns',
      registers: [registry],
    }),
    ingestLatency: new Histogram({
      name: METRIC.ingestLatency,
      help: 'Webhook POST handling time until Kafka acknowledged every event',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    actorConflicts: new Counter({
      name: METRIC.actorConflicts,
      help: 'Actor batches whose fenced writes met a newer document (another member owned the partition); retried',
      registers: [registry],
    }),
    actorEventsApplied: new Counter({
      name: METRIC.actorEventsApplied,
      help: 'Events applied by the actors, by event type',
      labelNames: ['event_type'],
      registers: [registry],
    }),
    actorDeadLettered: new Counter({
      name: METRIC.actorDeadLettered,
      help: 'Events sent to the dead-letter topic, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    actorBatchApply: new Histogram({
      name: METRIC.actorBatchApply,
      help: 'Time to apply one partition batch (decode, store, notifications), by the event type of its topic and outcome (ok; error: retried; refused: applied again one event at a time)',
      labelNames: ['event_type', 'outcome'],
      buckets: SECONDS,
      registers: [registry],
    }),
    // One series per collection and command: the collections are EchoCue's fixed list (src/store/collections.ts).
    storeCall: new Histogram({
      name: METRIC.storeCall,
      help: 'MongoDB command round trips, by collection and command (find, insert, update, aggregate, ...)',
      labelNames: ['collection', 'operation'],
      buckets: SECONDS,
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: METRIC.storeErrors,
      help: 'MongoDB commands that failed or reported write errors, by collection, command and error code (server code, or the driver error name)',
      labelNames: ['collection', 'operation', 'code'],
      registers: [registry],
    }),
    deliveryAttempts: new Counter({
      name: METRIC.deliveryAttempts,
      help: 'Outbound webhook attempts, by outcome (success, http_status, timeout, connection, ..., or refused_* when nothing was sent) and tier (0: first attempt)',
      labelNames: ['outcome', 'tier'],
      registers: [registry],
    }),
    endpointsDisabled: new Counter({
      name: METRIC.endpointsDisabled,
      help: 'Outbound webhook endpoints disabled after failing continuously for ENDPOINT_DISABLE_AFTER_SECONDS',
      registers: [registry],
    }),
    deliveriesPruned: new Counter({
      name: METRIC.deliveriesPruned,
      help: 'Ended deliveries (with their attempts) deleted after DELIVERY_RETENTION_DAYS',
      registers: [registry],
    }),
    // `route` is the matched route pattern (/api/thread/:id), never the raw path: ids would make a series each.
    apiRequest: new Histogram({
      name: METRIC.apiRequest,
      help: 'REST API request handling time, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: SECONDS,
      registers: [registry],
    }),
    apiRateLimited: new Counter({
      name: METRIC.apiRateLimited,
      help: 'REST API requests refused with 429 because their API key spent its budget (API_RATE_LIMIT)',
      registers: [registry],
    }),
  };
}
