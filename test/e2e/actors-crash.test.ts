// Killing the actor process (SIGKILL) in the middle of a large batch and restarting it gives exactly the
// documents of an uninterrupted run: the same backlog goes to two topic prefixes; one is applied without
// interruption in-process, the other by a real `echocue serve --role actors` process that is killed mid-way.
import { type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { startSystem } from '../../src/cli/system.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { FIXTURE_SECRET, testEnv, waitFor, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { eventDecoder, readTopics, withEvents } from '../../harness/kafka.ts';
import { waitForActors } from '../../harness/topics.ts';
import { actorDocuments } from '../helpers/store-dump.ts';
import { exited, explainedBy, serveProcess } from '../helpers/process.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

const POSTS = 16;
const T0 = 1_781_514_000;

/** A deterministic backlog: 4 WABAs, 60 contacts, inbound texts (some STOP/START), statuses out of order,
 *  number changes that merge contacts. ~800 events. */
function backlog(): string[] {
  const bodies: string[] = [];
  let seq = 0;
  for (let i = 0; i < POSTS; i++) {
    const waba = `55560000${i % 4}`;
    const messages = [];
    for (let j = 0; j < 30; j++) {
      const c = (i * 13 + j * 7) % 60;
      const from = `1555020${String(c).padStart(4, '0')}`;
      const body = j % 11 === 0 ? 'STOP' : j % 17 === 0 ? 'start' : `message ${seq}`;
      messages.push({ from, id: `wamid.c${seq}`, timestamp: String(T0 + seq * 7), type: 'text', text: { body } });
      seq++;
    }
    if (i % 5 === 4) {
      const c = i % 60;
      messages.push({
        from: `1555020${String(c).padStart(4, '0')}`,
        id: `wamid.sys${i}`,
        timestamp: String(T0 + seq * 7),
        type: 'system',
        system: { body: 'changed number', wa_id: `1555030${String(c).padStart(4, '0')}`, type: 'user_changed_number' },
      });
    }
    const statuses = [];
    for (let k = 0; k < 18; k++) {
      const n = (i * 5 + k) % 120;
      statuses.push({
        id: `wamid.out${n}`,
        status: ['read', 'sent', 'delivered'][(i + k) % 3],
        timestamp: String(T0 + n * 3 + ((i + k) % 3)),
        recipient_id: `1555020${String(n % 60).padStart(4, '0')}`,
      });
    }
    bodies.push(
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: waba,
            changes: [
              {
                field: 'messages',
                value: {
                  metadata: { phone_number_id: `9${i % 4}` },
                  contacts: messages.slice(0, 1).map((m) => ({ wa_id: m.from, profile: { name: `Contact ${m.from}` } })),
                  messages,
                  statuses,
                },
              },
            ],
          },
        ],
      }),
    );
  }
  return bodies;
}

/** Where the messages stood when the process died, read from the inbound and status topics, the group's committed
 *  offsets and the store, by wamid: `ahead`, stored although no record of theirs was committed yet (a batch was
 *  being written and not committed); `missing`, not stored at all (the backlog was not through). */
async function messagesAtKill(env: TestEnv, db: Db): Promise<{ wamids: number; ahead: number; missing: number }> {
  const { topics, serde } = await eventDecoder(env.config);
  const sources = [topics.events['message.inbound'], topics.events['message.status']];
  const groupId = `${env.config.kafka.topicPrefix}echocue.actors`;
  const committed = await withEvents(env.config, (events) => events.admin.committedOffsets(groupId, sources));
  const all = new Set<string>();
  const fromCommitted = new Set<string>();
  for (const r of await readTopics(env.config, sources)) {
    const { wamid } = (await serde.decode(r.topic, r.value)) as { wamid: string };
    all.add(wamid);
    if (BigInt(r.offset) < (committed.get(r.topic)?.[r.partition] ?? -1n)) fromCommitted.add(wamid);
  }
  const stored = new Set(
    (
      await db
        .collection<{ wamid: string }>('ec_message')
        .find({}, { projection: { wamid: 1 } })
        .toArray()
    ).map((d) => d.wamid),
  );
  return {
    wamids: all.size,
    ahead: [...stored].filter((w) => all.has(w) && !fromCommitted.has(w)).length,
    missing: [...all].filter((w) => !stored.has(w)).length,
  };
}

async function ingestBacklog(env: TestEnv): Promise<void> {
  let now = 1_781_600_000_000;
  const system = await startSystem({ config: env.config, roles: ['ingest'], log: env.log, clock: { now: () => new Date(now) } });
  try {
    for (const [i, body] of backlog().entries()) {
      now = 1_781_600_000_000 + i * 1000;
      const res = await postWebhook(system.url, body, { 'x-hub-signature-256': signBody(body, FIXTURE_SECRET) });
      expect(res.status).toBe(200);
    }
  } finally {
    await system.stop();
  }
}

describe('actors > crash in the middle of a batch', () => {
  let reference: TestEnv;
  let crashed: TestEnv;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    reference = testEnv();
    crashed = testEnv();
    await ingestBacklog(reference);
    await ingestBacklog(crashed);
  }, 180_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    await reference?.cleanup();
    await crashed?.cleanup();
  });

  test('SIGKILL mid-batch, then a restart, ends in exactly the documents of an uninterrupted run', { timeout: 400_000 }, async () => {
    const system = await startSystem({ config: reference.config, roles: ['actors'], log: reference.log });
    await waitForActors(reference.config, 120_000);
    await system.stop();
    const expected = await actorDocuments(reference.config.mongo.uri);
    expect(expected['ec_message']!.length).toBeGreaterThan(400);

    // Kill as soon as the first writes of the first batches land: the batch is being written, not committed. The
    // killed process reaches the store through a proxy that holds back each answer, so that a batch's writes (one
    // round trip per collection, messages first) take long enough for the kill to land between them.
    const mongo = new MongoClient(crashed.config.mongo.uri);
    await mongo.connect();
    const direct = new URL(crashed.config.mongo.uri.replace(/^mongodb:/, 'http:'));
    const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port) });
    proxy.slow(100);
    child = serveProcess(crashed, 'actors', {
      MONGODB_URI: crashed.config.mongo.uri.replace(`${direct.hostname}:${direct.port}`, `127.0.0.1:${proxy.port}`),
    });
    try {
      await waitFor(
        async () => ((await mongo.db().collection('ec_message').countDocuments()) > 0 ? true : undefined),
        60_000,
        'the first writes of the actor process',
      );
      child.kill('SIGKILL');
      await exited(child);
    } finally {
      await proxy.close();
    }
    // Mid-batch, from what the dead process left: messages stored by records whose offsets it had not committed (a
    // batch written, at least in part, and not committed), and others not stored at all (it was interrupted).
    const atKill = await messagesAtKill(crashed, mongo.db());
    await mongo.close();
    expect(atKill.ahead, `stored but not committed at the kill (${JSON.stringify(atKill)})`).toBeGreaterThan(0);
    expect(atKill.missing, `not stored at the kill (${JSON.stringify(atKill)})`).toBeGreaterThan(0);

    const restarted = serveProcess(crashed, 'actors');
    child = restarted;
    await explainedBy(restarted, () => waitForActors(crashed.config, 120_000));
    child.kill('SIGTERM');
    await exited(child);
    expect(await actorDocuments(crashed.config.mongo.uri)).toEqual(expected);
  });
});
