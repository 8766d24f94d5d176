// Killing the delivery process (SIGKILL) in the middle of the retry chain loses no delivery, and the only attempts
// sent twice are those the killed process had sent but whose outcome it had not stored yet (the worker stores a
// batch's outcomes in bulk after its sends, then queues and commits: docs/decisions/0010-delivery-round-trips.md).
// Which those were is read from the store after the kill, not guessed from the receiver's open requests.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { type ChildProcess } from 'node:child_process';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { testEnv, waitFor, type TestEnv } from '../helpers/env.ts';
import { postInboundText } from '../helpers/http.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';
import { startReceiver, type Receiver, type Received } from '../helpers/receiver.ts';
import { COLLECTIONS } from '../../src/store/collections.ts';
import { type DeliveryDoc } from '../../src/store/webhooks.ts';
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
    // Each event: two failures, then success; every answer takes a moment, so attempts are in flight most of the time.
    rx.script(
      '/r',
      [
        { status: 500, delayMs: 40 },
        { status: 503, delayMs: 40 },
        { status: 200, delayMs: 40 },
      ],
      { perEvent: true },
    );
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log: env.log });
    api = await openApiChecker(system.url);
    const acc = await api.call('POST', `${system.url}/api/admin/accounts`, { key: ADMIN, body: { name: 'Crash' } });
    await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/wabas`, { key: ADMIN, body: { waba_id: WABA } });
    key = (await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/keys`, { key: ADMIN })).json.key;
    endpointId = (
      await api.call('POST', `${system.url}/api/webhooks/endpoints`, {
        key,
        body: { url: `${rx.base}/r`, categories: ['message.inbound'] },
      })
    ).json.id;
  }, 60_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    await system?.stop();
    await rx?.close();
    await env?.cleanup();
  });

  test(
    'SIGKILL mid-chain, then a restart: every delivery delivered, only attempts sent without a stored outcome sent twice',
    { timeout: 180_000 },
    async () => {
      for (let i = 0; i < MESSAGES; i++) {
        const res = await postInboundText(system.url, {
          waba: WABA,
          from: `1555400${String(i).padStart(4, '0')}`,
          wamid: `wamid.crash.${i}`,
          timestamp: 1_781_700_000 + i,
          text: `m${i}`,
        });
        expect(res.status).toBe(200);
      }

      // Killed once second attempts are flowing: first outcomes stored, later attempts in flight (checked below).
      let kills = 0;
      const killed = new Promise<void>((resolve) => {
        rx.onRequest(() => {
          if (child && rx.received.filter((r) => r.headers['x-echocue-attempt'] !== '1').length >= 20 && kills++ === 0) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      child = serveProcess(env, 'delivery', { ...overrides, LOG_LEVEL: 'error' });
      await killed;
      await exited(child);
      // Requests the killed process had written before it died may still be read by the receiver: let it read them.
      await new Promise((r) => setTimeout(r, 500));
      const attemptKey = (r: Received) => `${String(r.headers['x-echocue-event-id'])}#${String(r.headers['x-echocue-attempt'])}`;
      const sentBeforeRestart = new Set(rx.received.map(attemptKey));
      // The outcomes the killed process stored: those attempts must not be sent again.
      const mongo = new MongoClient(env.config.mongo.uri);
      await mongo.connect();
      const stored = new Set<string>();
      let deliveredAtKill = 0;
      try {
        for (const d of await mongo.db().collection<DeliveryDoc>(COLLECTIONS.delivery).find({ endpoint_id: endpointId }).toArray()) {
          for (const a of d.attempts) if (a.outcome !== 'in_flight') stored.add(`${d.event_id}#${a.n}`);
          if (d.status === 'delivered') deliveredAtKill++;
        }
      } finally {
        await mongo.close();
      }
      const unknown = [...sentBeforeRestart].filter((k) => !stored.has(k)).sort();
      // In flight at the kill, from what the store holds: of the attempts the receiver got, some have their outcome
      // stored (those must not be sent again) and some not (those are sent again); and not every delivery was done.
      const atKill = { sent: sentBeforeRestart.size, stored: stored.size, unknown: unknown.length, delivered: deliveredAtKill };
      expect(atKill.stored, JSON.stringify(atKill)).toBeGreaterThan(0);
      expect(atKill.unknown, JSON.stringify(atKill)).toBeGreaterThan(0);
      expect(atKill.delivered, JSON.stringify(atKill)).toBeLessThan(MESSAGES);

      child = serveProcess(env, 'delivery', { ...overrides, LOG_LEVEL: 'error' });
      const delivered = await waitFor(
        async () => {
          const res = await api.call('GET', `${system.url}/api/webhooks/endpoints/${endpointId}/deliveries?status=delivered&limit=100`, {
            key,
          });
          return res.json.data.length === MESSAGES ? res.json.data : undefined;
        },
        120_000,
        `all ${MESSAGES} deliveries delivered`,
      );
      child.kill('SIGTERM');
      await exited(child);

      // Nothing lost: every event got its 200, after exactly its scripted failures.
      const byEvent = new Map<string, Received[]>();
      for (const r of rx.received)
        byEvent.set(String(r.headers['x-echocue-event-id']), [...(byEvent.get(String(r.headers['x-echocue-event-id'])) ?? []), r]);
      expect(byEvent.size).toBe(MESSAGES);
      expect(delivered.every((d: any) => byEvent.has(d.event_id))).toBe(true);
      // Sent twice: exactly the attempts the killed process sent without storing their outcome (its uncommitted
      // batches); one whose outcome was stored is not sent again, even though its offset was not committed either.
      const seen = new Map<string, number>();
      for (const r of rx.received) seen.set(attemptKey(r), (seen.get(attemptKey(r)) ?? 0) + 1);
      const twice = [...seen]
        .filter(([, n]) => n > 1)
        .map(([k]) => k)
        .sort();
      expect(twice).toEqual(unknown);
      expect([...seen.values()].every((n) => n <= 2)).toBe(true);
      for (const d of delivered) expect(d.attempts.at(-1)).toMatchObject({ outcome: 'success', status_code: 200 });
    },
  );
});
