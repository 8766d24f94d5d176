// ETag on every successful GET and 304 on a matching If-None-Match, so an unchanged poll costs a few bytes.
// The tag is weak and computed over what the caller reads, not over a list's navigation fields
// (`next_cursor`, `next_updated_since`), which carry the time of the read: an earlier page's cursor and
// watermark stay valid for unchanged data (docs/decisions/0007-rest-api.md).
import { type Context, type Next } from 'koa';
import { etag } from 'etag';

const basisOf = ({ next_cursor: _c, next_updated_since: _w, ...rest }: Record<string, unknown>): unknown => rest;

/** If-None-Match uses the weak comparison (RFC 9110 13.1.2). Koa's ctx.fresh is not used: it answers 200 whenever
 *  the request says Cache-Control: no-cache, which fetch() adds to every request carrying If-None-Match. */
function matches(ifNoneMatch: string, tag: string): boolean {
  if (ifNoneMatch === '' || tag === '') return false;
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = (t: string) => t.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => opaque(t) === opaque(tag));
}

export function conditionalGet() {
  return async (ctx: Context, next: Next): Promise<void> => {
    await next();
    if (ctx.method !== 'GET' || ctx.status !== 200 || ctx.body === null || typeof ctx.body !== 'object' || Buffer.isBuffer(ctx.body))
      return;
    const body = ctx.body as Record<string, unknown>;
    ctx.set('ETag', etag(JSON.stringify(basisOf(body)), { weak: true }));
    // Pollers must revalidate each time; intermediaries must not share one tenant's answer with another.
    if (!ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'private, no-cache');
    ctx.set('Vary', 'Authorization');
    if (matches(ctx.get('if-none-match'), ctx.response.get('ETag'))) {
      ctx.status = 304;
      ctx.body = null;
      return;
    }
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(body);
  };
}
