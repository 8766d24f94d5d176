// Avro serde in the Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro binary body.
// The registry client (@confluentinc/schemaregistry) registers and looks up schemas; avsc encodes and decodes.
// Why not the client's AvroSerializer: without an explicit schema it infers one from the JS value, and its
// per-record async rule pipeline costs the ingest hot path. See docs/decisions/0003-avro-serde.md.
import avro from 'avsc';
import { Compatibility, type SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { AppError } from '../core/errors.ts';
import { type LoadedSchema } from './avro-schemas.ts';
import { valueSubject } from './topics.ts';

const MAGIC = 0;
const HEADER_BYTES = 5;

export interface EventSerde {
  /** Encodes a value for a topic whose schema was registered with `register`. Synchronous: no I/O. */
  encode(topic: string, value: unknown): Buffer;
  /** Decodes a Confluent-framed Avro value into the reader schema of the topic (schema resolution applied). */
  decode(topic: string, buf: Buffer): Promise<Record<string, unknown>>;
  /** The registry id the topic's records are written with. */
  schemaId(topic: string): number;
}

/**
 * Registers each topic's schema under "<topic>-value" with BACKWARD compatibility enforced, and returns a serde.
 * An incompatible schema change fails here, at start-up, with EC_EVENT_ENCODING.
 */
/** Sets BACKWARD compatibility on a subject. Processes starting together race here: Apicurio answers the losers
 *  "rule already exists" (409), which is fine as long as the subject ends up BACKWARD. */
async function setBackward(registry: SchemaRegistryClient, subject: string): Promise<void> {
  try {
    await registry.updateConfig(subject, { compatibility: Compatibility.BACKWARD });
  } catch (err) {
    const current = await registry.getConfig(subject).catch(() => null);
    if (current?.compatibility === Compatibility.BACKWARD) return;
    await registry.updateConfig(subject, { compatibility: Compatibility.BACKWARD }).catch((again: unknown) => {
      throw again ?? err;
    });
  }
}

export async function createEventSerde(registry: SchemaRegistryClient, schemas: ReadonlyMap<string, LoadedSchema>): Promise<EventSerde> {
  const writers = new Map<string, { id: number; type: avro.Type }>();
  for (const [topic, schema] of schemas) {
    const subject = valueSubject(topic);
    try {
      await setBackward(registry, subject);
      const id = await registry.register(subject, { schemaType: 'AVRO', schema: schema.text }, false);
      writers.set(topic, { id, type: schema.type });
    } catch (err) {
      throw registryError(err, `registering the schema of ${topic} (subject ${subject})`);
    }
  }

  const readers = new Map<string, avro.Type>([...schemas].map(([t, s]) => [t, s.type]));
  const resolvers = new Map<string, avro.Resolver | avro.Type>();

  async function readerFor(topic: string, id: number): Promise<avro.Resolver | avro.Type> {
    const cacheKey = `${topic}#${id}`;
    const hit = resolvers.get(cacheKey);
    if (hit) return hit;
    const reader = readers.get(topic);
    if (!reader) throw new AppError('EC_EVENT_DECODING', `no schema is known for topic ${topic}`);
    let writerType: avro.Type;
    try {
      const info = await registry.getBySubjectAndId(valueSubject(topic), id);
      writerType = avro.Type.forSchema(JSON.parse(info.schema) as avro.Schema);
    } catch (err) {
      throw registryError(err, `fetching schema id ${id} for ${topic}`);
    }
    const resolved = writerType.equals(reader) ? reader : reader.createResolver(writerType);
    resolvers.set(cacheKey, resolved);
    return resolved;
  }

  return {
    encode(topic, value) {
      const w = writers.get(topic);
      if (!w) throw new AppError('EC_EVENT_ENCODING', `no schema is registered for topic ${topic}`);
      let body: Buffer;
      try {
        body = w.type.toBuffer(value);
      } catch (err) {
        throw new AppError('EC_EVENT_ENCODING', `value does not match the schema of ${topic}: ${(err as Error).message}`, { cause: err });
      }
      const header = Buffer.allocUnsafe(HEADER_BYTES);
      header.writeUInt8(MAGIC, 0);
      header.writeInt32BE(w.id, 1);
      return Buffer.concat([header, body]);
    },
    async decode(topic, buf) {
      if (buf.length < HEADER_BYTES || buf.readUInt8(0) !== MAGIC) {
        throw new AppError('EC_EVENT_DECODING', `record on ${topic} is not in the Confluent wire format (magic byte 0)`);
      }
      const id = buf.readInt32BE(1);
      const reader = await readerFor(topic, id);
      const readerType = readers.get(topic)!;
      try {
        return readerType.fromBuffer(buf.subarray(HEADER_BYTES), reader === readerType ? undefined : (reader as avro.Resolver)) as Record<
          string,
          unknown
        >;
      } catch (err) {
        throw new AppError('EC_EVENT_DECODING', `record on ${topic} does not decode with schema id ${id}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    },
    schemaId(topic) {
      const w = writers.get(topic);
      if (!w) throw new AppError('EC_EVENT_ENCODING', `no schema is registered for topic ${topic}`);
      return w.id;
    },
  };
}

function registryError(err: unknown, doing: string): AppError {
  // The registry client throws a RestError carrying the HTTP status.
  const status = (err as { status?: number }).status;
  if (status === 404) {
    return new AppError('EC_EVENT_DECODING', `schema registry does not know it while ${doing}: ${(err as Error).message}`, { cause: err });
  }
  if (status === 409) {
    return new AppError('EC_EVENT_ENCODING', `schema registry rejected an incompatible schema while ${doing}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return new AppError('EC_SCHEMA_REGISTRY_UNAVAILABLE', `schema registry failed while ${doing}: ${(err as Error).message}`, { cause: err });
}
