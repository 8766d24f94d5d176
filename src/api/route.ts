// One declaration per route: its zod schemas validate the request and shape the response, and the same
// declarations produce the OpenAPI document (src/api/openapi.ts), so the document cannot drift from the code.
import { type Context, type Middleware } from 'koa';
import type Router from '@koa/router';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';

/** Who is calling: resolved from the API key by src/api/auth.ts. Every read is scoped to `wabaIds`. */
export type Caller = Readonly<{ accountId: string; keyId: string; wabaIds: readonly string[] }>;

/** api_key: a customer's key (rate limited, tenant scoped); admin: the operator's ADMIN_TOKEN; public: no auth. */
export type Access = 'api_key' | 'admin' | 'public';

type Obj = z.ZodObject;
type Empty = z.ZodObject<Record<string, never>>;

export type RouteSpec<Q extends Obj, P extends Obj, B extends Obj, R extends z.ZodType, H extends Obj = Empty> = Readonly<{
  method: 'get' | 'post' | 'delete';
  /** OpenAPI form, e.g. /api/thread/{id}/messages. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  query?: Q;
  params?: P;
  body?: B;
  /** Request headers the route reads (names in lower case; other headers pass unchecked). */
  headers?: H;
  /** Success status (200 by default). */
  status?: number;
  response: R;
  /** Error statuses this route can answer besides 401/429/500 (documented in OpenAPI). */
  errors?: readonly (400 | 403 | 404 | 409 | 422 | 502 | 503)[];
  handle: (input: {
    query: z.output<Q>;
    params: z.output<P>;
    body: z.output<B>;
    headers: z.output<H>;
    caller: Caller;
    ctx: Context;
  }) => Promise<z.input<R>>;
}>;

/** A route with its types erased, as the router and the OpenAPI builder see it. */
export type Route = RouteSpec<Obj, Obj, Obj, z.ZodType, Obj>;

export function defineRoute<
  Q extends Obj = Empty,
  P extends Obj = Empty,
  B extends Obj = Empty,
  R extends z.ZodType = z.ZodType,
  H extends Obj = Empty,
>(spec: RouteSpec<Q, P, B, R, H>): Route {
  return spec as unknown as Route;
}

const WHERE = { query: 'query parameter', params: 'path parameter', body: 'body field', headers: 'header' } as const;

/** The path to the first string (or key) holding U+0000 in a request part, or null. No store takes it as data or
 *  in a query (FerretDB over PostgreSQL answered such a lookup with a 500; found by test/e2e/fuzz.test.ts). */
function nulAt(value: unknown, path: string[] = []): string[] | null {
  if (typeof value === 'string') return value.includes('\0') ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\0')) return [...path, k];
    const found = nulAt(v, [...path, k]);
    if (found) return found;
  }
  return null;
}

/** Validates one part of the request; a failure is a 400 naming the parameter and what is wrong with it. */
export function parsePart<S extends z.ZodType>(schema: S, value: unknown, where: keyof typeof WHERE): z.output<S> {
  const nul = nulAt(value);
  if (nul) {
    const name = nul.join('.') || where;
    throw new AppError('EC_BAD_REQUEST', `${WHERE[where]} "${name}" contains U+0000 (NUL), which is never valid here`, {
      details: { parameter: name, in: where },
    });
  }
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const name = [...issue.path.map(String), issue.keys[0]!].join('.'); // nested: subscriptions.0.filter.colour
    throw new AppError('EC_BAD_REQUEST', `unknown ${WHERE[where]} "${name}"`, { details: { parameter: name, in: where } });
  }
  const name = issue.path.map(String).join('.') || where;
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  throw new AppError('EC_BAD_REQUEST', `${WHERE[where]} "${name}" ${message}`, { details: { parameter: name, in: where } });
}

/** Koa path syntax from the OpenAPI one: {id} -> :id. */
export const koaPath = (path: string): string => path.replace(/\{(\w+)\}/g, ':$1');

export function mountRoutes(router: Router, routes: readonly Route[], guards: Readonly<Record<Access, Middleware[]>>): void {
  for (const route of routes) {
    router[route.method](koaPath(route.path), ...(guards[route.access] as Parameters<Router['get']>[1][]), async (ctx) => {
      const input = {
        query: parsePart(route.query ?? z.strictObject({}), ctx.query, 'query'),
        params: parsePart(route.params ?? z.object({}), ctx.params, 'params'),
        body: parsePart(route.body ?? z.object({}), (ctx.request as { body?: unknown }).body ?? {}, 'body'),
        headers: route.headers ? parsePart(route.headers, ctx.headers, 'headers') : {},
        caller: ctx.state['caller'] as Caller,
        ctx,
      };
      const result = await route.handle(input);
      // Responses pass through their schema too: unknown fields are dropped, and a shape error is our bug (500).
      const shaped = route.response.safeParse(result);
      if (!shaped.success) {
        throw new AppError('EC_INTERNAL', `response of ${route.operationId} does not match its schema`, { cause: shaped.error });
      }
      ctx.status = route.status ?? 200;
      ctx.body = shaped.data;
    });
  }
}
