import { z } from 'zod';
import { CATEGORIES } from '../events/outbound.ts';
import { subscriptionsOf, type DeliveryDoc, type EndpointDoc } from '../store/webhooks.ts';
import { isoOrNull, timestamp } from './common.ts';
import { BUCKET_MS, latencyPercentile, type NoticeDoc, type StatDoc } from '../store/endpoint-health.ts';

export const Endpoint = z
  .object({
    id: z.string(),
    url: z.string(),
    categories: z.array(z.enum(CATEGORIES)).meta({ description: 'The event types subscribed to (the types of `subscriptions`).' }),
    subscriptions: z.array(
      z.object({
        type: z.enum(CATEGORIES),
        version: z.number().int().meta({ description: 'The payload version delivered (kept when newer ones appear).' }),
        filter: z
          .object({
            statuses: z.array(z.string()).optional(),
            template_events: z.array(z.string()).optional(),
            phone_number_ids: z.array(z.string()).optional(),
          })
          .nullable(),
      }),
    ),
    rate_limit_per_second: z.number().int().nullable().meta({ description: 'At most this many attempts per second; null: no limit.' }),
    enabled: z.boolean(),
    disabled_at: timestamp().nullable(),
    disabled_reason: z.string().nullable(),
    failing_since: timestamp().nullable().meta({ description: 'Start of the current run of failed attempts; null after a success.' }),
    created_at: timestamp(),
    updated_at: timestamp(),
  })
  .meta({ id: 'WebhookEndpoint' });

export const endpointView = (e: EndpointDoc): z.input<typeof Endpoint> => ({
  id: e._id,
  url: e.url,
  categories: e.categories as z.input<typeof Endpoint>['categories'],
  subscriptions: subscriptionsOf(e).map((x) => ({
    type: x.type as (typeof CATEGORIES)[number],
    version: x.version,
    filter: x.filter ? ({ ...x.filter } as { statuses?: string[]; template_events?: string[]; phone_number_ids?: string[] }) : null,
  })),
  rate_limit_per_second: e.rate_limit_per_second ?? null,
  enabled: e.enabled,
  disabled_at: isoOrNull(e.disabled_at),
  disabled_reason: e.disabled_reason,
  failing_since: isoOrNull(e.failing_since),
  created_at: e.created_at.toISOString(),
  updated_at: e.updated_at.toISOString(),
});

export const Attempt = z
  .object({
    round: z.number().int(),
    n: z.number().int(),
    at: timestamp(),
    outcome: z.enum(['in_flight', 'success', 'failure']),
    status_code: z.number().int().nullable(),
    latency_ms: z.number().nullable(),
    error: z.string().nullable(),
    error_code: z.enum(['timeout', 'connection', 'redirect', 'http_status', 'ssrf_refused', 'response_too_slow']).nullable(),
    response_body: z.string().nullable().meta({ description: 'The first 20 KB of the response body.' }),
    request_headers: z
      .record(z.string(), z.string())
      .nullable()
      .meta({ description: 'The headers EchoCue sent with this attempt (null for attempts stored before they were kept).' }),
    directive: z.enum(['abort-message', 'disable']).nullable().meta({
      description:
        'The `webhook-delivery` answer header of a failed attempt: abort-message stopped the retries, disable disabled the endpoint.',
    }),
  })
  .meta({ id: 'WebhookAttempt' });

export const Delivery = z
  .object({
    id: z.string(),
    endpoint_id: z.string(),
    event_id: z.string(),
    category: z.enum(CATEGORIES),
    status: z.enum(['pending', 'delivered', 'failed']),
    failure_reason: z.string().nullable(),
    created_at: timestamp(),
    delivered_at: timestamp().nullable(),
    failed_at: timestamp().nullable(),
    next_attempt_at: timestamp().nullable(),
    attempt_count: z.number().int(),
    attempts: z.array(Attempt),
    payload: z.record(z.string(), z.unknown()).meta({ description: 'The envelope as sent.' }),
    updated_at: timestamp(),
  })
  .meta({ id: 'WebhookDelivery' });

/** Attempts in order. Documents written before 0010 may hold an `in_flight` marker next to the outcome of the same
 *  attempt sent again after a crash: the outcome is shown, not the marker. */
function attemptsOf(d: DeliveryDoc): DeliveryDoc['attempts'] {
  const sorted = [...d.attempts].sort((a, b) => a.round - b.round || a.n - b.n);
  return sorted.filter(
    (a) => a.outcome !== 'in_flight' || !sorted.some((b) => b !== a && b.round === a.round && b.n === a.n && b.outcome !== 'in_flight'),
  );
}

export const deliveryView = (d: DeliveryDoc): z.input<typeof Delivery> => ({
  id: d._id,
  endpoint_id: d.endpoint_id,
  event_id: d.event_id,
  category: d.category as z.input<typeof Delivery>['category'],
  status: d.status,
  failure_reason: d.failure_reason,
  created_at: d.created_at.toISOString(),
  delivered_at: isoOrNull(d.delivered_at),
  failed_at: isoOrNull(d.failed_at),
  next_attempt_at: isoOrNull(d.next_attempt_at),
  attempt_count: attemptsOf(d).length,
  attempts: attemptsOf(d).map((a) => ({
    round: a.round,
    n: a.n,
    at: a.at.toISOString(),
    outcome: a.outcome,
    status_code: a.status_code,
    latency_ms: a.latency_ms,
    error: a.error,
    error_code: a.error_code as never,
    response_body: a.response_body,
    request_headers: a.request_headers ?? null,
    directive: a.directive ?? null,
  })),
  payload: JSON.parse(d.body) as Record<string, unknown>,
  updated_at: d.changed_at.toISOString(),
});

export const NewEndpoint = Endpoint.extend({
  signing_secret: z.string().meta({
    description:
      'The Standard Webhooks secret (whsec_…) that signs webhook-signature; shown again by GET /api/webhooks/endpoints/{id}/secret.',
  }),
}).meta({ id: 'NewWebhookEndpoint' });

export const EndpointSecret = z
  .object({
    endpoint_id: z.string(),
    secret: z.string().meta({ description: 'whsec_ + base64 of the HMAC-SHA256 key of webhook-signature (Standard Webhooks).' }),
    old_secrets_expire_at: timestamp()
      .nullable()
      .meta({ description: 'After a rotation with an overlap: until when the previous secrets sign too (a second v1 signature).' }),
  })
  .meta({ id: 'WebhookEndpointSecret' });

export const SigningSecret = z
  .object({ key_id: z.string(), signing_secret: z.string().meta({ description: 'HMAC-SHA256 key of X-EchoCue-Signature.' }) })
  .meta({ id: 'SigningSecret' });

export const EndpointHealth = z
  .object({
    endpoint_id: z.string(),
    bucket_seconds: z.number().int(),
    since: timestamp(),
    totals: z.object({ attempts: z.number().int(), successes: z.number().int(), success_rate: z.number().nullable() }),
    buckets: z.array(
      z.object({
        start: timestamp(),
        attempts: z.number().int(),
        successes: z.number().int(),
        failures: z.number().int(),
        success_rate: z.number().nullable().meta({ description: 'successes / attempts, 0 to 1.' }),
        latency_avg_ms: z.number().nullable(),
        latency_p50_ms: z
          .number()
          .nullable()
          .meta({ description: 'Upper bound of the histogram bucket (100, 250, 500 ms, 1, 2.5, 5, 10 s).' }),
        latency_p95_ms: z.number().nullable(),
        latency_max_ms: z.number().nullable(),
      }),
    ),
  })
  .meta({ id: 'WebhookEndpointHealth', description: 'Attempts per 5-minute bucket (buckets without attempts are left out).' });

export const endpointHealthView = (endpointId: string, since: Date, docs: readonly StatDoc[]): z.input<typeof EndpointHealth> => {
  const attempts = docs.reduce((a, d) => a + d.attempts, 0);
  const successes = docs.reduce((a, d) => a + d.successes, 0);
  return {
    endpoint_id: endpointId,
    bucket_seconds: BUCKET_MS / 1000,
    since: since.toISOString(),
    totals: { attempts, successes, success_rate: attempts === 0 ? null : successes / attempts },
    buckets: docs.map((d) => ({
      start: d.bucket.toISOString(),
      attempts: d.attempts,
      successes: d.successes,
      failures: d.attempts - d.successes,
      success_rate: d.attempts === 0 ? null : d.successes / d.attempts,
      latency_avg_ms: d.attempts === 0 ? null : Math.round(d.latency_sum_ms / d.attempts),
      latency_p50_ms: latencyPercentile(d, 50),
      latency_p95_ms: latencyPercentile(d, 95),
      latency_max_ms: d.attempts === 0 ? null : d.latency_max_ms,
    })),
  };
};

export const Notice = z
  .object({
    id: z.string(),
    endpoint_id: z.string(),
    kind: z.enum(['failing', 'disabled', 'recovered']).meta({
      description:
        'failing: every attempt failed for ENDPOINT_FAILING_NOTICE_SECONDS; disabled: EchoCue stopped delivering to it (re-enable it); recovered: a success after a failing notice.',
    }),
    at: timestamp(),
    detail: z.string(),
  })
  .meta({ id: 'WebhookNotice' });

export const noticeView = (n: NoticeDoc): z.input<typeof Notice> => ({
  id: n._id,
  endpoint_id: n.endpoint_id,
  kind: n.kind,
  at: n.at.toISOString(),
  detail: n.detail,
});
