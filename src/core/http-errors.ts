// The one error middleware of each Koa app: maps AppError to its status and a stable JSON shape.
// Messages are shown for 4xx only; 5xx bodies name the code, never internals.
import { type Context, type Next } from 'koa';
import { AppError, isAppError } from './errors.ts';
import { type Logger } from './log.ts';
import { requestLog, routeOf } from './request-id.ts';

/** 5xx codes whose message and details are the caller's to see: what Meta's Graph API answered, and at which step
 *  (never internals: Meta's code and message, the step, the HTTP status). */
const EXPOSED_5XX: ReadonlySet<string> = new Set(['EC_GRAPH_REFUSED', 'EC_GRAPH_UNAVAILABLE']);

/** `translate` turns an I/O edge's own errors into AppErrors (the store's outages: src/store/errors.ts). */
export function errorMiddleware(log: Logger, translate: (err: unknown) => AppError | null = () => null) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
    } catch (err) {
      const e: AppError = isAppError(err) ? err : (translate(err) ?? new AppError('EC_INTERNAL', 'internal error', { cause: err }));
      const expose = e.status < 500 || EXPOSED_5XX.has(e.code);
      ctx.status = e.status;
      ctx.set('Cache-Control', 'no-store');
      if (e.status === 503 || EXPOSED_5XX.has(e.code)) ctx.set('Retry-After', '5');
      ctx.body = {
        error: {
          code: e.code,
          message: e.status === 503 ? `${e.message}; retry later` : expose ? e.message : 'internal error',
          ...(expose && e.details ? { details: e.details } : {}),
        },
      };
      // The route pattern, never the path, and no 4xx message: both can carry what the caller sent, a phone number
      // among it (GET /api/contact/{wa_id} answers "no contact <wa_id>"). The caller got the message; the log has
      // the code and the request id. docs/decisions/0017-metrics-and-logs.md.
      const fields = {
        code: e.code,
        status: e.status,
        method: ctx.method,
        route: routeOf(ctx),
        err: e.status >= 500 ? (isAppError(err) ? (err.cause ?? err) : err) : undefined,
      };
      const rlog = requestLog(ctx, log);
      // A dependency that did not answer (503), or Meta refusing a call (502), is a condition to watch, not a bug: one
      // line with the cause's message.
      if (e.status === 503 || EXPOSED_5XX.has(e.code))
        rlog.warn({ ...fields, err: undefined, cause: e.cause instanceof Error ? e.cause.message : undefined }, e.message);
      else if (e.status >= 500) rlog.error(fields, e.message);
      else rlog.info(fields, `request refused: ${e.code}`);
    }
  };
}
