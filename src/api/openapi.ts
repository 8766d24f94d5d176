// The OpenAPI 3.1 document, built by zod-openapi from the very route declarations that validate requests and
// shape responses (src/api/route.ts): a route cannot exist without being documented, nor drift from its docs.
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { CATEGORIES } from '../events/outbound.ts';
import { ErrorBody } from '../views/common.ts';
import { envelopeSchema, EVENT_VERSIONS } from '../views/webhook-events.ts';
import { type Route } from './route.ts';

const ERROR_TEXT: Record<number, string> = {
  400: 'A parameter is invalid (`error.details.parameter` names it)',
  401: 'Missing, unknown or revoked credentials',
  403: 'Disabled: the admin API (no ADMIN_TOKEN configured) or Embedded Signup (no META_APP_ID)',
  404: 'No such resource for this account (also when it belongs to another account)',
  413: 'The body is larger than 64 KiB',
  409: 'Conflicts with what is stored (`error.details.reason`): another account holds it, the Idempotency-Key was used for another request, or a call with it is running',
  415: 'The body is not application/json',
  422: 'Not sent (`error.details.reason`): window closed, opted out, template not approved, number not connected',
  429: 'Rate limit exceeded: retry after `Retry-After` seconds',
  502: "Meta's Graph API refused the call (`error.details.step`, `error.details.meta_error`)",
  503: "A backing service (or Meta's Graph API) is unavailable: retry after `Retry-After` seconds",
};

const rateHeaders = {
  'RateLimit-Limit': { description: 'Requests allowed per window for this API key', schema: { type: 'integer' as const } },
  'RateLimit-Remaining': { description: 'Requests left in the current window', schema: { type: 'integer' as const } },
  'RateLimit-Reset': { description: 'Seconds until the window resets', schema: { type: 'integer' as const } },
};

function responsesOf(route: Route): ZodOpenApiResponsesObject {
  const isGet = route.method === 'get' && route.access === 'api_key';
  const success = {
    description: route.summary,
    headers:
      route.access === 'api_key'
        ? {
            ...rateHeaders,
            ...(isGet
              ? { ETag: { description: 'Weak tag of the content; send it back as If-None-Match', schema: { type: 'string' as const } } }
              : {}),
          }
        : undefined,
    content: { 'application/json': { schema: route.response } },
  };
  const errors = new Set<number>([...(route.errors ?? []), 503]);
  if (route.access !== 'public') errors.add(401);
  if (route.access === 'api_key') errors.add(429);
  if (route.access === 'admin') errors.add(403);
  // Every route checks its query strictly (an unknown parameter is a 400, found by test/e2e/fuzz.test.ts); every
  // POST parses a body when one is sent, whether the route takes one or not (src/api/json-body.ts).
  errors.add(400);
  if (route.body || route.method !== 'get') for (const s of [413, 415]) errors.add(s);
  const out: Record<string, ZodOpenApiResponsesObject[keyof ZodOpenApiResponsesObject]> = { [String(route.status ?? 200)]: success };
  if (isGet) out['304'] = { description: 'Not modified: the content still matches If-None-Match' };
  for (const status of [...errors].sort())
    out[String(status)] = { description: ERROR_TEXT[status]!, content: { 'application/json': { schema: ErrorBody } } };
  return out as ZodOpenApiResponsesObject;
}

const SIGNED_HEADERS = {
  'webhook-id': 'The event id (the same on every attempt and replay): dedupe on it.',
  'webhook-timestamp': 'Unix seconds of this attempt: refuse one far from your clock (a replay).',
  'webhook-signature':
    'Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` under the endpoint secret, space-separated (two during a rotation overlap).',
  'X-EchoCue-Signature': "`sha256=<hex HMAC-SHA256 of the body>` under the API key's signing secret (the product page's header).",
  'X-EchoCue-Attempt': 'The attempt number within this round, from 1.',
};

/** The `webhooks` section: one entry per event type and payload version, the envelope as its request body. */
function webhooksOf(): ZodOpenApiPathsObject {
  const out: ZodOpenApiPathsObject = {};
  for (const type of CATEGORIES) {
    EVENT_VERSIONS[type].forEach((v, i) => {
      const version = i + 1;
      out[`${type}.v${version}`] = {
        post: {
          operationId: `webhook_${type.replace('.', '_')}_v${version}`,
          summary: `${type} (version ${version}): ${v.summary}`,
          tags: ['webhook events'],
          parameters: Object.entries(SIGNED_HEADERS).map(([name, description]) => ({
            name,
            in: 'header' as const,
            required: true,
            description,
            schema: { type: 'string' as const },
          })),
          requestBody: { required: true, content: { 'application/json': { schema: envelopeSchema(type, version) } } },
          responses: {
            '200': {
              description: 'Any 2xx: received. Anything else, or no answer within 10 s, is retried (30 s, 2 m, 10 m, 1 h, 6 h, ±20 %).',
            },
            '410': { description: 'Gone: the endpoint is disabled at once (as `webhook-delivery: disable` in any failed answer does).' },
          },
        },
      };
    });
  }
  return out;
}

export function buildOpenApi(routes: readonly Route[], version: string) {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const op: ZodOpenApiOperationObject = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      security: route.access === 'api_key' ? [{ apiKey: [] }] : route.access === 'admin' ? [{ adminToken: [] }] : [],
      requestParams: {
        ...(route.query ? { query: route.query } : {}),
        ...(route.params ? { path: route.params } : {}),
        ...(route.headers ? { header: route.headers } : {}),
      },
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
      responses: responsesOf(route),
    };
    paths[route.path] = { ...paths[route.path], [route.method]: op };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'EchoCue REST API',
      version,
      description:
        "Reads for pollers of WhatsApp state (threads, messages, delivery, templates, contacts, broadcasts), scoped to the account of the API key, and the sending side (Embedded Signup, replies, broadcasts through Meta's Graph API; sends take an Idempotency-Key). Every GET answers with an ETag and 304 on If-None-Match; lists page with `cursor` and poll with `updated_since`.",
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An EchoCue API key (eck_...).' },
        adminToken: { type: 'http', scheme: 'bearer', description: "The operator's ADMIN_TOKEN." },
      },
    },
    paths,
    webhooks: webhooksOf(),
  });
}

export const OpenApiDocument = z.record(z.string(), z.unknown()).meta({ description: 'The OpenAPI 3.1 document' });
