// Request ids for the Koa apps (ingest, API): the caller's X-Request-Id when it is a sane token, else a new one;
// answered in X-Request-Id and bound to a child logger on ctx.state.log, so every line of a request names it.
// docs/decisions/0017-metrics-and-logs.md.
import { randomUUID } from 'node:crypto';
import { type Context, type Next } from 'koa';
import { type Logger } from './log.ts';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** What an incoming id may be: a short token (UUIDs, ULIDs, trace ids, `lb-1234.5`); anything else (spaces,
 *  quotes, control characters, a whole sentence) is replaced, so a log line never carries what a caller made up. */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const requestIdOf = (incoming: string): string => (SANE_ID.test(incoming) ? incoming : randomUUID());

/** The request's logger (bound to its id), or `fallback` outside a request. */
export const requestLog = (ctx: Context, fallback: Logger): Logger => (ctx.state['log'] as Logger | undefined) ?? fallback;

/** The matched route pattern (/api/thread/:id), never the raw path: paths carry ids, some of them phone numbers
 *  (GET /api/contact/{wa_id}); null when no route matched. */
export const routeOf = (ctx: Context): string | null => {
  const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
  return matched === undefined ? null : String(matched);
};

/** The outermost middleware: the request id, the request's logger, and one debug line per request when it ends
 *  (method, route, status, ms). `onDone` gets the final status and duration (for metrics). */
export function requestContext(log: Logger, onDone?: (ctx: Context, seconds: number) => void) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const id = requestIdOf(ctx.get(REQUEST_ID_HEADER));
    const rlog = log.child({ requestId: id });
    ctx.state['requestId'] = id;
    ctx.state['log'] = rlog;
    ctx.set(REQUEST_ID_HEADER, id);
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      onDone?.(ctx, seconds);
      rlog.debug({ method: ctx.method, route: routeOf(ctx), status: ctx.status, ms: Math.round(seconds * 1000) }, 'request');
    }
  };
}
