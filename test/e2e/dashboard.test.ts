// The developer dashboard for outbound webhooks, in a real browser (Debian's chromium driven by playwright-core)
// against a real EchoCue started in this process (ingest, actors, delivery, api) and a real receiver on 127.0.0.1.
// Assertions read what the page shows; the receiver tells what was really sent.
import { mkdirSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, ROLES, type RunningSystem } from '../../src/cli/system.ts';
import { DASHBOARD_CSP, dashboardModules } from '../../src/api/dashboard/serve.ts';
import { verifySignature } from '../../src/delivery/envelope.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { type Locator } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { openBrowser, type BrowserPage } from '../helpers/browser.ts';
import { FIXTURE_SECRET, testEnv, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { ROOT } from '../helpers/services.ts';

const ADMIN = 'admin-token-for-the-dashboard-tests';
const OUT = join(ROOT, 'test-output');
const WABA = '104719385562099';
const DOWN_BODY = '<b>receiver down</b><script>alert("x")</script>';

/** A signed inbound text from Meta for WABA: one message.inbound notification once the actors stored it. */
function inbound(n: number) {
  const from = `155540000${n}`;
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: WABA,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550140000', phone_number_id: '199999999999901' },
              contacts: [{ profile: { name: `Patient ${n}` }, wa_id: from }],
              messages: [
                {
                  from,
                  id: `wamid.dashboard.${n}`,
                  timestamp: String(1_781_700_000 + n),
                  type: 'text',
                  text: { body: `appointment ${n}` },
                },
              ],
            },
          },
        ],
      },
    ],
  });
  return { body, signature: signBody(body, FIXTURE_SECRET) };
}

type Received = { body: string; signature: string; headers: Record<string, string> };

/** The customer's receiver: answers 500 with an HTML body while down, 200 while up; records what it got. */
async function startReceiver() {
  const received: Received[] = [];
  let up = false;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(req.headers['x-echocue-signature'] ?? ''),
        headers: req.headers as Record<string, string>,
      });
      if (up) res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
      else res.writeHead(500, { 'content-type': 'text/html' }).end(DOWN_BODY);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/echocue`,
    received,
    setUp: (value: boolean) => {
      up = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('dashboard', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let base: string;
  let apiKey = '';

  const admin = async (path: string, body?: unknown) => {
    const res = await fetch(`${system.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    expect(res.status, path).toBeLessThan(300);
    return (await res.json()) as Record<string, any>;
  };
  const sendInbound = async (n: number) => {
    const m = inbound(n);
    expect((await postWebhook(system.url, m.body, { 'x-hub-signature-256': m.signature })).status).toBe(200);
  };

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    receiver = await startReceiver();
    env = testEnv({
      ADMIN_TOKEN: ADMIN,
      // The receiver is on loopback, which the SSRF guard refuses unless allow-listed.
      DELIVERY_ALLOW_CIDRS: '127.0.0.1/32',
      // 30 s ... 6 h retries become 3 ms ... 2.2 s; an endpoint failing for 1 s is disabled.
      DELIVERY_DELAY_SCALE: '0.0001',
      DELIVERY_TIMEOUT_MS: '3000',
      ENDPOINT_DISABLE_AFTER_SECONDS: '1',
    });
    system = await startSystem({ config: env.config, roles: [...ROLES], log: env.log });
    base = system.url;
    const account = await admin('/api/admin/accounts', { name: 'Dashboard clinic' });
    await admin(`/api/admin/accounts/${account.id}/wabas`, { waba_id: WABA });
    apiKey = (await admin(`/api/admin/accounts/${account.id}/keys`)).key;
  }, 180_000);

  afterAll(async () => {
    await system?.stop();
    await receiver?.close();
    await env?.cleanup();
  });

  describe('serving', () => {
    test('serves the page, its scripts and its style with their types and a strict CSP', async () => {
      expect(dashboardModules()).toContain('js/api.js');
      for (const [path, type] of [
        ['/dashboard', 'text/html; charset=utf-8'],
        ['/dashboard/app.js', 'text/javascript; charset=utf-8'],
        ...dashboardModules().map((name) => [`/dashboard/${name}`, 'text/javascript; charset=utf-8'] as const),
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
      expect((await fetch(`${base}/dashboard/app.js`, { method: 'HEAD' })).status).toBe(200);
      const post = await fetch(`${base}/dashboard`, { method: 'POST' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
      expect((await fetch(`${base}/dashboard/secret.txt`)).status).toBe(404);
    });

    test('a path that is not one of its files is 404, however it climbs out of the folder', async () => {
      // node:http sends the path as written (fetch would resolve the dots first).
      const status = (path: string) =>
        new Promise<number>((resolve, reject) => {
          const { hostname, port } = new URL(base);
          get({ hostname, port, path }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }).on('error', reject);
        });
      for (const path of [
        '/dashboard/serve.ts',
        '/dashboard/js/',
        '/dashboard/js/nope.js',
        '/dashboard/../package.json',
        '/dashboard/js/../serve.ts',
        '/dashboard/js/%2e%2e/serve.ts',
        '/dashboard/js/..%2fserve.ts',
        '/dashboard/js/api.js/../../serve.ts',
      ]) {
        expect(await status(path), path).toBe(404);
      }
    });
  });

  // One browser session walks through the dashboard as a developer would; each test is the next step.
  describe('in a browser', () => {
    let b: BrowserPage;
    const problems: string[] = [];
    const failed: string[] = [];
    const dialogs: string[] = [];

    const page = () => b.page;
    const section = (name: string | RegExp) => page().getByRole('region', { name });
    const endpointRow = () => section('Endpoints').getByRole('row').filter({ hasText: receiver.url });
    const deliveryRows = () =>
      page()
        .getByRole('table', { name: /^Deliveries to/ })
        .getByRole('row')
        .filter({ has: page().getByRole('cell') });
    const statusLine = () => page().getByRole('status');
    /** What the element shows, as one line (innerText: laid-out text, so a <dt> and its <dd> stay apart). */
    const text = async (l: Locator) => (await l.innerText()).replace(/\s+/g, ' ').trim();
    const statusFilter = () => page().getByLabel('Status', { exact: true });
    /** Clicks Refresh until the deliveries table shows `want` (the delivery pipeline is asynchronous). */
    const refreshUntil = async (want: (rows: string[]) => boolean, what: string) => {
      const button = page().getByRole('button', { name: 'Refresh' });
      await expect
        .poll(
          async () => {
            await button.click();
            await expect.poll(() => button.isEnabled()).toBe(true); // disabled while it reloads
            return want(await deliveryRows().allTextContents());
          },
          { timeout: 60_000, interval: 500, message: what },
        )
        .toBe(true);
    };

    beforeAll(async () => {
      b = await openBrowser();
      // A CSP violation or a script error shows up as a console error or a page error. An HTTP error answer is also
      // logged as "Failed to load resource"; those are collected with their URL instead.
      b.page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
      });
      b.page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      b.page.on('response', (r) => {
        if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
      });
      b.page.on('dialog', (d) => {
        dialogs.push(`${d.type()}: ${d.message()}`);
        void d.accept();
      });
    }, 60_000);

    afterAll(async () => {
      await b?.close();
    });

    test('shows the login form with a labelled key field and nothing else', async () => {
      await page().goto(`${base}/dashboard`);
      expect(await page().title()).toBe('EchoCue webhooks');
      const key = page().getByLabel('API key');
      await key.waitFor();
      expect(await key.getAttribute('type')).toBe('password');
      expect(await page().getByRole('button', { name: 'Log in' }).isVisible()).toBe(true);
      expect(await section('Endpoints').isVisible()).toBe(false);
      expect(await page().getByRole('button', { name: 'Log out' }).isVisible()).toBe(false);
      await page().screenshot({ path: join(OUT, 'dashboard-login.png'), fullPage: true });
      expect(problems).toEqual([]);
      expect(failed).toEqual([]);
    });

    test('a refused key shows an error and is kept nowhere', async () => {
      await page().getByLabel('API key').fill('eck_not-a-real-key');
      await page().getByRole('button', { name: 'Log in' }).click();
      await page().getByText('That API key was refused.').waitFor();
      expect(await section('Endpoints').isVisible()).toBe(false);
      expect(page().url()).toBe(`${base}/dashboard`);
      expect(await page().evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([0, 0]);
      expect(failed.splice(0)).toEqual(['401 /api/webhooks/endpoints']);
    });

    test('logs in with a real key, kept in this tab only', async () => {
      await page().getByLabel('API key').fill(apiKey);
      await page().getByRole('button', { name: 'Log in' }).click();
      await section('Endpoints').waitFor();
      expect(await page().getByText('No endpoints yet: add one below.').isVisible()).toBe(true);
      expect(await page().getByRole('button', { name: 'Log out' }).isVisible()).toBe(true);
      expect(page().url()).toBe(`${base}/dashboard`);
      expect(await page().evaluate(() => [Object.values(sessionStorage), localStorage.length])).toEqual([[apiKey], 0]);
      expect(await page().getByLabel('API key').inputValue()).toBe('');
    });

    test("a refused URL shows the API's reason; an allowed one is listed with its subscriptions", async () => {
      const add = page().getByRole('form', { name: 'Add an endpoint' });
      await add.getByLabel('URL').fill('https://10.1.2.3/hooks');
      await add.getByRole('button', { name: 'Add endpoint' }).click();
      await expect.poll(() => text(add.getByRole('alert'))).toMatch(/10\.1\.2\.3.*refused.*\(EC_URL_REFUSED\)/);
      expect(failed.splice(0)).toEqual(['400 /api/webhooks/endpoints']);

      await add.getByLabel('URL').fill(receiver.url);
      await add.getByRole('button', { name: 'Add endpoint' }).click();
      await endpointRow().waitFor();
      expect(await text(add.getByRole('alert'))).toBe('');
      expect(await text(statusLine())).toBe(`Endpoint ${receiver.url} added.`);
      const row = await text(endpointRow());
      expect(row).toContain('message.inbound, message.status, template.status, template.quality, consent.event');
      expect(row).toContain('Enabled');
    });

    test('edits the subscriptions', async () => {
      await page()
        .getByRole('button', { name: `Edit ${receiver.url}` })
        .click();
      const edit = page().getByRole('form', { name: `Edit ${receiver.url}` });
      expect(await edit.getByLabel('URL').inputValue()).toBe(receiver.url);
      for (const cat of ['message.status', 'template.quality', 'consent.event']) await edit.getByLabel(cat).uncheck();
      await edit.getByRole('button', { name: 'Save' }).click();
      await expect.poll(() => text(statusLine())).toBe('Endpoint saved.');
      const row = await text(endpointRow());
      expect(row).toContain('message.inbound, template.status');
      expect(row).not.toContain('consent.event');
    });

    test('a delivery the receiver refuses fails; the endpoint is disabled with its reason', async () => {
      receiver.setUp(false);
      await sendInbound(1);
      await page()
        .getByRole('button', { name: `Deliveries of ${receiver.url}` })
        .click();
      await section(`Deliveries to ${receiver.url}`).waitFor();
      await refreshUntil((rows) => rows.length === 1 && rows[0]!.includes('failed'), 'the delivery of message 1 failed');
      expect(await text(deliveryRows().first())).toContain('message.inbound');

      await page().reload(); // the endpoint list is read at log in: the session survives a reload
      await endpointRow().waitFor();
      const row = await text(endpointRow());
      expect(row).toContain('Disabled since');
      expect(row).toMatch(/Reason: every attempt failed since \d{4}-/);
      expect(
        await page()
          .getByRole('button', { name: `Re-enable ${receiver.url}` })
          .isVisible(),
      ).toBe(true);
    });

    test('the failed delivery shows every attempt with status code, latency, error and the body as text', async () => {
      await page()
        .getByRole('button', { name: `Deliveries of ${receiver.url}` })
        .click();
      await statusFilter().selectOption({ label: 'Failed' });
      await refreshUntil((rows) => rows.length === 1, 'one failed delivery');
      await deliveryRows()
        .first()
        .getByRole('button', { name: /^Details of delivery / })
        .click();
      const detail = section(/^Delivery /);
      await detail.waitFor();
      const facts = await text(detail.locator('dl').first());
      expect(facts).toMatch(/Status failed/);
      expect(facts).toMatch(/Failure reason (endpoint_disabled|all \d attempts failed)/);
      const attempts = detail.getByRole('listitem');
      const n = await attempts.count();
      expect(n).toBeGreaterThanOrEqual(1);
      for (let i = 0; i < n; i++) {
        const a = await text(attempts.nth(i));
        expect(a).toMatch(new RegExp(`^Attempt ${i + 1} failed`));
        expect(a).toContain('Status code 500');
        expect(a).toMatch(/Latency \d+ ms/);
        expect(a).toMatch(/Error .*500/);
        // The HTML the receiver answered is shown as text, never rendered.
        expect(await attempts.nth(i).locator('pre.body').textContent()).toBe(DOWN_BODY);
      }
      expect(await detail.locator('pre b, pre script').count()).toBe(0);
      expect(await detail.locator('pre').last().textContent()).toContain('"type": "message.inbound"');
      expect(receiver.received.length).toBe(n);
    });

    test('re-enabling the endpoint and replaying the delivery gets it delivered', async () => {
      receiver.setUp(true);
      await page()
        .getByRole('button', { name: `Re-enable ${receiver.url}` })
        .click();
      await expect.poll(() => text(statusLine())).toBe(`Endpoint ${receiver.url} re-enabled.`);
      expect(await text(endpointRow())).toContain('Enabled');
      expect(await text(endpointRow())).not.toContain('Disabled');

      const detail = section(/^Delivery /);
      const before = await detail.getByRole('listitem').count();
      await detail.getByRole('button', { name: 'Replay' }).click();
      await expect.poll(() => text(statusLine()), { timeout: 30_000 }).toBe('Replayed delivery is delivered.');
      expect(await text(detail.locator('dl').first())).toMatch(/Status delivered/);
      const last = await text(detail.getByRole('listitem').last());
      expect(await detail.getByRole('listitem').count()).toBe(before + 1);
      expect(last).toMatch(/^Round 2, attempt 1 succeeded/);
      expect(last).toContain('Status code 200');
      expect(await detail.getByRole('listitem').last().locator('pre.body').textContent()).toBe('thanks');
      expect(await detail.getByRole('button', { name: 'Replay' }).isVisible()).toBe(false);
      // The list reloaded with the Failed filter still on: nothing failed any more.
      await page().getByText('No deliveries.').waitFor();
    });

    test('"replay all failed since" replays every failed delivery of the endpoint', async () => {
      receiver.setUp(false);
      await sendInbound(2);
      await refreshUntil((rows) => rows.length === 1, 'the delivery of message 2 failed');
      // Refresh reads the endpoints after the deliveries: the endpoint disabled before its delivery failed shows so.
      expect(await text(endpointRow())).toContain('Disabled since');
      receiver.setUp(true);
      await page()
        .getByRole('button', { name: `Re-enable ${receiver.url}` })
        .click();
      await expect.poll(() => text(statusLine())).toBe(`Endpoint ${receiver.url} re-enabled.`);
      await page().getByRole('button', { name: 'Replay failed' }).click(); // since: 24 hours ago by default
      await expect.poll(() => text(statusLine())).toMatch(/^Replaying 1 failed delivery since /);
      await statusFilter().selectOption({ label: 'Delivered' });
      await refreshUntil((rows) => rows.length === 2 && rows.every((r) => r.includes('delivered')), 'both deliveries delivered');
    });

    test('filters by event type and time; an attempt shows the headers it was sent with', async () => {
      await statusFilter().selectOption({ label: 'All' });
      await refreshUntil((rows) => rows.length === 2, 'both deliveries');
      const type = page().getByLabel('Event type');
      await type.selectOption('template.status');
      await page().getByText('No deliveries.').waitFor();
      await type.selectOption('message.inbound');
      await refreshUntil((rows) => rows.length === 2, 'both message.inbound deliveries');
      const tomorrow = new Date(Date.now() + 86_400_000);
      const p = (n: number) => String(n).padStart(2, '0');
      await page()
        .getByLabel('From', { exact: true })
        .fill(`${tomorrow.getFullYear()}-${p(tomorrow.getMonth() + 1)}-${p(tomorrow.getDate())}T00:00`);
      await page().getByText('No deliveries.').waitFor();
      await page().getByLabel('From', { exact: true }).fill('');
      await type.selectOption({ label: 'All' });
      await refreshUntil((rows) => rows.length === 2, 'both deliveries again');

      await deliveryRows()
        .first()
        .getByRole('button', { name: /^Details of delivery / })
        .click();
      const detail = section(/^Delivery /);
      const last = detail.getByRole('listitem').last();
      await last.getByText('Request headers').click();
      const headers = await last.locator('pre.request-headers').textContent();
      expect(headers).toMatch(/^webhook-signature: v1,[A-Za-z0-9+/]+=*$/m);
      expect(headers).toMatch(/^X-EchoCue-Signature: sha256=[0-9a-f]{64}$/m);
      expect(headers).toMatch(/^webhook-id: evt_/m);
    });

    test('the endpoint panel: health over 24 hours, notices, a test event verified with its secret, and a rotation', async () => {
      const panel = section(`Endpoint ${receiver.url}`);
      await panel.waitFor();
      expect(await text(panel.locator('#health-totals'))).toMatch(/^\d+ attempts, \d+ succeeded \(\d+(\.\d)? %\)\.$/);
      expect(await panel.locator('#health-chart rect').count()).toBeGreaterThanOrEqual(1);
      // It was disabled twice (its receiver was down): the notices say so, newest first.
      const notices = await panel.getByRole('listitem').allTextContents();
      expect(notices.filter((n) => /disabled: every attempt failed since/.test(n)).length).toBe(2);

      await panel.getByLabel('Send a test event of type').selectOption('consent.event');
      await panel.getByRole('button', { name: 'Send test event' }).click();
      await expect.poll(() => text(statusLine())).toMatch(/^Test event evt_test_\S+ \(consent\.event\) queued/);
      await refreshUntil(
        (rows) => rows.length === 3 && rows.some((r) => r.includes('consent.event') && r.includes('delivered')),
        'the test event delivered',
      );
      const test = receiver.received.find((r) => JSON.parse(r.body).test === true)!;

      await panel.getByRole('button', { name: 'Reveal' }).click();
      await panel.getByRole('button', { name: 'Hide' }).waitFor();
      const secret = await text(panel.locator('#endpoint-secret'));
      expect(secret).toMatch(/^whsec_/);
      expect(new Webhook(secret).verify(test.body, test.headers)).toMatchObject({ type: 'consent.event', test: true });

      await panel.getByLabel('Old secret keeps signing for (hours)').fill('0');
      await panel.getByRole('button', { name: 'Rotate endpoint secret' }).click();
      await expect.poll(() => text(statusLine())).toBe('Endpoint secret rotated; the old one no longer signs.');
      expect(dialogs.at(-1)).toBe("confirm: Rotate this endpoint's secret? The old one keeps signing for 0 hours.");
      const rotated = await text(panel.locator('#endpoint-secret'));
      expect(rotated).toMatch(/^whsec_/);
      expect(rotated).not.toBe(secret);
      dialogs.splice(0);
      await page().screenshot({ path: join(OUT, 'dashboard-endpoint.png'), fullPage: true });
    });

    test('the signing secret is hidden until revealed, signs the deliveries, and rotates after a confirmation', async () => {
      const secret = section('Signing secret');
      expect(await text(secret.locator('code.secret'))).toBe('hidden');
      await secret.getByRole('button', { name: 'Reveal' }).click();
      await secret.getByRole('button', { name: 'Hide' }).waitFor();
      const secretBefore = await text(secret.locator('code.secret'));
      expect(secretBefore).toMatch(/^ecs_/);
      const delivered = receiver.received.filter((r) => r.body.includes('wamid.dashboard.1'));
      expect(delivered.length).toBeGreaterThan(1);
      for (const r of delivered) expect(verifySignature(r.body, r.signature, secretBefore)).toBe(true);

      await secret.getByRole('button', { name: 'Rotate' }).click();
      await expect.poll(() => text(statusLine())).toBe('Signing secret rotated: give the new secret to your receivers.');
      expect(dialogs).toEqual(['confirm: Rotate the signing secret? Your receivers must check signatures with the new secret.']);
      const secretAfter = await text(secret.locator('code.secret'));
      expect(secretAfter).toMatch(/^ecs_/);
      expect(secretAfter).not.toBe(secretBefore);

      await sendInbound(3);
      await expect.poll(() => receiver.received.find((r) => r.body.includes('wamid.dashboard.3')), { timeout: 60_000 }).toBeDefined();
      const third = receiver.received.find((r) => r.body.includes('wamid.dashboard.3'))!;
      expect(verifySignature(third.body, third.signature, secretAfter)).toBe(true);
      expect(verifySignature(third.body, third.signature, secretBefore)).toBe(false);

      await secret.getByRole('button', { name: 'Hide' }).click();
      expect(await text(secret.locator('code.secret'))).toBe('hidden');
    });

    test('full-page screenshot of the whole dashboard', async () => {
      await statusFilter().selectOption({ label: 'All' });
      await refreshUntil((rows) => rows.length === 4, 'four deliveries (one of them the test event)');
      await deliveryRows()
        .last()
        .getByRole('button', { name: /^Details of delivery / })
        .click();
      await section('Signing secret').getByRole('button', { name: 'Reveal' }).click();
      await section('Signing secret').getByRole('button', { name: 'Hide' }).waitFor();
      await page().screenshot({ path: join(OUT, 'dashboard.png'), fullPage: true });
      expect(problems).toEqual([]);
      expect(failed).toEqual([]);
    });

    test('logging out forgets the key and the data on the page', async () => {
      await page().getByRole('button', { name: 'Log out' }).click();
      await page().getByLabel('API key').waitFor();
      expect(await text(statusLine())).toBe('Logged out.');
      expect(await page().evaluate(() => sessionStorage.length)).toBe(0);
      expect(await page().getByText(receiver.url).count()).toBe(0);
      expect(await page().getByText(/ecs_/).count()).toBe(0); // neither signing secret
      expect(
        await page()
          .getByText(/whsec_/)
          .count(),
      ).toBe(0); // nor the endpoint secret
      await page().reload();
      await page().getByLabel('API key').waitFor();
      expect(await section('Endpoints').isVisible()).toBe(false);
    });
  });
});
