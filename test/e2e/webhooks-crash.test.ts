// Killing the delivery process (SIGKILL) in the middle of the retry chain loses no delivery and sends no attempt
// twice, except an attempt that was in flight at the kill (its outcome is unknown, so it is sent again).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ChildProcess } from 'node:child_process';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { FIXTURE_SECRET, testEnv, waitFor, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';
import { startReceiver, type Receiver, type Received } from '../helpers/receiver.ts';
import { exited, serveProcess } from '../helpers/process.ts';

const ADMIN = 'admin-token-for-crash-tests';
const WABA = '104719385562013';
const MESSAGES = 30;
const overrides = { ADMIN_TOKEN: ADMIN, DELIVERY_DELAY_SCALE: '0.001', DELIVERY_ALLOW_CIDRS: '127.0.0.1/32', DELIVERY_TIMEOUT_MS: '5000' };


describe('outbound webhooks > the delivery process killed mid-chain', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let api: OpenApiChecker;
  let rx: Receiver;
  let child: ChildProcess | undefined;
  let key = '';
  let endpointId = '';

  beforeAll(async () => {
    env = testEnv(overrides);
    rx = await startReceiver();
    // Each event: two failures, then success; every answer takes a moment, so the kill finds attempts in flight.
    rx.script('/r', [{ status: 500, delayMs: 40 }, { status: 503, delayMs: 40 }, { status: 200, delayMs: 40 }], { perEvent: true });
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log: env.log });
    api = await openApiChecker(system.url);
    const acc = await api.call('POST', `${system.url}/api/admin/accounts`, { key: ADMIN, body: { name: 'Crash' } });
    await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/wabas`, { key: ADMIN, body: { waba_id: WABA } });
    key = (await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/keys`, { key: ADMIN })).json.key;
    endpointId = (await api.call('POST', `${system.url}/api/webhooks/endpoints`, { key, body: { url: `${rx.base}/r`, categories: ['message.inbound'] } })).json.id;
  }, 60_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    await system?.stop();
    await rx?.close();
    await env?.cleanup();
  });

  test('SIGKILL with attempts in flight, then a restart: every delivery delivered, only in-flight attempts sent twice', { timeout: 180_000 }, async () => {
    for (let i = 0; i < MESSAGES; i++) {
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: WABA, changes: [{ field: 'messages', value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '15550142277', phone_number_id: '112356789045671' },
          messages: [{ from: `1555400${String(i).padStart(4, '0')}`, id: `wamid.crash.${i}`, timestamp: String(1_781_700_000 + i), type: 'text', text: { body: `m${i}` } }],
        } }] }],
      });
      expect((await postWebhook(system.url, body, { 'x-hub-signature-256': signBody(body, FIXTURE_SECRET) })).status).toBe(200);
    }

    let inFlightAtKill: Received[] = [];
    const killed = new Promise<void>((resolve) => {
      rx.onRequest(() => {
        if (child && rx.received.length >= 25 && inFlightAtKill.length === 0) {
          child.kill('SIGKILL');
          inFlightAtKill = rx.pending();
          resolve();
        }
      });
    });
    child = serveProcess(env, 'delivery', { ...overrides, LOG_LEVEL: 'error' });
    await killed;
    await exited(child);
    const beforeRestart = rx.received.length;
    expect(beforeRestart).toBeLessThan(MESSAGES * 3); // it really was interrupted
    expect(inFlightAtKill.length).toBeGreaterThan(0);

    child = serveProcess(env, 'delivery', { ...overrides, LOG_LEVEL: 'error' });
    const delivered = await waitFor(async () => {
      const res = await api.call('GET', `${system.url}/api/webhooks/endpoints/${endpointId}/deliveries?status=delivered&limit=100`, { key });
      return res.json.data.length === MESSAGES ? res.json.data : undefined;
    }, 120_000, `all ${MESSAGES} deliveries delivered`);
    child.kill('SIGTERM');
    await exited(child);

    // Nothing lost: every event got its 200, after exactly its scripted failures.
    const byEvent = new Map<string, Received[]>();
    for (const r of rx.received) byEvent.set(String(r.headers['x-echocue-event-id']), [...(byEvent.get(String(r.headers['x-echocue-event-id'])) ?? []), r]);
    expect(byEvent.size).toBe(MESSAGES);
    expect(delivered.every((d: any) => byEvent.has(d.event_id))).toBe(true);
    // Nothing sent twice, except attempts in flight at the kill.
    const seen = new Map<string, number>();
    for (const r of rx.received) {
      const k = `${String(r.headers['x-echocue-event-id'])}#${String(r.headers['x-echocue-attempt'])}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    const twice = [...seen].filter(([, n]) => n > 1).map(([k]) => k).sort();
    const unknown = new Set(inFlightAtKill.map((r) => `${String(r.headers['x-echocue-event-id'])}#${String(r.headers['x-echocue-attempt'])}`));
    // Each of those was marked in flight before it was sent, so the restarted worker sends exactly those again.
    expect(twice).toEqual([...unknown].sort());
    expect([...seen.values()].every((n) => n <= 2)).toBe(true);
    for (const d of delivered) expect(d.attempts.at(-1)).toMatchObject({ outcome: 'success', status_code: 200 });
  });
});
