import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { isAppError } from '../core/errors.ts';
import { buildEnvelope, CATEGORIES, signatureHeaders, verifySignature, type Category } from './envelope.ts';

const CREATED = new Date('2026-03-01T12:34:56.789Z');
const SECRET = 'whsec_test-signing-secret';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (!isAppError(e)) throw e;
    return e.code;
  }
  return undefined;
}

describe('delivery > envelope', () => {
  test('lists the five outbound categories', () => {
    expect(CATEGORIES).toEqual(['message.inbound', 'message.status', 'template.status', 'template.quality', 'consent.event']);
  });

  test('from payload version 2 on the envelope carries its version; a test event carries test: true', () => {
    const v2 = buildEnvelope({ id: 'evt_2', category: 'message.status', createdAt: CREATED, data: {}, version: 2, test: true });
    expect(v2.body).toBe(
      '{"id":"evt_2","type":"message.status","version":2,"created_at":"2026-03-01T12:34:56.789Z","test":true,"data":{}}',
    );
    const v1 = buildEnvelope({ id: 'evt_1', category: 'message.status', createdAt: CREATED, data: {}, version: 1, test: false });
    expect(v1.body).toBe('{"id":"evt_1","type":"message.status","created_at":"2026-03-01T12:34:56.789Z","data":{}}');
    expect(codeOf(() => buildEnvelope({ id: 'evt_3', category: 'message.status', createdAt: CREATED, data: {}, version: 0 }))).toBe(
      'EC_EVENT_ENCODING',
    );
  });

  test('body is compact JSON with keys in the order id, type, created_at, data', () => {
    const { body, envelope } = buildEnvelope({
      id: 'evt_1',
      category: 'message.status',
      createdAt: CREATED,
      data: { status: 'read', n: 1 },
    });
    expect(body).toBe('{"id":"evt_1","type":"message.status","created_at":"2026-03-01T12:34:56.789Z","data":{"status":"read","n":1}}');
    expect(envelope).toEqual({
      id: 'evt_1',
      type: 'message.status',
      created_at: '2026-03-01T12:34:56.789Z',
      data: { status: 'read', n: 1 },
    });
    expect(JSON.parse(body)).toEqual(envelope);
  });

  test('envelope is what the receiver parses, not the input objects', () => {
    const { envelope } = buildEnvelope({
      id: 'evt_2',
      category: 'consent.event',
      createdAt: CREATED,
      data: { at: CREATED, skip: undefined },
    });
    expect(envelope.data).toEqual({ at: '2026-03-01T12:34:56.789Z' });
  });

  test('keeps non-ASCII text and null data intact', () => {
    const { body, envelope } = buildEnvelope({ id: 'evt_3', category: 'message.inbound', createdAt: CREATED, data: { text: 'olá 👋' } });
    expect(body).toContain('"text":"olá 👋"');
    expect(envelope.data).toEqual({ text: 'olá 👋' });
    expect(buildEnvelope({ id: 'evt_4', category: 'template.status', createdAt: CREATED, data: null }).body).toMatch(/"data":null}$/);
  });

  test('refuses an unknown category, an invalid date, an empty id and data JSON cannot carry', () => {
    const base = { id: 'evt_5', category: 'message.status' as Category, createdAt: CREATED, data: {} };
    expect(codeOf(() => buildEnvelope({ ...base, category: 'account.update' as Category }))).toBe('EC_EVENT_ENCODING');
    expect(codeOf(() => buildEnvelope({ ...base, createdAt: new Date('nope') }))).toBe('EC_EVENT_ENCODING');
    expect(codeOf(() => buildEnvelope({ ...base, id: '' }))).toBe('EC_EVENT_ENCODING');
    expect(codeOf(() => buildEnvelope({ ...base, data: undefined }))).toBe('EC_EVENT_ENCODING');
    expect(codeOf(() => buildEnvelope({ ...base, data: { n: 1n } }))).toBe('EC_EVENT_ENCODING');
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(codeOf(() => buildEnvelope({ ...base, data: cycle }))).toBe('EC_EVENT_ENCODING');
  });
});

describe('delivery > signature headers', () => {
  const body = buildEnvelope({ id: 'evt_9', category: 'template.quality', createdAt: CREATED, data: { score: 'GREEN' } }).body;

  test('signs the raw body as sha256=<lowercase hex HMAC-SHA256> and sets the delivery headers', () => {
    const headers = signatureHeaders({
      body,
      secret: SECRET,
      eventId: 'evt_9',
      timestamp: new Date('2026-03-01T12:35:00.999Z'),
      attempt: 3,
    });
    expect(headers).toEqual({
      'Content-Type': 'application/json',
      'User-Agent': 'EchoCue-Webhooks/1',
      'X-EchoCue-Signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      'X-EchoCue-Event-Id': 'evt_9',
      'X-EchoCue-Timestamp': String(Date.UTC(2026, 2, 1, 12, 35, 0) / 1000),
      'X-EchoCue-Attempt': '3',
    });
    expect(headers['X-EchoCue-Signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  test('matches the published GitHub X-Hub-Signature-256 test vector (same scheme)', () => {
    // docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody", payload "Hello, World!".
    const headers = signatureHeaders({
      body: 'Hello, World!',
      secret: "It's a Secret to Everybody",
      eventId: 'e',
      timestamp: CREATED,
      attempt: 1,
    });
    expect(headers['X-EchoCue-Signature']).toBe('sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
  });

  test('never puts the secret in a header', () => {
    const headers = signatureHeaders({ body, secret: SECRET, eventId: 'evt_9', timestamp: CREATED, attempt: 1 });
    for (const value of Object.values(headers)) expect(value).not.toContain(SECRET);
  });

  test('refuses an empty secret, a non-positive or fractional attempt and an invalid timestamp', () => {
    const base = { body, secret: SECRET, eventId: 'evt_9', timestamp: CREATED, attempt: 1 };
    expect(codeOf(() => signatureHeaders({ ...base, secret: '' }))).toBe('EC_INTERNAL');
    expect(codeOf(() => signatureHeaders({ ...base, attempt: 0 }))).toBe('EC_INTERNAL');
    expect(codeOf(() => signatureHeaders({ ...base, attempt: 1.5 }))).toBe('EC_INTERNAL');
    expect(codeOf(() => signatureHeaders({ ...base, timestamp: new Date(Number.NaN) }))).toBe('EC_INTERNAL');
    expect(codeOf(() => signatureHeaders({ ...base, eventId: '' }))).toBe('EC_INTERNAL');
  });
});

describe('delivery > verifySignature', () => {
  const body = '{"id":"evt_1","type":"message.status","created_at":"2026-03-01T12:34:56.789Z","data":{}}';
  const header = signatureHeaders({ body, secret: SECRET, eventId: 'evt_1', timestamp: CREATED, attempt: 1 })['X-EchoCue-Signature'];

  test('accepts the header for the raw body, as a string or as bytes', () => {
    expect(verifySignature(body, header, SECRET)).toBe(true);
    expect(verifySignature(Buffer.from(body), header, SECRET)).toBe(true);
  });

  test('rejects a wrong secret, a changed body, a missing, truncated, unprefixed or upper-case header', () => {
    expect(verifySignature(body, header, `${SECRET}x`)).toBe(false);
    expect(verifySignature(`${body} `, header, SECRET)).toBe(false);
    expect(verifySignature(body, undefined, SECRET)).toBe(false);
    expect(verifySignature(body, '', SECRET)).toBe(false);
    expect(verifySignature(body, header!.slice(0, -1), SECRET)).toBe(false);
    expect(verifySignature(body, header!.slice('sha256='.length), SECRET)).toBe(false);
    expect(verifySignature(body, header!.toUpperCase(), SECRET)).toBe(false);
  });
});
