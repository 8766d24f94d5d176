// JSON request bodies for the few routes that take one (admin): application/json, at most 64 KiB.
import { type Context, type Next } from 'koa';
import getRawBody from 'raw-body';
import { AppError } from '../core/errors.ts';

const LIMIT = 64 * 1024;

export function jsonBody() {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method !== 'POST' && ctx.method !== 'PUT' && ctx.method !== 'PATCH') return next();
    const length = Number(ctx.get('content-length') || 0);
    if (length > 0 || ctx.get('transfer-encoding')) {
      if (!ctx.is('application/json')) throw new AppError('EC_UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json');
      let text: string;
      try {
        text = await getRawBody(ctx.req, { limit: LIMIT, encoding: 'utf8' });
      } catch (err) {
        if ((err as { type?: string }).type === 'entity.too.large')
          throw new AppError('EC_BODY_TOO_LARGE', `the body is larger than ${LIMIT} bytes`);
        throw err;
      }
      try {
        (ctx.request as { body?: unknown }).body = JSON.parse(text);
      } catch {
        throw new AppError('EC_BODY_NOT_JSON', 'the body is not valid JSON');
      }
    }
    await next();
  };
}
