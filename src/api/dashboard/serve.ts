// The developer dashboard for outbound webhooks: three static files, read once when the factory runs and served
// from memory. No koa-send/koa-static: with three fixed names there is no path to resolve, so nothing to traverse.
// The page calls the REST API itself with the API key typed into it (src/api/dashboard/app.js).
import { readFileSync } from 'node:fs';
import { type Context, type Middleware, type Next } from 'koa';
import { AppError } from '../../core/errors.ts';

/** Only files of our own origin; no inline script or style, no frames, no plugins, forms never submit natively
 *  (the login form must not put the key into a URL if its script did not run). */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

type Asset = Readonly<{ type: string; body: Buffer }>;

function load(name: string, type: string): Asset {
  return { type, body: readFileSync(new URL(name, import.meta.url)) };
}

/** Serves GET/HEAD /dashboard (also /dashboard/), /dashboard/app.js and /dashboard/style.css; other paths pass on. */
export function serveDashboard(): Middleware {
  const index = load('index.html', 'text/html; charset=utf-8');
  const assets = new Map<string, Asset>([
    ['/dashboard', index],
    ['/dashboard/', index],
    ['/dashboard/app.js', load('app.js', 'text/javascript; charset=utf-8')],
    ['/dashboard/style.css', load('style.css', 'text/css; charset=utf-8')],
  ]);
  return async (ctx: Context, next: Next): Promise<void> => {
    const asset = assets.get(ctx.path);
    if (!asset) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      throw new AppError('EC_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}`);
    }
    ctx.set('Content-Security-Policy', DASHBOARD_CSP);
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    // Revalidate every time, so a deploy is picked up at once; the files are small.
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = asset.type;
    ctx.body = asset.body;
  };
}
