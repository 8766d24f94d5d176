// docs/asyncapi.json (scripts/gen-asyncapi.ts) is a valid AsyncAPI 3.0 document, validated against the
// specification's own JSON schema (@asyncapi/specs), and it describes every event topic with its Avro schema.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import avro from 'avsc';
import { describe, expect, test } from 'vitest';
import { EVENT_CATALOG, EVENT_TYPES } from '../../src/events/topics.ts';
import { ROOT } from '../helpers/services.ts';

const require = createRequire(import.meta.url);
const doc = JSON.parse(readFileSync(`${ROOT}docs/asyncapi.json`, 'utf8')) as any;

describe('docs > AsyncAPI document', () => {
  test('validates against the AsyncAPI 3.0.0 JSON schema', () => {
    const schema = require('@asyncapi/specs/schemas/3.0.0-without-$id.json') as object;
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  test('every event topic is a channel whose message carries its Avro schema, which avsc parses', () => {
    const byAddress = new Map(
      Object.values(doc.channels as Record<string, { address: string; messages: Record<string, { $ref: string }> }>).map((c) => [
        c.address,
        c,
      ]),
    );
    for (const t of EVENT_TYPES) {
      const channel = byAddress.get(EVENT_CATALOG[t].topic);
      expect(channel, EVENT_CATALOG[t].topic).toBeDefined();
      const ref = Object.values(channel!.messages)[0]!.$ref.split('/').pop()!;
      const message = doc.components.messages[ref];
      expect(message.payload.schemaFormat).toMatch(/^application\/vnd\.apache\.avro\+json/);
      expect(avro.Type.forSchema(message.payload.schema).name).toBe(
        avro.Type.forSchema(JSON.parse(readFileSync(`${ROOT}schemas/${EVENT_CATALOG[t].schema}`, 'utf8'))).name,
      );
      expect(message.bindings.kafka.schemaIdPayloadEncoding).toBe('confluent');
    }
  });

  test('every operation points at a channel and a message that exist', () => {
    const resolve = (ref: string) =>
      ref
        .slice(2)
        .split('/')
        .reduce((o: any, k) => o?.[k], doc);
    for (const [name, op] of Object.entries(
      doc.operations as Record<string, { channel: { $ref: string }; messages: { $ref: string }[] }>,
    )) {
      expect(resolve(op.channel.$ref), name).toBeDefined();
      for (const m of op.messages) expect(resolve(resolve(m.$ref).$ref ?? m.$ref), `${name} ${m.$ref}`).toBeDefined();
    }
  });
});
