// An event whose write the store refuses for its data must not stall its partition (issue 16; found by the fuzz
// suite). The ingest now replaces U+0000 (which FerretDB over PostgreSQL cannot store), but records written before
// that, or by another producer, still carry it: here one is written straight to the topic, between two ordinary
// messages of the same WABA. On FerretDB the store refuses it: it goes to the dead-letter topic as EC_STORE_REFUSED
// and both neighbours are applied. On MongoDB, which stores U+0000, it is simply applied. Either way the actors drain.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { splitPayload } from '../../src/ingest/split/split-payload.ts';
import { messageIdOf } from '../../src/store/doc-ids.ts';
import { testEnv, type TestEnv } from '../helpers/env.ts';
import { eventDecoder, readTopic, testEvents } from '../../harness/kafka.ts';
import { waitForActors } from '../../harness/topics.ts';

const WABA = '100000000000886';
const text = (n: number, body: string) => ({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: WABA,
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550148803', phone_number_id: '199999999999886' },
            messages: [{ from: '15559000001', id: `wamid.refusal.${n}`, timestamp: String(1781700000 + n), type: 'text', text: { body } }],
          },
        },
      ],
    },
  ],
});

describe('actors > a write the store refuses', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let mongo: MongoClient;

  beforeAll(async () => {
    env = testEnv();
    system = await startSystem({ config: env.config, roles: ['actors'], log: env.log });
    mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
  }, 120_000);
  afterAll(async () => {
    await mongo?.close();
    await system?.stop();
    await env?.cleanup();
  });

  test('goes to the dead-letter topic (or is stored, where the store can), and the partition moves on', { timeout: 180_000 }, async () => {
    const { topics, serde } = await eventDecoder(env.config);
    const topic = topics.events['message.inbound'];
    // Split as the ingest did before it replaced U+0000 (plain JSON.parse keeps it).
    const records = [text(1, 'before'), text(2, 'a\u0000b'), text(3, 'after')].flatMap((body) => {
      const out = splitPayload(JSON.parse(JSON.stringify(body)), { receivedAt: 1_781_700_000_000, accountOf: () => null });
      if (out.kind !== 'events') throw new Error(out.reason);
      return out.events
        .filter((e) => e.eventType === 'message.inbound')
        .map((e) => ({
          topic,
          key: e.key,
          value: serde.encode(topic, e.value),
          headers: { event_type: e.eventType, event_id: String(e.value['event_id']) },
        }));
    });
    const events = testEvents(env.config);
    const producer = await events.createProducer();
    try {
      for (const r of records) await producer.send([r], { timeoutMs: 10_000 }); // one at a time: in this order
    } finally {
      await producer.disconnect();
      await events.close();
    }
    await waitForActors(env.config, 120_000);

    const messages = mongo.db().collection('ec_message');
    const stored = async (n: number) => messages.findOne({ _id: messageIdOf(WABA, `wamid.refusal.${n}`) as never });
    expect(await stored(1)).toMatchObject({ text: 'before' });
    expect(await stored(3)).toMatchObject({ text: 'after' });
    const ferret = 'ferretdbVersion' in (await mongo.db().admin().command({ buildInfo: 1 }));
    const dead = await readTopic(env.config, topics.deadLetter);
    if (ferret) {
      expect(dead.map((d) => [d.headers['dlq-code'], d.headers['event_id']])).toEqual([['EC_STORE_REFUSED', records[1]!.headers.event_id]]);
      expect(dead[0]!.headers['dlq-reason']).toMatch(/SQLSTATE 22P05/);
      expect(await stored(2)).toBeNull();
    } else {
      expect(dead).toEqual([]);
      expect(await stored(2)).toMatchObject({ text: 'a\u0000b' });
    }
  });
});
