// Outbound webhooks, managed by the API key that owns them: endpoints and their subscriptions, deliveries with
// every attempt, replays, and the key's signing secret. URLs pass the SSRF guard when registered (and again at
// every delivery, src/delivery/send.ts, since DNS can change).
import { z } from 'zod';
import { type Clock } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { attemptRecordOf } from '../../delivery/record.ts';
import { resolveAndCheck, type Resolver } from '../../delivery/ssrf-guard.ts';
import { CATEGORIES, type AttemptRecord, type Category } from '../../events/outbound.ts';
import { eventBody, newDelivery } from '../../delivery/planner.ts';
import { FILTER_TYPES, subscriptionsOf, type Subscription } from '../../delivery/subscriptions.ts';
import { EXAMPLES, isVersionOf, latestVersion } from '../../views/webhook-events.ts';
import { randomId } from '../../core/ids.ts';
import { type AccountStore } from '../../store/accounts.ts';
import { sortKeyOf } from '../../store/page.ts';
import { DELIVERY_ORDER, type DeliveryDoc, type WebhookStore } from '../../store/webhooks.ts';
import {
  Delivery,
  deliveryView,
  Endpoint,
  EndpointHealth,
  endpointHealthView,
  EndpointSecret,
  endpointView,
  NewEndpoint,
  Notice,
  noticeView,
  SigningSecret,
} from '../../views/webhook.ts';
import { type EndpointHealthStore } from '../../store/endpoint-health.ts';
import { MAX_SECRET_OVERLAP_MS } from '../../store/webhooks.ts';
import { listOf, listPage, pageQuery } from '../list.ts';
import { defineRoute, type Caller, type Route } from '../route.ts';

export type WebhookRouteDeps = Readonly<{
  webhooks: WebhookStore;
  health: Pick<EndpointHealthStore, 'statsSince' | 'notices'>;
  accounts: Pick<AccountStore, 'liveSigningSecret' | 'rotateSigningSecret'>;
  /** Queues first attempts of replayed deliveries (the delivery attempt topic). */
  queueAttempts: (records: readonly AttemptRecord[]) => Promise<void>;
  allowCidrs: readonly string[];
  resolve?: Resolver;
  clock: Clock;
  settleMs: number;
}>;

const MAX_ENDPOINTS_PER_KEY = 20;
const DAY_MS = 86_400_000;
const isoTime = () => z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone' });

/** `version` of `type`'s payload, or EC_BAD_REQUEST naming `parameter` when the type has no such version. */
function checkedVersion(type: Category, version: number, parameter: string): number {
  if (!isVersionOf(type, version))
    throw new AppError('EC_BAD_REQUEST', `${type} has no version ${version}; its latest is ${latestVersion(type)}`, {
      details: { parameter },
    });
  return version;
}
const url = z.string().min(1).max(2048).meta({ description: 'https:// URL of your receiver (public addresses only).' });
const categories = z
  .array(z.enum(CATEGORIES))
  .min(1)
  .max(CATEGORIES.length)
  .meta({ description: `Any of ${CATEGORIES.join(', ')}; all five by default.` });
const idParam = z.object({ id: z.string().min(1).max(64) });
const rateLimit = z.number().int().min(1).max(1000).nullable().meta({
  description:
    'At most this many attempts per second to this endpoint (1 to 1000); null for no limit. Attempts over it wait, they are not failed.',
});
const filter = z
  .strictObject({
    statuses: z
      .array(z.enum(['sent', 'delivered', 'read', 'played', 'failed']))
      .min(1)
      .max(5)
      .optional()
      .meta({ description: 'message.status only: just these statuses (e.g. ["failed"]).' }),
    template_events: z
      .array(z.string().regex(/^[A-Za-z_]{2,40}$/, 'must be a Meta template event such as PAUSED'))
      .min(1)
      .max(20)
      .optional()
      .meta({ description: 'template.status only: just these Meta events (e.g. ["PAUSED", "DISABLED"]).' }),
    phone_number_ids: z
      .array(z.string().regex(/^\d{5,20}$/, "must be Meta's phone_number_id (5 to 20 digits)"))
      .min(1)
      .max(50)
      .optional()
      .meta({ description: 'message.inbound and message.status only: just events of these phone numbers.' }),
  })
  .meta({ description: 'Every field given must match; leave out to receive every event of the type.' });
const subscriptions = z
  .array(
    z.strictObject({
      type: z.enum(CATEGORIES),
      version: z.number().int().min(1).optional().meta({ description: 'Payload version; the latest by default, and kept after that.' }),
      filter: filter.optional(),
    }),
  )
  .min(1)
  .max(CATEGORIES.length)
  .meta({ description: 'Event types with their payload version and filter (see the `webhooks` section). Instead of `categories`.' });

type SubscriptionsIn = z.output<typeof subscriptions>;

/** Subscriptions as stored: one per type, the version given (or the latest now) existing, filters on their types. */
function subscriptionsFrom(body: { categories?: readonly Category[]; subscriptions?: SubscriptionsIn }): Subscription[] | undefined {
  const bad = (parameter: string, message: string) => new AppError('EC_BAD_REQUEST', message, { details: { parameter } });
  if (body.categories && body.subscriptions) throw bad('subscriptions', 'give categories or subscriptions, not both');
  if (body.categories) return [...new Set(body.categories)].map((type) => ({ type, version: 1, filter: null }));
  if (!body.subscriptions) return undefined;
  const seen = new Set<string>();
  return body.subscriptions.map((sub, i) => {
    if (seen.has(sub.type)) throw bad(`subscriptions.${i}.type`, `${sub.type} is subscribed twice; one subscription per event type`);
    seen.add(sub.type);
    const version = checkedVersion(sub.type, sub.version ?? latestVersion(sub.type), `subscriptions.${i}.version`);
    for (const key of Object.keys(sub.filter ?? {}) as (keyof typeof FILTER_TYPES)[]) {
      if (!FILTER_TYPES[key].includes(sub.type))
        throw bad(`subscriptions.${i}.filter.${key}`, `filter ${key} applies to ${FILTER_TYPES[key].join(' and ')}, not ${sub.type}`);
    }
    const f = sub.filter;
    const normal = f && {
      ...(f.statuses ? { statuses: f.statuses } : {}),
      ...(f.template_events ? { template_events: f.template_events.map((e) => e.toUpperCase()) } : {}),
      ...(f.phone_number_ids ? { phone_number_ids: f.phone_number_ids } : {}),
    };
    return { type: sub.type, version, filter: normal && Object.keys(normal).length > 0 ? normal : null };
  });
}

export function webhookRoutes(deps: WebhookRouteDeps): Route[] {
  const { webhooks, clock } = deps;
  const vet = async (u: string): Promise<string> =>
    (await resolveAndCheck(u, { allow: deps.allowCidrs, ...(deps.resolve ? { resolve: deps.resolve } : {}) })).url.href;
  const deliveryOf = async (caller: Caller, id: string): Promise<DeliveryDoc> => {
    const d = await webhooks.delivery(id);
    if (!d || d.key_id !== caller.keyId) throw new AppError('EC_NOT_FOUND', `no delivery ${id}`);
    return d;
  };
  /** The most deliveries one replay call restarts (issue 16, defect 6: one call could restart an endpoint's whole
   *  history, a burst of sends and store writes at once). */
  const REPLAY_MAX = 1000;
  const replay = async (docs: readonly DeliveryDoc[]): Promise<DeliveryDoc[]> => {
    const started: DeliveryDoc[] = [];
    for (const d of docs) {
      const next = await webhooks.startRound(d._id, clock.now());
      if (next) started.push(next);
    }
    await deps.queueAttempts(started.map((d) => attemptRecordOf(d, 1, clock.now().getTime())));
    return started;
  };

  return [
    defineRoute({
      method: 'get',
      path: '/api/webhooks/endpoints',
      operationId: 'listWebhookEndpoints',
      tag: 'webhooks',
      access: 'api_key',
      summary: "This API key's webhook endpoints",
      response: z.object({ data: z.array(Endpoint) }),
      handle: async ({ caller }) => ({ data: (await webhooks.listEndpoints(caller.keyId)).map(endpointView) }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/webhooks/endpoints',
      operationId: 'createWebhookEndpoint',
      tag: 'webhooks',
      access: 'api_key',
      summary: 'Register an endpoint (refused for private, loopback, link-local, metadata and other non-public addresses)',
      body: z.strictObject({
        url,
        categories: categories.optional(),
        subscriptions: subscriptions.optional(),
        rate_limit_per_second: rateLimit.optional(),
      }),
      status: 201,
      response: NewEndpoint,
      errors: [400],
      handle: async ({ body, caller, ctx }) => {
        const subs = subscriptionsFrom(body) ?? subscriptionsFrom({ categories: CATEGORIES })!; // bad input first
        if ((await webhooks.listEndpoints(caller.keyId)).length >= MAX_ENDPOINTS_PER_KEY) {
          throw new AppError('EC_BAD_REQUEST', `an API key may register at most ${MAX_ENDPOINTS_PER_KEY} endpoints`, {
            details: { parameter: 'url' },
          });
        }
        const href = await vet(body.url);
        const made = await webhooks.createEndpoint(
          {
            accountId: caller.accountId,
            keyId: caller.keyId,
            url: href,
            subscriptions: subs,
            rateLimitPerSecond: body.rate_limit_per_second ?? null,
          },
          clock.now(),
        );
        ctx.set('Cache-Control', 'no-store');
        return { ...endpointView(made.endpoint), signing_secret: made.secret };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/webhooks/endpoints/{id}',
      operationId: 'getWebhookEndpoint',
      tag: 'webhooks',
      access: 'api_key',
      summary: 'One endpoint',
      params: idParam,
      response: Endpoint,
      errors: [404],
      handle: async ({ params, caller }) => endpointView(await webhooks.endpointOf(caller.keyId, params.id)),
    }),
    defineRoute({
      method: 'post',
      path: '/api/webhooks/endpoints/{id}',
      operationId: 'updateWebhookEndpoint',
      tag: 'webhooks',
      access: 'api_key',
      summary: "Change an endpoint's URL or subscriptions",
      params: idParam,
      body: z.strictObject({
        url: url.optional(),
        categories: categories.optional(),
        subscriptions: subscriptions.optional(),
        rate_limit_per_second: rateLimit.optional(),
      }),
      response: Endpoint,
      errors: [400, 404],
      handle: async ({ params, body, caller }) => {
        await webhooks.endpointOf(caller.keyId, params.id);
        const subs = subscriptionsFrom(body);
        const change = {
          ...(body.url ? { url: await vet(body.url) } : {}),
          ...(subs ? { subscriptions: subs } : {}),
          ...(body.rate_limit_per_second !== undefined ? { rateLimitPerSecond: body.rate_limit_per_second } : {}),
        };
        return endpointView(await webhooks.updateEndpoint(caller.keyId, params.id, change, clock.now()));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/webhooks/endpoints/{id}',
      operationId: 'deleteWebhookEndpoint',
      tag: 'webhooks',
      access: 'api_key',
      summary: 'Delete an endpoint (its pending deliveries end as failed)',
      params: idParam,
      response: z.object({ id: z.string(), deleted: z.literal(true) }),
      errors: [404],
      handle: async ({ params, caller }) => {
        await webhooks.deleteEndpoint(caller.keyId, params.id);
        return { id: params.id, deleted: true as const };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/webhooks/endpoints/{id}/enable',
      operationId: 'enableWebhookEndpoint',
      tag: 'webhooks',
      access: 'api_key',
      summary: 'Re-enable an endpoint disabled after failing continuously',
      params: idParam,
      response: Endpoint,
      errors: [404],
      handle: async ({ params, caller }) => endpointView(await webhooks.enableEndpoint(caller.keyId, params.id, clock.now())),
    }),
    defineRoute({
      method: 'post',
      path: '/api/webhooks/endpoints/{id}/replay',
      operationId: 'replayWebhookEndpoint',
      tag: 'webhooks',
      access: 'api_key',
      summary: 'Replay the failed deliveries of the endpoint created since a time, oldest first, at most `limit` per call',
      description: `One call restarts at most \`limit\` deliveries (default and most ${REPLAY_MAX}); \`more: true\` says failed deliveries remain: call again (the replayed ones are no longer failed).`,
      params: idParam,
      body: z.strictObject({
        since: isoTime(),
        limit: z.number().int().min(1).max(REPLAY_MAX).default(REPLAY_MAX),
      }),
      response: z.object({ replayed: z.number().int(), more: z.boolean() }),
      errors: [400, 404],
      handle: async ({ params, body, caller }) => {
        await webhooks.endpointOf(caller.keyId, params.id);
        const failed = await webhooks.failedSince(params.id, new Date(body.since), body.limit + 1);
        return { replayed: (await replay(failed.slice(0, body.limit))).length, more: failed.length > body.limit };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/webhooks/endpoints/{id}/test',
      operationId: 'sendWebhookTestEvent',
      tag: 'webhooks',
      access: 'api_key',
      summary: 'Send a test event: a signed example of an event type, marked `"test": true`, delivered and retried like any other',
      description:
        'In the version the endpoint subscribed to for that type (the latest when it is not subscribed to it), unless `version` is given; its filter does not apply. The answer is the delivery: poll it for the outcome.',
      params: idParam,
      body: z.strictObject({ type: z.enum(CATEGORIES), version: z.number().int().min(1).optional() }),
      status: 201,
      response: Delivery,
      errors: [400, 404],
      handle: async ({ params, body, caller }) => {
        const ep = await webhooks.endpointOf(caller.keyId, params.id);
        if (!ep.enabled)
          throw new AppError(
            'EC_BAD_REQUEST',
            `endpoint ${ep._id} is disabled (${ep.disabled_reason ?? 'by its failures'}); enable it first`,
            {
              details: { parameter: 'id' },
            },
          );
        const subscribed = subscriptionsOf(ep).find((x) => x.type === body.type)?.version;
        const version = checkedVersion(body.type, body.version ?? subscribed ?? latestVersion(body.type), 'version');
        const now = clock.now();
        const event = { id: randomId('evt_test'), category: body.type, created_at: now.toISOString(), data: EXAMPLES[body.type] };
        const doc = newDelivery(ep, { id: event.id, category: body.type, body: eventBody(event, version, true) }, now);
        await webhooks.insertDeliveries([doc]);
        await deps.queueAttempts([attemptRecordOf(doc, 1, now.getTime())]);
        return deliveryView(doc);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/webhooks/endpoints/{id}/health',
      operationId: 'getWebhookEndpointHealth',
      tag: 'webhooks',
      access: 'api_key',
      summary: "The endpoint's success rate and latency over time, per 5-minute bucket",
      params: idParam,
      query: z.strictObject({
        since: isoTime().optional().meta({ description: '24 hours ago by default; at most 7 days ago.' }),
      }),
      response: EndpointHealth,
      errors: [400, 404],
      handle: async ({ params, query, caller }) => {
        await webhooks.endpointOf(caller.keyId, params.id);
        const now = clock.now().getTime();
        const since = query.since ? new Date(query.since) : new Date(now - DAY_MS);
        if (since.getTime() < now - 7 * DAY_MS)
          throw new AppError('EC_BAD_REQUEST', 'since must be within the last 7 days', { details: { parameter: 'since' } });
        return endpointHealthView(params.id, since, await deps.health.statsSince(params.id, since));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/webhooks/notices',
      operationId: 'listWebhookNotices',
      tag: 'webhooks',
      access: 'api_key',
      summary: "Notices about this API key's endpoints, newest first: started failing, disabled, recovered",
      query: z.strictObject({
        endpoint_id: z.string().min(1).max(64).optional(),
        since: isoTime().optional(),
        limit: pageQuery.limit,
      }),
      response: z.object({ data: z.array(Notice) }),
      errors: [400, 404],
      handle: async ({ query, caller }) => {
        if (query.endpoint_id) await webhooks.endpointOf(caller.keyId, query.endpoint_id);
        const since = query.since ? new Date(query.since) : new Date(0);
        const list = await deps.health.notices(caller.keyId, { endpointId: query.endpoint_id, since, limit: query.limit });
        return { data: list.map(noticeView) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/webhooks/endpoints/{id}/deliveries',
      operationId: 'listWebhookDeliveries',
      tag: 'webhooks',
      access: 'api_key',
      summary: "An endpoint's deliveries, newest first, with every attempt",
      params: idParam,
      query: z.strictObject({
        limit: pageQuery.limit,
        cursor: pageQuery.cursor,
        status: z.enum(['pending', 'delivered', 'failed']).optional(),
        type: z.enum(CATEGORIES).optional().meta({ description: 'Only deliveries of this event type.' }),
        created_after: isoTime().optional().meta({ description: 'Only deliveries created at or after this time.' }),
        created_before: isoTime().optional().meta({ description: 'Only deliveries created before this time.' }),
      }),
      response: listOf(Delivery),
      errors: [400, 404],
      handle: async ({ params, query, caller }) => {
        await webhooks.endpointOf(caller.keyId, params.id);
        const page = await listPage<DeliveryDoc>({
          query: {
            op: 'listWebhookDeliveries',
            endpoint: params.id,
            status: query.status ?? null,
            type: query.type ?? null,
            created_after: query.created_after ?? null,
            created_before: query.created_before ?? null,
          },
          cursor: query.cursor,
          limit: query.limit,
          updatedSince: null,
          now: clock.now(),
          settleMs: deps.settleMs,
          keyOf: (d) => sortKeyOf(d, DELIVERY_ORDER),
          keyLength: DELIVERY_ORDER.length,
          fetch: (after, limit) =>
            webhooks.listDeliveries(
              params.id,
              {
                status: query.status,
                category: query.type,
                createdAfter: query.created_after ? new Date(query.created_after) : undefined,
                createdBefore: query.created_before ? new Date(query.created_before) : undefined,
              },
              after,
              limit,
            ),
        });
        return { data: page.items.map(deliveryView), next_cursor: page.next_cursor, next_updated_since: page.next_updated_since };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/webhooks/deliveries/{id}',
      operationId: 'getWebhookDelivery',
      tag: 'webhooks',
      access: 'api_key',
      summary: 'One delivery with every attempt (status code, latency, error, first 20 KB of the response)',
      params: idParam,
      response: Delivery,
      errors: [404],
      handle: async ({ params, caller }) => deliveryView(await deliveryOf(caller, params.id)),
    }),
    defineRoute({
      method: 'post',
      path: '/api/webhooks/deliveries/{id}/replay',
      operationId: 'replayWebhookDelivery',
      tag: 'webhooks',
      access: 'api_key',
      summary: 'Replay a failed delivery (a new round of attempts, same event id)',
      params: idParam,
      response: Delivery,
      errors: [400, 404],
      handle: async ({ params, caller }) => {
        const d = await deliveryOf(caller, params.id);
        const [started] = await replay([d]);
        if (!started)
          throw new AppError('EC_BAD_REQUEST', `delivery ${params.id} is ${d.status}; only a failed delivery can be replayed`, {
            details: { parameter: 'id' },
          });
        return deliveryView(started);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/webhooks/endpoints/{id}/secret',
      operationId: 'getWebhookEndpointSecret',
      tag: 'webhooks',
      access: 'api_key',
      summary: "Reveal the endpoint's Standard Webhooks signing secret (whsec_…, signs webhook-signature)",
      params: idParam,
      response: EndpointSecret,
      errors: [404],
      handle: async ({ params, caller, ctx }) => {
        ctx.set('Cache-Control', 'no-store');
        return {
          endpoint_id: params.id,
          secret: await webhooks.currentSecret(caller.keyId, params.id, clock.now()),
          old_secrets_expire_at: null,
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/webhooks/endpoints/{id}/secret/rotate',
      operationId: 'rotateWebhookEndpointSecret',
      tag: 'webhooks',
      access: 'api_key',
      summary: "Replace the endpoint's signing secret; the old one keeps signing too (a second signature) for `overlap_seconds`",
      description: `Deliveries from now on carry the new secret's signature; for \`overlap_seconds\` (default 86400 = 24 h, at most ${MAX_SECRET_OVERLAP_MS / 1000} = 7 days, 0 to stop the old one at once) they also carry the old one's, so a receiver can switch without refusing a delivery.`,
      params: idParam,
      body: z.strictObject({
        overlap_seconds: z
          .number()
          .int()
          .min(0)
          .max(MAX_SECRET_OVERLAP_MS / 1000)
          .default(86_400),
      }),
      response: EndpointSecret,
      errors: [400, 404],
      handle: async ({ params, body, caller, ctx }) => {
        ctx.set('Cache-Control', 'no-store');
        const now = clock.now();
        const rotated = await webhooks.rotateSecret(caller.keyId, params.id, now, body.overlap_seconds * 1000);
        return {
          endpoint_id: params.id,
          secret: rotated.secret,
          old_secrets_expire_at: body.overlap_seconds > 0 ? rotated.old_expire_at.toISOString() : null,
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/webhooks/signing-secret',
      operationId: 'getSigningSecret',
      tag: 'webhooks',
      access: 'api_key',
      summary: "Reveal this API key's signing secret",
      response: SigningSecret,
      handle: async ({ caller, ctx }) => {
        ctx.set('Cache-Control', 'no-store');
        return { key_id: caller.keyId, signing_secret: (await deps.accounts.liveSigningSecret(caller.keyId))! };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/webhooks/signing-secret/rotate',
      operationId: 'rotateSigningSecret',
      tag: 'webhooks',
      access: 'api_key',
      summary: 'Replace the signing secret (deliveries from now on are signed with the new one)',
      response: SigningSecret,
      handle: async ({ caller, ctx }) => {
        ctx.set('Cache-Control', 'no-store');
        return { key_id: caller.keyId, signing_secret: await deps.accounts.rotateSigningSecret(caller.keyId) };
      },
    }),
  ];
}
