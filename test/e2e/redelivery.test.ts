// A redelivery that changes nothing changes nothing (issue 14, rule 5): Meta retries, or the same bodies POSTed
// again, leave every actor document exactly as it was (updated_at, changed_at and version included) and send no
// outbound webhook again: a notification written again carries the id it had the first time (the actors write one
// per applied event, so that a batch replayed after a crash loses none), and finds its deliveries already planned.
// Every shared fixture, through HTTP ingest, twice more.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { startSystem, ROLES, type RunningSystem } from '../../src/cli/system.ts';
import { CATEGORIES } from '../../src/events/outbound.ts';
import { topicNames } from '../../src/events/topics.ts';
import { fixtures, testEnv, waitFor, type TestEnv } from '../helpers/env.ts';
import { postFixture } from '../helpers/http.ts';
import { readTopic, withEvents } from '../../harness/kafka.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { actorDocuments } from '../helpers/store-dump.ts';
import { waitForActors } from '../../harness/topics.ts';

const ADMIN = 'admin-token-for-redelivery-tests';

/** Every WABA id the fixtures name (entry[].id). */
function fixtureWabas(): string[] {
  const ids = new Set<string>();
  for (const f of fixtures())
    for (const e of (JSON.parse(f.body.toString()) as { entry?: { id?: string }[] }).entry ?? []) if (e.id) ids.add(e.id);
  return [...ids];
}

describe('actors > redelivery', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let rx: Receiver;

  beforeAll(async () => {
    rx = await startReceiver();
    rx.script('/all', [{ status: 200 }]);
    env = testEnv({ ADMIN_TOKEN: ADMIN, DELIVERY_ALLOW_CIDRS: '127.0.0.1/32', DELIVERY_DELAY_SCALE: '0.001' });
    system = await startSystem({ config: env.config, roles: [...ROLES], log: env.log });
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    await rx?.close();
    await env?.cleanup();
  });

  const admin = (path: string, body?: unknown) =>
    fetch(`${system.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));

  /** Distinct notification ids on the notifications topic, and deliveries in the store. */
  async function outbound(): Promise<{ notifications: string[]; deliveries: number }> {
    const topic = topicNames(env.config.kafka.topicPrefix).notifications;
    const notifications = [...new Set((await readTopic(env.config, topic)).map((r) => r.headers['notification_id']!))].sort();
    const mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
    try {
      return { notifications, deliveries: await mongo.db().collection('ec_delivery').countDocuments() };
    } finally {
      await mongo.close();
    }
  }

  test('every fixture POSTed again leaves every document byte for byte, and nothing goes out again', { timeout: 240_000 }, async () => {
    const account = await admin('/api/admin/accounts', { name: 'Redelivery clinic' });
    for (const waba of fixtureWabas())
      expect((await admin(`/api/admin/accounts/${account.json.id}/wabas`, { waba_id: waba })).status).toBe(200);
    const key = (await admin(`/api/admin/accounts/${account.json.id}/keys`)).json.key as string;
    const ep = await fetch(`${system.url}/api/webhooks/endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${rx.base}/all`, categories: [...CATEGORIES] }),
    });
    expect(ep.status).toBe(201);

    for (const f of fixtures()) expect((await postFixture(system.url, f)).status, f.file).toBe(200);
    await waitForActors(env.config, 90_000);
    // The first pass went out: notifications planned into deliveries, and delivered.
    const first = await waitFor(
      async () => {
        const o = await outbound();
        return o.deliveries > 0 && o.deliveries === rx.at('/all').length ? o : undefined;
      },
      90_000,
      'the first pass delivered',
    );
    const before = await actorDocuments(env.config.mongo.uri, { withStamps: true });
    expect(Object.values(before).flat().length).toBeGreaterThan(20);

    // Meta delivers every body again (at-least-once), twice, in reverse order the second time.
    for (const f of fixtures()) expect((await postFixture(system.url, f)).status, f.file).toBe(200);
    for (const f of fixtures().reverse()) expect((await postFixture(system.url, f)).status, f.file).toBe(200);
    await waitForActors(env.config, 90_000);
    // The planner had its chance too: its group has read the notifications topic to the end.
    const planner = `${env.config.kafka.topicPrefix}echocue.delivery.planner`;
    const topic = topicNames(env.config.kafka.topicPrefix).notifications;
    await waitFor(
      () =>
        withEvents(env.config, async (e) => {
          const [end, done] = await Promise.all([e.admin.endOffsets([topic]), e.admin.committedOffsets(planner, [topic])]);
          return end.get(topic)!.every((o, p) => o <= 0n || done.get(topic)![p] === o) ? true : undefined;
        }),
      60_000,
      'the planner to read every notification',
    );

    expect(await actorDocuments(env.config.mongo.uri, { withStamps: true })).toEqual(before);
    expect(await outbound()).toEqual(first);
    expect(rx.at('/all')).toHaveLength(first.deliveries);
  });
});
