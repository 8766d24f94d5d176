// The data teams' commands as a user runs them (issue 17): `echocue topics` lists the catalog, `echocue tail` prints
// what ingest wrote, decoded through the registry, filtered by key and time. Real bin, real broker and registry.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { topicNames } from '../../src/events/topics.ts';
import { fixture, testEnv, type TestEnv } from '../helpers/env.ts';
import { postFixture, postInboundText } from '../helpers/http.ts';
import { runEchocue } from '../helpers/process.ts';

const WABA = '104719385562013'; // the fixtures' WABA
const OTHER_WABA = '209876543210987';

const echocue = (env: TestEnv, ...args: string[]) => runEchocue(env, args);

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { topic: string; key: string; timestamp: string; headers: Record<string, string>; value: any });

describe('cli > data-team tools', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let between: string;

  beforeAll(async () => {
    env = testEnv();
    system = await startSystem({ config: env.config, roles: ['ingest'], log: env.log });
    // Three inbound messages: the fixture's, then (after a mark in time) one on another WABA and one more on the first.
    expect((await postFixture(system.url, fixture('messages.text.json'))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100)); // Kafka timestamps are in ms; keep the mark clear of both sides
    between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1100));
    const now = Math.floor(Date.now() / 1000);
    expect(
      (await postInboundText(system.url, { waba: OTHER_WABA, from: '15550001111', wamid: 'wamid.other', timestamp: now, text: 'other' }))
        .status,
    ).toBe(200);
    expect(
      (await postInboundText(system.url, { waba: WABA, from: '15550002222', wamid: 'wamid.later', timestamp: now, text: 'later' })).status,
    ).toBe(200);
  });

  afterAll(async () => {
    await system?.stop();
    await env?.cleanup();
  });

  test('topics: every topic EchoCue writes, with the deployment prefix, its format and schema', async () => {
    const r = await echocue(env, 'topics', '--json');
    expect(r.code).toBe(0);
    const catalog = (JSON.parse(r.stdout) as { topics: { topic: string; format: string; schema: string | null }[] }).topics;
    expect(catalog.map((t) => t.topic).sort()).toEqual([...topicNames(env.config.kafka.topicPrefix).all].sort());
    const inbound = catalog.find((t) => t.topic === `${env.config.kafka.topicPrefix}whatsapp.message.inbound.v1`)!;
    expect(inbound).toMatchObject({ format: 'avro', schema: 'schemas/message.inbound.avsc' });
  });

  test("tail --from-beginning --key: the fixture's inbound message, decoded from Avro, as a JSON line", async () => {
    const r = await echocue(env, 'tail', 'message.inbound', '--from-beginning', '--key', WABA, '--max', '2');
    expect(r.code).toBe(0);
    const got = lines(r.stdout);
    expect(got.map((l) => [l.topic, l.key, l.value.wamid])).toEqual([
      [topicNames(env.config.kafka.topicPrefix).events['message.inbound'], WABA, expect.stringMatching(/^wamid\./)],
      [topicNames(env.config.kafka.topicPrefix).events['message.inbound'], WABA, 'wamid.later'],
    ]);
    const fixtureBody = JSON.parse(fixture('messages.text.json').body.toString('utf8'));
    const sent = fixtureBody.entry[0].changes[0].value.messages[0];
    expect(got[0]!.value).toMatchObject({ waba_id: WABA, wamid: sent.id, from: sent.from, message_type: 'text' });
    expect(got[0]!.headers['event_type']).toBe('message.inbound');
  });

  test('tail --since: only what was written from that time on; a topic by its full name; the raw topic as parsed JSON', async () => {
    const r = await echocue(env, 'tail', `${env.config.kafka.topicPrefix}whatsapp.message.inbound.v1`, '--since', between, '--max', '2');
    expect(r.code).toBe(0);
    // Two WABAs, two partitions: no order between them.
    expect(
      lines(r.stdout)
        .map((l) => [l.key, l.value.wamid])
        .sort(),
    ).toEqual([
      [WABA, 'wamid.later'],
      [OTHER_WABA, 'wamid.other'],
    ]);
    expect(lines(r.stdout).every((l) => l.timestamp >= between)).toBe(true);

    const raw = await echocue(env, 'tail', 'whatsapp.raw.v1', '--from-beginning', '--key', WABA, '--max', '1'); // its first body
    expect(raw.code).toBe(0);
    expect(lines(raw.stdout)[0]!.value).toEqual(JSON.parse(fixture('messages.text.json').body.toString('utf8')));
  });

  test('bad input: an unknown topic, a bad --since or --max is EC_USAGE (exit 2), naming the problem', async () => {
    const unknown = await echocue(env, 'tail', 'whatsapp.nope.v1', '--max', '1');
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      2,
      'echocue: "whatsapp.nope.v1" is not an EchoCue topic; `echocue topics` lists them',
    ]);
    const since = await echocue(env, 'tail', 'message.inbound', '--since', 'last week');
    expect([since.code, since.stderr]).toEqual([2, expect.stringContaining('--since must be an ISO 8601 time or a duration')]);
    const max = await echocue(env, 'tail', 'message.inbound', '--max', '-3');
    expect(max.code).toBe(2);
    const none = await echocue(env, 'tail');
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining('tail needs a TOPIC')]);
  });
});
