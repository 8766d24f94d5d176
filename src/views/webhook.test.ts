// Outbound webhook endpoints and deliveries as the REST API shows them: the attempts in order without the markers
// older documents kept next to an outcome, the payload as sent, and none of the key or scheduling bookkeeping.
import { describe, expect, test } from 'vitest';
import { type AttemptDoc, type DeliveryDoc, type EndpointDoc } from '../store/webhooks.ts';
import { Delivery, deliveryView, Endpoint, endpointView } from './webhook.ts';

const t0 = new Date('2026-03-01T10:00:00.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

const attempt = (round: number, n: number, outcome: AttemptDoc['outcome'], s: number): AttemptDoc => ({
  round,
  n,
  at: at(s),
  outcome,
  status_code: outcome === 'success' ? 200 : outcome === 'failure' ? 503 : null,
  latency_ms: outcome === 'in_flight' ? null : 12,
  error: outcome === 'failure' ? 'HTTP 503' : null,
  error_code: outcome === 'failure' ? 'http_status' : null,
  response_body: null,
  retry_after_ms: outcome === 'failure' ? 30_000 : null,
});

const payload = { id: 'evt_1', type: 'message.status', data: { wamid: 'wamid.out1' } };

const delivery = (attempts: AttemptDoc[], extra: Partial<DeliveryDoc> = {}): DeliveryDoc => ({
  _id: 'dlv_1',
  endpoint_id: 'end_1',
  key_id: 'key_1',
  account_id: 'acc_1',
  event_id: 'evt_1',
  category: 'message.status',
  body: JSON.stringify(payload),
  status: 'pending',
  round: 1,
  attempts,
  next_attempt_at: at(90),
  queued_attempt: 3,
  queued_tier: 1,
  delivered_at: null,
  failed_at: null,
  failure_reason: null,
  created_at: t0,
  changed_at: at(60),
  ...extra,
});

describe('views > webhook', () => {
  test('attempts by round, then number; an in_flight marker next to the outcome of the same attempt is left out, one without is kept', () => {
    const view = deliveryView(
      delivery([
        attempt(1, 2, 'failure', 40),
        attempt(0, 1, 'success', 5),
        attempt(1, 1, 'in_flight', 10),
        attempt(1, 1, 'failure', 11),
        // Sent, then the worker crashed: the outcome is unknown.
        attempt(1, 3, 'in_flight', 50),
      ]),
    );
    expect(view.attempts.map((a) => [a.round, a.n, a.outcome])).toEqual([
      [0, 1, 'success'],
      [1, 1, 'failure'],
      [1, 2, 'failure'],
      [1, 3, 'in_flight'],
    ]);
    expect(view.attempt_count).toBe(4);
  });

  test('a delivery shows the payload as sent and its attempts; keys, rounds, queue marks and Retry-After stay out', () => {
    const view = deliveryView(delivery([attempt(1, 1, 'failure', 11)]));
    expect(view).toEqual({
      id: 'dlv_1',
      endpoint_id: 'end_1',
      event_id: 'evt_1',
      category: 'message.status',
      status: 'pending',
      failure_reason: null,
      created_at: '2026-03-01T10:00:00.000Z',
      delivered_at: null,
      failed_at: null,
      next_attempt_at: '2026-03-01T10:01:30.000Z',
      attempt_count: 1,
      attempts: [
        {
          round: 1,
          n: 1,
          at: '2026-03-01T10:00:11.000Z',
          outcome: 'failure',
          status_code: 503,
          latency_ms: 12,
          error: 'HTTP 503',
          error_code: 'http_status',
          response_body: null,
          request_headers: null,
          directive: null,
        },
      ],
      payload,
      updated_at: '2026-03-01T10:01:00.000Z',
    });
    expect(Delivery.parse(view)).toEqual(view);
  });

  test('an endpoint shows its state, not the account or key it belongs to', () => {
    const doc: EndpointDoc = {
      _id: 'end_1',
      account_id: 'acc_1',
      key_id: 'key_1',
      url: 'https://example.com/hook',
      categories: ['message.status'],
      enabled: false,
      disabled_at: at(100),
      disabled_reason: 'failing for 3 days',
      failing_since: at(-259_200),
      created_at: at(-345_600),
      updated_at: at(100),
    };
    const view = endpointView(doc);
    expect(view).toEqual({
      id: 'end_1',
      url: 'https://example.com/hook',
      categories: ['message.status'],
      subscriptions: [{ type: 'message.status', version: 1, filter: null }], // from before subscriptions: every event, v1
      rate_limit_per_second: null,
      enabled: false,
      disabled_at: '2026-03-01T10:01:40.000Z',
      disabled_reason: 'failing for 3 days',
      failing_since: '2026-02-26T10:00:00.000Z',
      created_at: '2026-02-25T10:00:00.000Z',
      updated_at: '2026-03-01T10:01:40.000Z',
    });
    expect(Endpoint.parse(view)).toEqual(view);
    const filtered = { type: 'message.status' as const, version: 2, filter: { statuses: ['failed'] } };
    expect(endpointView({ ...doc, subscriptions: [filtered] }).subscriptions).toEqual([filtered]);
    expect(endpointView({ ...doc, enabled: true, disabled_at: null, disabled_reason: null, failing_since: null })).toMatchObject({
      enabled: true,
      disabled_at: null,
      failing_since: null,
    });
  });
});
