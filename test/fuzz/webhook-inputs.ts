// Signed but odd webhook bodies (issue 16, "Bad input"): mutated shared fixtures (truncations, deep nesting, huge
// arrays, wrong types, invalid UTF-8, duplicate keys, odd field, type and event names, odd numbers) and fast-check's
// arbitrary JSON, inside a WhatsApp envelope and bare. Deterministic for a seed, so a failure names an input that can
// be made again. Every body is signed with the fixtures' app secret: Meta's signature is right, the content is not.
import fc from 'fast-check';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { FIXTURE_SECRET, fixtures } from '../helpers/env.ts';

export type FuzzInput = { name: string; body: Buffer; headers: Record<string, string> };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Names that have broken lookups in object maps (`SPLITTERS[field]`) and friends. */
export const ODD_NAMES = [
  'constructor',
  '__proto__',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
  ' ',
  'messages ',
  'MESSAGES',
  'x'.repeat(10_000),
  '💥',
  'messages\u0000',
  '$where',
  '{"$ne":null}',
  '../../etc/passwd',
  '%00',
  'null',
  'undefined',
];

const signed = (name: string, body: Buffer | string): FuzzInput => {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  return { name, body: b, headers: { 'x-hub-signature-256': signBody(b, FIXTURE_SECRET) } };
};

const envelope = (field: Json, value: Json): Json => ({
  object: 'whatsapp_business_account',
  entry: [{ id: '104719385562013', time: 1781600000, changes: [{ field, value }] }],
});

/** Every leaf path of a JSON value. */
function leaves(v: Json, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.length === 0 ? [path] : v.flatMap((x, i) => leaves(x, [...path, i]));
  if (v !== null && typeof v === 'object')
    return Object.keys(v).length === 0 ? [path] : Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
  return [path];
}

function setAt(v: Json, path: readonly (string | number)[], x: Json): Json {
  if (path.length === 0) return x;
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, Json>;
  copy[path[0]!] = setAt(copy[path[0]!]!, path.slice(1), x);
  return copy as Json;
}

/** Every object key of a JSON value, with its path. */
function keys(v: Json, path: (string | number)[] = []): { path: (string | number)[]; key: string }[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => keys(x, [...path, i]));
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [{ path, key: k }, ...keys(x, [...path, k])]);
  return [];
}

function renameAt(v: Json, path: readonly (string | number)[], from: string, to: string): Json {
  if (path.length === 0) {
    const o = v as Record<string, Json>;
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k === from ? to : k, x]));
  }
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, Json>;
  copy[path[0]!] = renameAt(copy[path[0]!]!, path.slice(1), from, to);
  return copy as Json;
}

const jsonValue = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>;

/** `count` inputs, the same for the same seed. */
export function webhookInputs(count: number, seed = 20261202): FuzzInput[] {
  const bases = fixtures().map((f) => ({ file: f.file, text: f.body.toString('utf8'), json: JSON.parse(f.body.toString('utf8')) as Json }));
  const mutations: fc.Arbitrary<FuzzInput>[] = [
    // Truncated at any byte.
    fc.tuple(fc.constantFrom(...bases), fc.double({ min: 0, max: 1, noNaN: true })).map(([b, at]) => {
      const buf = Buffer.from(b.text, 'utf8');
      return signed(`${b.file} truncated`, buf.subarray(0, Math.floor(buf.length * at)));
    }),
    // A leaf replaced by a value of another type.
    fc.tuple(fc.constantFrom(...bases), fc.nat(), jsonValue).map(([b, i, x]) => {
      const paths = leaves(b.json);
      const path = paths[i % paths.length]!;
      return signed(`${b.file} ${path.join('.')} = ${JSON.stringify(x).slice(0, 40)}`, JSON.stringify(setAt(b.json, path, x)));
    }),
    // A key renamed to an odd name (field, type, event names included: they are keys' values too, below).
    fc.tuple(fc.constantFrom(...bases), fc.nat(), fc.constantFrom(...ODD_NAMES)).map(([b, i, name]) => {
      const ks = keys(b.json);
      const k = ks[i % ks.length]!;
      return signed(`${b.file} key ${k.key} -> ${name.slice(0, 20)}`, JSON.stringify(renameAt(b.json, k.path, k.key, name)));
    }),
    // The values that pick a handler set to odd names: changes[].field, messages[].type, event, status.
    fc
      .tuple(fc.constantFrom(...bases), fc.constantFrom('field', 'type', 'event', 'status', 'object'), fc.constantFrom(...ODD_NAMES))
      .map(([b, key, name]) => {
        const text = b.text.replace(new RegExp(`"${key}"\\s*:\\s*"[^"]*"`, 'g'), `"${key}":${JSON.stringify(name)}`);
        return signed(`${b.file} every ${key} = ${name.slice(0, 20)}`, text);
      }),
    // Deeply nested JSON where a value is expected (the id hashing and the splitter recurse).
    fc.tuple(fc.constantFrom(1_000, 20_000, 200_000), fc.constantFrom('[', '{"a":')).map(([depth, open]) => {
      const close = open === '[' ? ']' : '}';
      return signed(
        `nested ${depth} x ${open}`,
        `{"object":"whatsapp_business_account","entry":[{"id":"104719385562013","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},"messages":[{"from":"1","id":"wamid.deep","timestamp":"1","type":"text","text":${open.repeat(depth)}1${close.repeat(depth)}}]}}]}]}`,
      );
    }),
    // Huge arrays: many entries, changes or messages in one body (within the 3 MiB limit).
    fc.tuple(fc.constantFrom(1_000, 5_000, 30_000), fc.constantFrom('messages', 'entries', 'statuses')).map(([n, what]) => {
      const item = (i: number) =>
        what === 'statuses'
          ? { id: `wamid.huge.${i}`, status: 'delivered', timestamp: '1781600000', recipient_id: '15550100001' }
          : { from: '15550100001', id: `wamid.huge.${i}`, timestamp: '1781600000', type: 'text', text: { body: 'x' } };
      const value = { messaging_product: 'whatsapp', metadata: { display_phone_number: '1', phone_number_id: '1' } };
      const body =
        what === 'entries'
          ? {
              object: 'whatsapp_business_account',
              entry: Array.from({ length: n }, (_, i) => ({
                id: `w${i % 7}`,
                changes: [{ field: 'messages', value: { ...value, messages: [item(i)] } }],
              })),
            }
          : envelope('messages', { ...value, [what]: Array.from({ length: n }, (_, i) => item(i)) } as Json);
      return signed(`${n} ${what}`, JSON.stringify(body));
    }),
    // Invalid UTF-8 inside the body.
    fc
      .tuple(
        fc.constantFrom(...bases),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf]),
      )
      .map(([b, at, bytes]) => {
        const buf = Buffer.from(b.text, 'utf8');
        const i = Math.floor(buf.length * at);
        return signed(
          `${b.file} with bytes ${bytes.map((x) => x.toString(16)).join(' ')} at ${i}`,
          Buffer.concat([buf.subarray(0, i), Buffer.from(bytes), buf.subarray(i)]),
        );
      }),
    // Duplicate keys, the later one odd.
    fc
      .tuple(
        fc.constantFrom(...bases),
        fc.constantFrom('field', 'id', 'type', 'object', 'entry', 'value'),
        fc.constantFrom<Json>('constructor', null, 1, [], {}, '__proto__'),
      )
      .map(([b, key, x]) => {
        const text = b.text.replace(new RegExp(`("${key}"\\s*:\\s*("[^"]*"|\\d+))`), `$1,"${key}":${JSON.stringify(x)}`);
        return signed(`${b.file} duplicate ${key}: ${JSON.stringify(x)}`, text);
      }),
    // Odd numbers where Meta sends ids and timestamps.
    fc
      .tuple(
        fc.constantFrom(...bases),
        fc.constantFrom('1e400', '-0', '123456789012345678901234567890', '1.5e-400', '-1', '0.1', '9007199254740993'),
      )
      .map(([b, n]) => {
        const text = b.text.replace(/"(timestamp|time|message_template_id|id)"\s*:\s*("?)(\d+)\2/g, `"$1":${n}`);
        return signed(`${b.file} numbers -> ${n}`, text);
      }),
    // Arbitrary JSON as a change's value, as a whole entry, and bare.
    fc
      .tuple(
        fc.constantFrom<Json>('messages', 'statuses', 'message_template_status_update', 'user_preferences', 'account_update', 'x'),
        jsonValue,
      )
      .map(([field, v]) => signed(`arbitrary ${field} value`, JSON.stringify(envelope(field, v)))),
    jsonValue.map((v) => signed('arbitrary entry', JSON.stringify({ object: 'whatsapp_business_account', entry: [v] }))),
    jsonValue.map((v) => signed('arbitrary body', JSON.stringify(v))),
  ];
  return fc.sample(fc.oneof(...mutations), { numRuns: count, seed });
}

/** Signature headers that must all be refused (401) on an otherwise valid body. */
export function badSignatures(body: Buffer): { name: string; headers: Record<string, string> }[] {
  const good = signBody(body, FIXTURE_SECRET);
  const flipped = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
  return [
    { name: 'forged (another secret)', headers: { 'x-hub-signature-256': signBody(body, 'not-the-secret') } },
    { name: 'one hex digit changed', headers: { 'x-hub-signature-256': flipped } },
    { name: 'wrong prefix', headers: { 'x-hub-signature-256': good.replace('sha256=', 'sha1=') } },
    { name: 'no prefix', headers: { 'x-hub-signature-256': good.replace('sha256=', '') } },
    { name: 'upper-case hex', headers: { 'x-hub-signature-256': `sha256=${good.slice(7).toUpperCase()}X` } },
    { name: 'empty', headers: { 'x-hub-signature-256': '' } },
    { name: 'very long', headers: { 'x-hub-signature-256': `sha256=${'a'.repeat(8000)}` } },
    { name: 'several headers (forged first)', headers: { 'x-hub-signature-256': `${signBody(body, 'x')}, ${good}` } },
    { name: 'the sha1 header only', headers: { 'x-hub-signature': good.replace('sha256=', 'sha1=') } },
  ];
}
