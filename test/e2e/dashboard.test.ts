// The developer dashboard for outbound webhooks, in a real browser (Debian's chromium driven by playwright-core)
// against a real EchoCue started in this process. Assertions read what the page shows.
import { mkdirSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, ROLES, type RunningSystem } from '../../src/cli/system.ts';
import { DASHBOARD_CSP, serveDashboard } from '../../src/api/dashboard/serve.ts';
import { errorMiddleware } from '../../src/core/http-errors.ts';
import { type Logger } from '../../src/core/log.ts';
import { openBrowser, type BrowserPage } from '../helpers/browser.ts';
import { testEnv, type TestEnv } from '../helpers/env.ts';
import { ROOT } from '../helpers/services.ts';

const ADMIN = 'admin-token-for-the-dashboard-tests';
const OUT = join(ROOT, 'test-output');

/** Until src/api/app.ts mounts serveDashboard(): the dashboard from a scratch server that passes /api/ on to EchoCue,
 *  so the page and the API share one origin as they will (the CSP allows connections to 'self' only). */
async function scratchDashboard(apiUrl: string, log: Logger): Promise<{ url: string; close(): Promise<void> }> {
  const pages = new Koa().use(errorMiddleware(log)).use(serveDashboard()).callback();
  const server: Server = createServer((req, res) => {
    if (!req.url?.startsWith('/api/')) return void pages(req, res);
    const upstream = request(`${apiUrl}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('dashboard', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let dashboard: Awaited<ReturnType<typeof scratchDashboard>>;
  let base: string;
  let apiKey = '';

  const admin = async (path: string, body?: unknown) => {
    const res = await fetch(`${system.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    expect(res.status).toBe(201);
    return (await res.json()) as Record<string, any>;
  };

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    env = testEnv({ ADMIN_TOKEN: ADMIN });
    system = await startSystem({ config: env.config, roles: [...ROLES], log: env.log });
    dashboard = await scratchDashboard(system.url, env.log);
    base = dashboard.url;
    const account = await admin('/api/admin/accounts', { name: 'Dashboard clinic' });
    apiKey = (await admin(`/api/admin/accounts/${account.id}/keys`)).key;
  }, 180_000);

  afterAll(async () => {
    await dashboard?.close();
    await system?.stop();
    await env?.cleanup();
  });

  describe('serving', () => {
    test('serves the page, its script and its style with their types and a strict CSP', async () => {
      for (const [path, type] of [
        ['/dashboard', 'text/html; charset=utf-8'],
        ['/dashboard/app.js', 'text/javascript; charset=utf-8'],
        ['/dashboard/style.css', 'text/css; charset=utf-8'],
      ] as const) {
        const res = await fetch(`${base}${path}`);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-type'), path).toBe(type);
        expect(res.headers.get('content-security-policy'), path).toBe(DASHBOARD_CSP);
        expect(res.headers.get('x-frame-options'), path).toBe('DENY');
        expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
        expect(res.headers.get('cache-control'), path).toBe('no-cache');
        expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
        expect((await res.text()).length, path).toBeGreaterThan(100);
      }
      expect(DASHBOARD_CSP).toContain("default-src 'self'");
      expect(DASHBOARD_CSP).not.toContain('unsafe-inline');
    });

    test('the page has no inline script or style, and only GET and HEAD are allowed', async () => {
      const html = await (await fetch(`${base}/dashboard`)).text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/\son[a-z]+=/i);
      expect(html).not.toMatch(/<style|style=/i);
      const head = await fetch(`${base}/dashboard/app.js`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      const post = await fetch(`${base}/dashboard`, { method: 'POST' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
      expect((await fetch(`${base}/dashboard/secret.txt`)).status).toBe(404);
    });
  });

  describe('in a browser', () => {
    let b: BrowserPage;
    const problems: string[] = [];
    const failed: string[] = [];

    beforeAll(async () => {
      b = await openBrowser();
      // A CSP violation or a script error shows up as a console error or a page error.
      // (An HTTP error answer is also logged as "Failed to load resource"; those are collected with their URL instead.)
      b.page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`); });
      b.page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      b.page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) failed.push(`${r.status()} ${new URL(r.url()).pathname}`); });
    }, 60_000);

    afterAll(async () => {
      await b?.close();
    });

    test('shows the login form with a labelled key field and nothing else', async () => {
      const { page } = b;
      await page.goto(`${base}/dashboard`);
      await expect.poll(() => page.title()).toBe('EchoCue webhooks');
      const key = page.getByLabel('API key');
      expect(await key.isVisible()).toBe(true);
      expect(await key.getAttribute('type')).toBe('password');
      expect(await page.getByRole('button', { name: 'Log in' }).isVisible()).toBe(true);
      expect(await page.getByRole('heading', { name: 'Endpoints' }).isVisible()).toBe(false);
      expect(await page.getByRole('button', { name: 'Log out' }).isVisible()).toBe(false);
      await page.screenshot({ path: join(OUT, 'dashboard-login.png'), fullPage: true });
      expect(problems).toEqual([]);
      expect(failed).toEqual([]);
    });

    test('a refused key shows an error and is kept nowhere', async () => {
      const { page } = b;
      await page.goto(`${base}/dashboard`);
      await page.getByLabel('API key').fill('eck_not-a-real-key');
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => page.getByRole('alert').first().textContent()).not.toBe('');
      expect(await page.getByRole('heading', { name: 'Endpoints' }).isVisible()).toBe(false);
      expect(page.url()).toBe(`${base}/dashboard`);
      expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([0, 0]);
      expect(problems).toEqual([]);
      expect(apiKey).toMatch(/.+/);
    });
  });
});
