// The JS registry client against the registry we run: register, serialize, deserialize, compatibility enforced.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import avro from 'avsc';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { loadSchema } from '../../src/events/avro-schemas.ts';
import { createEventSerde } from '../../src/events/serde.ts';
import { valueSubject } from '../../src/events/topics.ts';
import { services, uniqueName } from '../helpers/env.ts';
import { AppError } from '../../src/core/errors.ts';

const schemaOf = (fields: object[]) => ({ type: 'record', name: 'Probe', namespace: 'test', fields });
const loaded = (s: object) => ({
  eventType: 'message.inbound' as const,
  text: JSON.stringify(s),
  type: avro.Type.forSchema(s as avro.Schema),
});

describe('events > schema registry and Avro serde', () => {
  let registry: SchemaRegistryClient;
  const subjects: string[] = [];
  beforeAll(() => {
    registry = new SchemaRegistryClient({ baseURLs: [services().SCHEMA_REGISTRY_URL] });
  });
  afterAll(async () => {
    for (const s of subjects) await registry.deleteSubject(s, false).catch(() => undefined);
  });

  test('processes starting together on a fresh subject all register (the BACKWARD rule race is harmless)', async () => {
    const topic = uniqueName('race.');
    subjects.push(valueSubject(topic));
    const clients = Array.from({ length: 4 }, () => new SchemaRegistryClient({ baseURLs: [services().SCHEMA_REGISTRY_URL] }));
    const serdes = await Promise.all(clients.map((c) => createEventSerde(c, new Map([[topic, loadSchema('message.inbound')]]))));
    expect(new Set(serdes.map((x) => x.schemaId(topic))).size).toBe(1);
    expect(await registry.getCompatibility(valueSubject(topic))).toBe('BACKWARD');
  });

  test('registers the real event schema and round-trips a record in the Confluent wire format', async () => {
    const topic = uniqueName('reg.');
    subjects.push(valueSubject(topic));
    const serde = await createEventSerde(registry, new Map([[topic, loadSchema('message.inbound')]]));
    const value = {
      event_id: 'evt_1',
      event_type: 'message.inbound',
      waba_id: '1',
      account_id: null,
      field: 'messages',
      phone_number_id: '2',
      display_phone_number: null,
      meta_timestamp: 1781514060,
      entry_time: null,
      received_at: 1781514061000,
      wamid: 'wamid.X',
      message_type: 'unsupported',
      from: null,
      from_user_id: 'US.1',
      from_parent_user_id: null,
      group_id: null,
      contact: { wa_id: null, user_id: 'US.1', parent_user_id: null, name: 'Zoë ✓', username: '@z' },
      text_body: 'héllo \u{1F600}',
      context_id: null,
      reaction_message_id: null,
      reaction_emoji: null,
      system_type: null,
      errors: [{ code: 131051, title: 'Message type unknown', message: 'Message type unknown', details: null, href: null }],
      raw: '{}',
    };
    const buf = serde.encode(topic, value);
    expect(buf[0]).toBe(0);
    expect(buf.readInt32BE(1)).toBe(serde.schemaId(topic));
    expect((await registry.getLatestSchemaMetadata(valueSubject(topic))).id).toBe(serde.schemaId(topic));
    expect(await serde.decode(topic, buf)).toEqual(value);
    expect(await registry.getCompatibility(valueSubject(topic))).toBe('BACKWARD');
  });

  test('a backward-compatible change (new field with a default) registers, and old records decode with the new reader', async () => {
    const topic = uniqueName('reg.');
    subjects.push(valueSubject(topic));
    const v1 = schemaOf([{ name: 'a', type: 'string' }]);
    const v2 = schemaOf([
      { name: 'a', type: 'string' },
      { name: 'b', type: 'int', default: 7 },
    ]);
    const old = await createEventSerde(registry, new Map([[topic, loaded(v1)]]));
    const oldRecord = old.encode(topic, { a: 'x' });
    const next = await createEventSerde(registry, new Map([[topic, loaded(v2)]]));
    expect(next.schemaId(topic)).not.toBe(old.schemaId(topic));
    expect(await next.decode(topic, oldRecord)).toEqual({ a: 'x', b: 7 });
  });

  test('an incompatible change is refused by the registry with EC_EVENT_ENCODING', async () => {
    const topic = uniqueName('reg.');
    subjects.push(valueSubject(topic));
    await createEventSerde(registry, new Map([[topic, loaded(schemaOf([{ name: 'a', type: 'string' }]))]]));
    const breaking = schemaOf([
      { name: 'a', type: 'string' },
      { name: 'c', type: 'int' },
    ]); // new field, no default
    const err = await createEventSerde(registry, new Map([[topic, loaded(breaking)]])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('EC_EVENT_ENCODING');
    expect(await registry.testSubjectCompatibility(valueSubject(topic), { schemaType: 'AVRO', schema: JSON.stringify(breaking) })).toBe(
      false,
    );
  });

  test('a value that does not fit the schema is refused before anything is written', async () => {
    const topic = uniqueName('reg.');
    subjects.push(valueSubject(topic));
    const serde = await createEventSerde(registry, new Map([[topic, loaded(schemaOf([{ name: 'a', type: 'string' }]))]]));
    expect(() => serde.encode(topic, { a: 42 })).toThrow(/does not match the schema/);
    await expect(serde.decode(topic, Buffer.from('{"a":1}'))).rejects.toThrow(/Confluent wire format/);
  });
});
