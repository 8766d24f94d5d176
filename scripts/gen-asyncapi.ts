// Generates docs/asyncapi.json, the AsyncAPI 3.0 document of the topics EchoCue writes (the event-driven counterpart
// of the OpenAPI document), from src/events/topics.ts and schemas/*.avsc. `node scripts/gen-asyncapi.ts` writes it;
// `--check` fails when the committed document is stale. test/tooling/asyncapi.test.ts validates it against the
// AsyncAPI 3.0.0 JSON schema (@asyncapi/specs). Issue 17.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEAD_LETTER_TOPIC, EVENT_CATALOG, EVENT_TYPES, RAW_TOPIC, type EventType } from '../src/events/topics.ts';
import { writeGenerated } from './write-generated.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };

/** `message.inbound` -> `messageInbound`: AsyncAPI component keys may hold letters, digits, `.`, `_` and `-`; ids read better so. */
const idOf = (t: string) => t.replace(/[._-](\w)/g, (_, c: string) => c.toUpperCase());

const wabaKey = { type: 'string', description: 'The WhatsApp Business Account id: one WABA keeps its order on one partition.' };
const eventHeaders = {
  type: 'object',
  properties: {
    event_type: { type: 'string', description: 'The event type (the topic without its version), e.g. message.inbound.' },
    event_id: { type: 'string', description: 'Deterministic id of the event: the same Meta item always gets the same id.' },
  },
  required: ['event_type', 'event_id'],
};
const avroBinding = {
  kafka: {
    key: wabaKey,
    schemaIdLocation: 'payload',
    schemaIdPayloadEncoding: 'confluent',
    schemaLookupStrategy: 'TopicIdStrategy',
    bindingVersion: '0.5.0',
  },
};

const channels: Record<string, unknown> = {};
const operations: Record<string, unknown> = {};
const messages: Record<string, unknown> = {};

for (const t of EVENT_TYPES as EventType[]) {
  const c = EVENT_CATALOG[t];
  const id = idOf(t);
  messages[id] = {
    name: t,
    title: t,
    summary: c.description,
    contentType: 'application/octet-stream',
    headers: eventHeaders,
    payload: {
      schemaFormat: 'application/vnd.apache.avro+json;version=1.9.0',
      schema: JSON.parse(readFileSync(`${root}schemas/${c.schema}`, 'utf8')) as unknown,
    },
    bindings: avroBinding,
  };
  channels[id] = {
    address: c.topic,
    title: c.topic,
    description: `${c.description}. Avro in the Confluent wire format (magic byte 0, 4-byte schema id), value schema under the subject \`${c.topic}-value\` (BACKWARD compatible). Consumers: ${c.consumers.join('; ')}.`,
    messages: { [id]: { $ref: `#/components/messages/${id}` } },
  };
  operations[`write${id[0]!.toUpperCase()}${id.slice(1)}`] = {
    action: 'send',
    channel: { $ref: `#/channels/${id}` },
    summary:
      t === 'thread.read'
        ? 'The API writes one when a client marks a thread read.'
        : 'Ingest writes one per item of a signed Meta POST, before answering 200.',
    messages: [{ $ref: `#/channels/${id}/messages/${id}` }],
  };
}

messages['rawBody'] = {
  name: 'raw',
  title: 'raw POST body',
  summary: RAW_TOPIC.description,
  contentType: 'application/json',
  headers: {
    type: 'object',
    properties: Object.fromEntries(
      ['content-type', 'x-hub-signature-256', 'user-agent', 'received-at', 'event-count'].map((h) => [h, { type: 'string' }]),
    ),
  },
  payload: { type: 'object', description: "Meta's exact request bytes (JSON), as signed." },
  bindings: {
    kafka: { key: { type: 'string', description: 'The first WABA id of the POST (`none` when it has none).' }, bindingVersion: '0.5.0' },
  },
};
channels['raw'] = {
  address: RAW_TOPIC.topic,
  title: RAW_TOPIC.topic,
  description: `${RAW_TOPIC.description}. Consumers: ${RAW_TOPIC.consumers.join('; ')}.`,
  messages: { rawBody: { $ref: '#/components/messages/rawBody' } },
};
operations['writeRaw'] = {
  action: 'send',
  channel: { $ref: '#/channels/raw' },
  summary: 'Ingest keeps every signed POST byte for byte.',
  messages: [{ $ref: '#/channels/raw/messages/rawBody' }],
};

messages['deadLetter'] = {
  name: 'dead-letter',
  title: 'dead letter',
  summary: DEAD_LETTER_TOPIC.description,
  contentType: 'application/octet-stream',
  headers: {
    type: 'object',
    properties: Object.fromEntries(
      ['dlq-reason', 'dlq-code', 'dlq-source-topic', 'dlq-source-partition', 'dlq-source-offset'].map((h) => [h, { type: 'string' }]),
    ),
  },
  payload: { description: 'The original record, byte for byte: Avro of the topic named by dlq-source-topic.' },
  bindings: { kafka: { key: wabaKey, bindingVersion: '0.5.0' } },
};
channels['deadLetter'] = {
  address: DEAD_LETTER_TOPIC.topic,
  title: DEAD_LETTER_TOPIC.topic,
  description: `${DEAD_LETTER_TOPIC.description}. Consumers: ${DEAD_LETTER_TOPIC.consumers.join('; ')}.`,
  messages: { deadLetter: { $ref: '#/components/messages/deadLetter' } },
};
operations['writeDeadLetter'] = {
  action: 'send',
  channel: { $ref: '#/channels/deadLetter' },
  summary: 'The actors write an event they cannot apply here, with the reason, instead of failing its partition.',
  messages: [{ $ref: '#/channels/deadLetter/messages/deadLetter' }],
};

const doc = {
  asyncapi: '3.0.0',
  info: {
    title: 'EchoCue events',
    version: pkg.version,
    description:
      'The Kafka topics EchoCue writes for data teams: one topic per WhatsApp event type (Avro, keyed by WABA id), the raw POST bodies and the dead letters. Topic names are versioned; a deployment may prefix them (KAFKA_TOPIC_PREFIX). The internal outbound-webhook topics (notifications, delivery tiers) are not a contract and not listed. Generated from src/events/topics.ts and schemas/ by `make gen`.',
  },
  defaultContentType: 'application/octet-stream',
  servers: {
    local: { host: '127.0.0.1:19092', protocol: 'kafka', description: 'The local stack (make up).' },
  },
  channels,
  operations,
  components: { messages },
};

writeGenerated(`${root}docs/asyncapi.json`, 'docs/asyncapi.json', `${JSON.stringify(doc, null, 2)}\n`);
