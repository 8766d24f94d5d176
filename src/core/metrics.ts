// Every metric EchoCue exports, created on a registry the composition root owns (no global default registry).
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
} as const;

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
  };
}
