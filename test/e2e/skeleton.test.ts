// Foundation walking skeleton, all real: signed POST -> verified -> Avro record (registered schema, Confluent wire
// format) on a topic keyed by WABA id -> thread actor -> documents in the MongoDB-wire store -> GET /api/thread/list.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { startSystem, ROLES, type RunningSystem } from '../../src/cli/system.ts';
import { valueSubject } from '../../src/events/topics.ts';
import { fixture, testEnv, waitFor, type TestEnv } from '../helpers/env.ts';
import { getJson, postFixture } from '../helpers/http.ts';
import { eventDecoder, readTopic } from '../../harness/kafka.ts';
import { waitForActors } from '../../harness/topics.ts';
import { ROOT } from '../helpers/services.ts';

const run = promisify(execFile);

/** Runs the real `echocue` bin (as a user would with npx) against the test's services. */
async function echocue(env: TestEnv, ...args: string[]): Promise<Record<string, string>> {
  const { stdout } = await run(process.execPath, [`${ROOT}bin/echocue.js`, ...args, '--json'], {
    env: {
      ...process.env,
      MONGODB_URI: env.config.mongo.uri,
      KAFKA_BROKERS: env.config.kafka.brokers.join(','),
      SCHEMA_REGISTRY_URL: env.config.registry.url,
    },
  });
  return JSON.parse(stdout) as Record<string, string>;
}

describe('foundation > walking skeleton', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let apiKey: string;
  let accountId: string;

  beforeAll(async () => {
    env = testEnv();
    system = await startSystem({ config: env.config, roles: [...ROLES], log: env.log });
    const account = await echocue(env, 'accounts', 'create', '--name', 'Dental clinic');
    accountId = account['id']!;
    await echocue(env, 'wabas', 'link', '--account', accountId, '--waba', '104719385562013');
    apiKey = (await echocue(env, 'keys', 'create', '--account', accountId))['key']!;
  });

  afterAll(async () => {
    await system?.stop();
    await env?.cleanup();
  });

  test('a signed inbound text becomes an Avro record, a stored thread and message, and a thread in the API', async () => {
    const f = fixture('messages.text.json');
    const res = await postFixture(system.url, f);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'accepted', events: 1 });

    // The record on Kafka: keyed by WABA, Confluent framing with the registered schema id, decodes to the message.
    const { topics, serde, registry } = await eventDecoder(env.config);
    const topic = topics.events['message.inbound'];
    const records = await readTopic(env.config, topic);
    expect(records).toHaveLength(1);
    const rec = records[0]!;
    expect(rec.key).toBe('104719385562013');
    expect(rec.value[0]).toBe(0);
    const registered = await registry.getLatestSchemaMetadata(valueSubject(topic));
    expect(rec.value.readInt32BE(1)).toBe(registered.id);

    const event = await serde.decode(topic, rec.value);
    expect(event).toMatchObject({
      event_type: 'message.inbound',
      waba_id: '104719385562013',
      phone_number_id: '112356789045671',
      wamid: 'wamid.HBgLMTU1NTAxOTkwMDEVAgASGBQwMTMwMUI0MDkwNTZBRUYxMThFNAA=',
      message_type: 'text',
      meta_timestamp: '1781514060',
      from: '15550199001',
      from_user_id: 'US.60418273950617283945',
      text_body: 'Hi! Do you have any openings for a cleaning next week?',
      contact: { wa_id: '15550199001', user_id: 'US.60418273950617283945', name: 'Maya Okafor', username: null, parent_user_id: null },
    });
    expect(rec.headers['event_id']).toBe(event['event_id']);

    // The thread through the REST API, as a poller sees it.
    const thread = await waitFor(
      async () => {
        const r = await getJson(`${system.url}/api/thread/list`, apiKey);
        return r.status === 200 && r.json['data'].length > 0 ? r.json['data'][0] : undefined;
      },
      30_000,
      'the thread to appear in /api/thread/list',
    );
    expect(thread).toMatchObject({
      waba_id: '104719385562013',
      phone_number_id: '112356789045671',
      contact: { wa_id: '15550199001', user_id: 'US.60418273950617283945', name: 'Maya Okafor' },
      last_message_at: '2026-06-15T09:01:00.000Z',
      window_expires_at: '2026-06-16T09:01:00.000Z',
      unread_count: 1,
    });

    // And the documents themselves in the store.
    const mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
    try {
      const messages = await mongo.db().collection('ec_message').find().toArray();
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ wamid: event['wamid'], thread_id: thread.id, direction: 'inbound', text: event['text_body'] });
    } finally {
      await mongo.close();
    }
  });

  test('the same webhook delivered again changes nothing: one message, unread still 1', async () => {
    const f = fixture('messages.text.json');
    expect((await postFixture(system.url, f)).status).toBe(200);
    const { topics } = await eventDecoder(env.config);
    // Both deliveries are on the topic (Meta's duplicate is kept for audit) with the same event id...
    const records = await waitFor(
      async () => {
        const r = await readTopic(env.config, topics.events['message.inbound']);
        return r.length === 2 ? r : undefined;
      },
      20_000,
      'the second record',
    );
    expect(records[0]!.headers['event_id']).toBe(records[1]!.headers['event_id']);
    // ...and once the actors have applied it (their group's lag is 0), the state is unchanged.
    await waitForActors(env.config);
    const r = await getJson(`${system.url}/api/thread/list`, apiKey);
    expect(r.json['data']).toHaveLength(1);
    expect(r.json['data'][0].unread_count).toBe(1);
  });

  test('the API refuses a request without a valid key', async () => {
    expect((await getJson(`${system.url}/api/thread/list`)).status).toBe(401);
    const r = await getJson(`${system.url}/api/thread/list`, 'eck_not-a-real-key');
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: { code: 'EC_UNAUTHENTICATED', message: 'API key is unknown or revoked' } });
  });

  test('keys are listed without their secret, and a revoked key is refused on the very next request', async () => {
    const listed = (await echocue(env, 'keys', 'list', '--account', accountId)) as unknown as {
      keys: { id: string; prefix: string; revoked_at: string | null }[];
    };
    expect(listed.keys).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(apiKey);
    expect(apiKey.startsWith(listed.keys[0]!.prefix)).toBe(true);
    expect((await getJson(`${system.url}/api/thread/list`, apiKey)).status).toBe(200);
    await echocue(env, 'keys', 'revoke', '--account', accountId, '--key', listed.keys[0]!.id);
    expect((await getJson(`${system.url}/api/thread/list`, apiKey)).status).toBe(401);
  });
});
