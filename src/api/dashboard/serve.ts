// The developer dashboard for outbound webhooks: static files, read once when the factory runs and served from
// memory: the page, its style, its entry point app.js and the ES modules in js/. No koa-send/koa-static: a request
// path is only ever looked up among those names, never resolved to a file, so there is nothing to traverse.
// The page calls the REST API itself with the API key typed into it (src/api/dashboard/js/api.js).
import { readdirSync, readFileSync } from 'node:fs';
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

const JS = 'text/javascript; charset=utf-8';

function load(name: string, type: string): Asset {
  return { type, body: readFileSync(new URL(name, import.meta.url)) };
}

/** The modules the entry point imports: every .js file of js/ (no subfolders). */
export function dashboardModules(): string[] {
  return readdirSync(new URL('js/', import.meta.url), { withFileTypes: true })
    .filter((f) => f.isFile() && f.name.endsWith('.js'))
    .map((f) => `js/${f.name}`)
    .sort();
}

/** Serves GET/HEAD /dashboard (also /dashboard/), /dashboard/app.js, /dashboard/js/*.js and /dashboard/style.css;
 *  other paths pass on. */
export function serveDashboard(): Middleware {
  const index = load('index.html', 'text/html; charset=utf-8');
  const assets = new Map<string, Asset>([
    ['/dashboard', index],
    ['/dashboard/', index],
    ['/dashboard/app.js', load('app.js', JS)],
    ...dashboardModules().map((name): [string, Asset] => [`/dashboard/${name}`, load(name, JS)]),
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
