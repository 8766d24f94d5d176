// Koa + @koa/router REST API: customers' reads (API key, rate limited, ETag/304) and the operator's admin routes.
// Every route is declared once (src/api/route.ts) and listed here; the OpenAPI document is built from that list.
import Koa from 'koa';
import Router from '@koa/router';
import { type Clock } from '../core/clock.ts';
import { errorMiddleware } from '../core/http-errors.ts';
import { storeUnavailable } from '../store/errors.ts';
import { AppError } from '../core/errors.ts';
import { type Logger } from '../core/log.ts';
import { type Metrics } from '../core/metrics.ts';
import { requestContext, routeOf } from '../core/request-id.ts';
import { type AccountStore } from '../store/accounts.ts';
import { type BroadcastStore } from '../store/broadcasts.ts';
import { type ContactReads } from '../store/contacts.ts';
import { type MessageReads } from '../store/messages.ts';
import { type TemplateReads } from '../store/templates.ts';
import { type ThreadReads } from '../store/threads.ts';
import { adminAuth, apiKeyAuth } from './auth.ts';
import { conditionalGet } from './conditional.ts';
import { jsonBody } from './json-body.ts';
import { buildOpenApi, OpenApiDocument } from './openapi.ts';
import { rateLimitPerKey, type RateLimitConfig } from './rate-limit.ts';
import { defineRoute, mountRoutes, type Route } from './route.ts';
import { adminRoutes } from './routes/admin.ts';
import { broadcastRoutes, type BroadcastRouteDeps } from './routes/broadcasts.ts';
import { lookupRoutes } from './routes/lookups.ts';
import { templateRoutes } from './routes/templates.ts';
import { threadRoutes, type ThreadRouteDeps } from './routes/threads.ts';
import { webhookRoutes, type WebhookRouteDeps } from './routes/webhooks.ts';
import { sendingRoutes, type SendingRouteDeps } from './routes/sending.ts';
import { serveDashboard } from './dashboard/serve.ts';
import { type WebhookStore } from '../store/webhooks.ts';

export type ApiDeps = Omit<WebhookRouteDeps, 'accounts' | 'webhooks'> &
  Readonly<{
    accounts: AccountStore;
    threads: ThreadReads;
    messages: MessageReads;
    templates: TemplateReads;
    contacts: ContactReads;
    broadcasts: BroadcastStore;
    audiences: BroadcastRouteDeps['audiences'];
    createBroadcast: BroadcastRouteDeps['createBroadcast'];
    webhooks: WebhookStore;
    adminToken: string | null;
    rateLimit: RateLimitConfig;
    version: string;
    /** API_CHANGE_SETTLE_MS: see src/api/list.ts. */
    settleMs: number;
    /** Writes a thread's read mark for the actors (src/events/thread-read.ts). */
    markRead: ThreadRouteDeps['markRead'];
    /** Embedded Signup, the account's numbers, replies (src/sending/). */
    sending: SendingRouteDeps;
    clock: Clock;
    log: Logger;
    metrics: Pick<Metrics, 'apiRequest' | 'apiRateLimited'>;
  }>;

/** Every route of the API, in the order of the OpenAPI document. */
export function apiRoutes(deps: ApiDeps): Route[] {
  const routes = [
    ...threadRoutes(deps),
    ...sendingRoutes(deps.sending),
    ...lookupRoutes(deps),
    ...templateRoutes(deps),
    ...broadcastRoutes(deps),
    ...webhookRoutes(deps),
    ...adminRoutes(deps),
  ];
  // The document describes every route, itself included, so its handler reads it once it is built below.
  const all: Route[] = [
    ...routes,
    defineRoute({
      method: 'get',
      path: '/api/openapi.json',
      operationId: 'getOpenApi',
      tag: 'meta',
      summary: 'This OpenAPI 3.1 document',
      access: 'public',
      response: OpenApiDocument,
      handle: async () => doc as Record<string, unknown>,
    }),
  ];
  const doc: unknown = buildOpenApi(all, deps.version);
  return all;
}

export function createApiApp(deps: ApiDeps): Koa {
  const log = deps.log.child({ component: 'api' });
  const router = new Router();
  mountRoutes(router, apiRoutes(deps), {
    api_key: [
      apiKeyAuth(
        (k) => deps.accounts.resolveKey(k),
        (a) => deps.accounts.wabasOf(a),
      ),
      rateLimitPerKey(deps.rateLimit, () => deps.metrics.apiRateLimited.inc()),
      jsonBody(),
    ],
    admin: [adminAuth(deps.adminToken), jsonBody()],
    public: [],
  });

  const app = new Koa();
  // Outside the error middleware: the final status. The dashboard's files are one route; unmatched paths one more.
  app.use(
    requestContext(log, (ctx, seconds) => {
      const route = routeOf(ctx) ?? (ctx.path.startsWith('/dashboard') ? '/dashboard' : 'unmatched');
      deps.metrics.apiRequest.observe({ method: ctx.method, route, status: String(ctx.status) }, seconds);
    }),
  );
  app.use(errorMiddleware(log, storeUnavailable));
  app.use(serveDashboard());
  app.use(conditionalGet());
  app.use(router.routes());
  app.use(
    router.allowedMethods({
      throw: true,
      methodNotAllowed: () => new AppError('EC_METHOD_NOT_ALLOWED', 'method not allowed on this route'),
    }),
  );
  app.use((ctx) => {
    throw new AppError('EC_NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
  });
  return app;
}
