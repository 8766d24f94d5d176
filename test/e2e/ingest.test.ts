// Ingest end to end against real Kafka and the real registry: every fixture, tampering, bad input, tenancy.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { createAccountStore } from '../../src/store/accounts.ts';
import { createSecretBox } from '../../src/core/secret-box.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { EXPECTED_EVENTS } from '../fixtures/expected-events.ts';
import { FIXTURE_SECRET, fixture, fixtures, testEnv, type TestEnv } from '../helpers/env.ts';
import { postFixture, postWebhook } from '../helpers/http.ts';
import { eventDecoder, readTopic } from '../../harness/kafka.ts';
import { readAllEvents, recordCount, type DecodedRecord } from '../../harness/topics.ts';

const WABA_A = '104719385562013';

/** Deep partial match: nested objects and arrays of objects are compared on the listed fields only. */
function partial(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(partial);
  if (v && typeof v === 'object') return expect.objectContaining(Object.fromEntries(Object.entries(v).map(([k, x]) => [k, partial(x)])));
  return v;
}

describe('ingest > end to end', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let now = 1_781_600_000_000;
  const clock = { now: () => new Date(now) };

  beforeAll(async () => {
    env = testEnv();
    // WABA A belongs to an account; WABA B belongs to nobody yet.
    const mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
    const accounts = createAccountStore(mongo.db(), createSecretBox(env.config.secrets.masterKeys));
    const acc = await accounts.createAccount('Dental clinic', new Date());
    await accounts.linkWaba(WABA_A, acc._id, new Date());
    await mongo.close();
    system = await startSystem({ config: env.config, roles: ['ingest'], log: env.log, clock });
  });
  afterAll(async () => {
    await system?.stop();
    await env?.cleanup();
  });

  const serving = async () =>
    (await fetch(`${system.url}/v1/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=test-verify-token&hub.challenge=ok`)).text();

  describe('bad input is refused with its status and writes nothing', () => {
    const text = fixture('messages.text.json');
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(text.body.toString())));
    const big = Buffer.alloc(3 * 1024 * 1024 + 1, 0x20);
    big.write('{"object":"whatsapp_business_account","entry":[]}');
    const truncated = text.body.subarray(0, text.body.length - 20);
    const cases: [string, number, string, Buffer, Record<string, string>][] = [
      ['no signature', 401, 'EC_SIGNATURE_MISSING', text.body, {}],
      ['a forged signature', 401, 'EC_SIGNATURE_INVALID', text.body, { 'x-hub-signature-256': signBody(text.body, 'not-the-app-secret') }],
      ['a malformed signature header', 401, 'EC_SIGNATURE_INVALID', text.body, { 'x-hub-signature-256': 'sha256=xyz' }],
      ['the signature of a re-serialised body', 401, 'EC_SIGNATURE_INVALID', reserialised, { 'x-hub-signature-256': text.signature }],
      [
        'truncated JSON, correctly signed',
        400,
        'EC_BODY_NOT_JSON',
        truncated,
        { 'x-hub-signature-256': signBody(truncated, FIXTURE_SECRET) },
      ],
      ['3 MiB + 1 byte', 413, 'EC_BODY_TOO_LARGE', big, { 'x-hub-signature-256': signBody(big, FIXTURE_SECRET) }],
      ['text/plain', 415, 'EC_UNSUPPORTED_MEDIA_TYPE', text.body, { 'x-hub-signature-256': text.signature, 'content-type': 'text/plain' }],
    ];
    test.each(cases)('%s -> %i %s', async (_, status, code, body, headers) => {
      const before = await recordCount(env.config);
      const res = await postWebhook(system.url, body, headers);
      expect(res.status).toBe(status);
      expect(res.json?.['error']?.['code']).toBe(code);
      expect(res.json?.['error']?.['message']).toEqual(expect.any(String));
      expect(await recordCount(env.config)).toBe(before);
      expect(await serving()).toBe('ok');
    });

    test.each(fixtures().map((f) => [f.file, f] as const))('%s with one byte changed -> 401 and no record', async (_, f) => {
      const before = await recordCount(env.config);
      const tampered = Buffer.from(f.body);
      const at = tampered.indexOf('"entry"') + 2; // inside a key, so the body stays plausible JSON
      tampered[at] = tampered[at]! ^ 0x20;
      const res = await postWebhook(system.url, tampered, { 'x-hub-signature-256': f.signature });
      expect(res.status).toBe(401);
      expect(await recordCount(env.config)).toBe(before);
    });

    test('failed signatures are counted', async () => {
      const metrics = await (await fetch(`${system.metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(/echocue_ingest_webhook_rejected_total\{code="EC_SIGNATURE_INVALID"\} [1-9]\d*/);
      expect(metrics).toMatch(/echocue_ingest_webhook_rejected_total\{code="EC_SIGNATURE_MISSING"\} 1/);
    });

    test('metrics are served on their own listener only, never on the public port (issue 17)', async () => {
      expect(new URL(system.metricsUrl).port).not.toBe(new URL(system.url).port);
      const onPublic = await fetch(`${system.url}/metrics`);
      expect([onPublic.status, await onPublic.text()]).toEqual([404, expect.not.stringContaining('echocue_')]);
      expect((await fetch(`${system.metricsUrl}/v1/whatsapp/webhook`)).status).toBe(404);
    });

    test('the GET handshake echoes the challenge only for the right token', async () => {
      expect(await serving()).toBe('ok');
      const bad = await fetch(`${system.url}/v1/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=ok`);
      expect(bad.status).toBe(403);
      expect(((await bad.json()) as any).error.code).toBe('EC_VERIFY_TOKEN_INVALID');
    });
  });

  describe('signed input that is odd but valid', () => {
    const sign = (body: string | Buffer) => ({ 'x-hub-signature-256': signBody(body, FIXTURE_SECRET) });

    test('JSON that is not a WABA payload (entry not an array): 200 ignored, counted, raw kept', async () => {
      const body = JSON.stringify({ object: 'whatsapp_business_account', entry: { id: WABA_A, nonce: `ignored-${Date.now()}` } });
      const ignored = async () => {
        const m = /^echocue_ingest_webhook_ignored_total (\d+)$/m.exec(await (await fetch(`${system.metricsUrl}/metrics`)).text());
        return m ? Number(m[1]) : 0; // prom-client lists the counter from the start, at 0
      };
      const [countedBefore, recordsBefore] = [await ignored(), await recordCount(env.config)];
      const res = await postWebhook(system.url, body, sign(body));
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ status: 'ignored', reason: 'entry is not an array' });
      expect(await ignored()).toBe(countedBefore + 1);
      // Kept: exactly one record more, on the raw topic, holding the exact bytes with their signature; no events.
      expect(await recordCount(env.config)).toBe(recordsBefore + 1);
      const { topics } = await eventDecoder(env.config);
      const kept = (await readTopic(env.config, topics.raw)).filter((r) => r.value.equals(Buffer.from(body)));
      expect(kept).toHaveLength(1);
      expect(kept[0]).toMatchObject({
        key: 'none',
        headers: { 'x-hub-signature-256': sign(body)['x-hub-signature-256'], 'event-count': '0' },
      });
    });

    test('unicode and escaped unicode text arrive as the same characters', async () => {
      const raw =
        '{"object":"whatsapp_business_account","entry":[{"id":"555000111","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[' +
        '{"id":"wamid.u1","from":"1","timestamp":"1","type":"text","text":{"body":"Olá 👋 Ñandú — “quoted”"}},' +
        '{"id":"wamid.u2","from":"1","timestamp":"2","type":"text","text":{"body":"Ol\\u00e1 \\ud83d\\udc4b \\u00d1and\\u00fa \\u2014 \\u201cquoted\\u201d"}}]}}]}]}';
      const res = await postWebhook(system.url, raw, sign(raw));
      expect(res.status).toBe(200);
      const { topics, serde } = await eventDecoder(env.config);
      const recs = (await readTopic(env.config, topics.events['message.inbound'])).filter((r) => r.key === '555000111');
      const bodies = await Promise.all(recs.map(async (r) => (await serde.decode(r.topic, r.value))['text_body']));
      expect(bodies).toEqual(['Olá 👋 Ñandú — “quoted”', 'Olá 👋 Ñandú — “quoted”']);
    });

    test('a field nobody knows yet goes whole to the unknown topic', async () => {
      const change = {
        field: 'smb_message_echoes',
        value: { messaging_product: 'whatsapp', message_echoes: [{ id: 'echo-1', novel: { nested: [1, 'two'] } }] },
      };
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: '555000333', time: 1781514000, changes: [change] }],
      });
      const res = await postWebhook(system.url, body, sign(body));
      expect(res).toMatchObject({ status: 200, json: { status: 'accepted', events: 1 } });
      const { topics, serde } = await eventDecoder(env.config);
      const [rec] = (await readTopic(env.config, topics.events.unknown)).filter((r) => r.key === '555000333');
      const ev = await serde.decode(rec!.topic, rec!.value);
      expect(ev).toMatchObject({ event_type: 'unknown', field: 'smb_message_echoes', entry_time: 1781514000, waba_id: '555000333' });
      expect(JSON.parse(ev['raw'] as string)).toEqual(change);
    });

    test('fields named constructor and __proto__ are unknown changes, kept raw: 200, never 500', async () => {
      const body =
        '{"object":"whatsapp_business_account","entry":[{"id":"555000555","changes":[{"field":"constructor","value":{"a":1}},{"field":"__proto__","value":{"b":2}}]}]}';
      const res = await postWebhook(system.url, body, sign(body));
      expect(res).toMatchObject({ status: 200, json: { status: 'accepted', events: 2 } });
      const { topics, serde } = await eventDecoder(env.config);
      const recs = (await readTopic(env.config, topics.events.unknown)).filter((r) => r.key === '555000555');
      const fields = await Promise.all(recs.map(async (r) => (await serde.decode(r.topic, r.value))['field']));
      expect(fields.sort()).toEqual(['__proto__', 'constructor']);
    });

    test('a body nested 50,000 levels deep: 200 ignored with the reason (it was a 500 on every retry)', async () => {
      const body = `{"object":"whatsapp_business_account","entry":[{"id":"555000666","changes":[{"field":"messages","value":{"odd":${'['.repeat(50_000)}${']'.repeat(50_000)}}}]}]}`;
      const res = await postWebhook(system.url, body, sign(body));
      expect(res).toMatchObject({ status: 200, json: { status: 'ignored', reason: 'body nests deeper than 256 levels' } });
    });

    test('numbers where Meta usually sends strings are accepted and kept as text', async () => {
      const body =
        '{"object":"whatsapp_business_account","entry":[{"id":555000444,"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":112356789045671},' +
        '"contacts":[{"wa_id":15550199001,"profile":{"name":"Maya"}}],"messages":[{"id":"wamid.n1","from":15550199001,"timestamp":1781514060,"type":"text","text":{"body":"hi"}}]}}]}]}';
      const res = await postWebhook(system.url, body, sign(body));
      expect(res.status).toBe(200);
      const { topics, serde } = await eventDecoder(env.config);
      const [rec] = (await readTopic(env.config, topics.events['message.inbound'])).filter((r) => r.key === '555000444');
      expect(await serde.decode(rec!.topic, rec!.value)).toMatchObject({
        waba_id: '555000444',
        phone_number_id: '112356789045671',
        from: '15550199001',
        meta_timestamp: 1781514060,
        contact: { wa_id: '15550199001', name: 'Maya' },
      });
    });

    test('1000 statuses in one POST: 200 once all 1000 are on Kafka', async () => {
      const statuses = Array.from({ length: 1000 }, (_, i) => ({
        id: `wamid.bulk${i}`,
        status: 'delivered',
        timestamp: String(1781514000 + i),
        recipient_id: '15550199001',
      }));
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: '555000222', changes: [{ field: 'messages', value: { metadata: { phone_number_id: '1' }, statuses } }] }],
      });
      const res = await postWebhook(system.url, body, sign(body));
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ status: 'accepted', events: 1000 });
      const { topics } = await eventDecoder(env.config);
      const recs = (await readTopic(env.config, topics.events['message.status'])).filter((r) => r.key === '555000222');
      expect(recs).toHaveLength(1000);
      expect(new Set(recs.map((r) => r.headers['event_id'])).size).toBe(1000);
    });
  });

  describe('every shared fixture', () => {
    let records: DecodedRecord[];
    const base = 1_781_700_000_000;
    const files = fixtures();

    beforeAll(async () => {
      for (const [i, f] of files.entries()) {
        now = base + i; // the clock tells which POST each record came from
        const res = await postFixture(system.url, f);
        expect(res.status, f.file).toBe(200);
        expect(res.json, f.file).toEqual({ status: 'accepted', events: EXPECTED_EVENTS[f.file]!.length });
      }
      records = (await readAllEvents(env.config)).filter((r) => (r.event['received_at'] as number) >= base);
    }, 180_000);

    test.each(files.map((f, i) => [f.file, i] as const))('%s produces exactly its expected events', (file, i) => {
      const mine = records.filter((r) => r.event['received_at'] === base + i);
      const expected = EXPECTED_EVENTS[file]!;
      expect(mine.map((r) => r.eventType).sort()).toEqual(expected.map(([t]) => t).sort());
      expect(mine.map((r) => r.event)).toEqual(
        expect.arrayContaining(expected.map(([t, fields]) => partial({ event_type: t, ...fields }))),
      );
      for (const r of mine) {
        expect(r.key).toBe(r.event['waba_id']);
        expect(r.headers['event_id']).toBe(r.event['event_id']);
        expect(r.headers['event_type']).toBe(r.eventType);
        // Tenancy: WABA A is owned; B is not, and its events are still written, flagged with a null account.
        expect(r.event['account_id'] === null).toBe(r.event['waba_id'] !== WABA_A);
      }
    });

    test('the raw topic holds each POST byte for byte with its signature header', async () => {
      const { topics } = await eventDecoder(env.config);
      const raws = await readTopic(env.config, topics.raw);
      for (const f of files) {
        const r = raws.find((x) => x.value.equals(f.body));
        expect(r, f.file).toBeDefined();
        expect(r!.headers['x-hub-signature-256']).toBe(f.signature);
        expect(r!.headers['content-type']).toBe('application/json');
      }
    });

    test('events of a WABA no account owns are counted', async () => {
      const metrics = await (await fetch(`${system.metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(/echocue_ingest_unowned_waba_events_total [1-9]\d*/);
    });
  });
});

describe('ingest > app secret rotation', () => {
  let env: TestEnv;
  let system: RunningSystem;
  beforeAll(async () => {
    // The new secret first, the fixture (old) secret second, as during a rotation.
    env = testEnv({ META_APP_SECRET: `a-brand-new-app-secret,${FIXTURE_SECRET}` });
    system = await startSystem({ config: env.config, roles: ['ingest'], log: env.log });
  });
  afterAll(async () => {
    await system?.stop();
    await env?.cleanup();
  });

  test('bodies signed with either secret are accepted; any other secret is refused', async () => {
    const body = fixture('messages.text.json').body;
    expect((await postWebhook(system.url, body, { 'x-hub-signature-256': signBody(body, FIXTURE_SECRET) })).status).toBe(200);
    expect((await postWebhook(system.url, body, { 'x-hub-signature-256': signBody(body, 'a-brand-new-app-secret') })).status).toBe(200);
    expect((await postWebhook(system.url, body, { 'x-hub-signature-256': signBody(body, 'a-retired-app-secret') })).status).toBe(401);
  });
});
