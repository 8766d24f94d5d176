// Generates docs/topics.md, the topic catalog for data teams, from src/events/topics.ts and schemas/*.avsc.
// `node scripts/gen-topic-catalog.ts` writes it; `--check` fails when the committed file is stale.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeGenerated } from './write-generated.ts';
import {
  BROADCAST_SEND_TOPIC,
  DEAD_LETTER_TOPIC,
  DELIVERY_TIERS,
  EVENT_CATALOG,
  EVENT_TYPES,
  NOTIFICATIONS_TOPIC,
  RAW_TOPIC,
} from '../src/events/topics.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}docs/topics.md`;

type Field = { name: string; type: unknown; doc?: string };
const typeText = (t: unknown): string =>
  typeof t === 'string'
    ? t
    : Array.isArray(t)
      ? t.map(typeText).join(' | ')
      : (t as { type: string; name?: string; items?: unknown; logicalType?: string }).type === 'array'
        ? `array<${typeText((t as { items: unknown }).items)}>`
        : ((t as { logicalType?: string }).logicalType ?? (t as { name?: string }).name ?? (t as { type: string }).type);

let md = `# Kafka topics

Generated from \`src/events/topics.ts\` and \`schemas/*.avsc\` by \`make gen\`; do not edit by hand.

Every event topic holds Avro records in the Confluent wire format (magic byte 0, 4-byte schema id, Avro body);
the value schema is registered under the subject \`<topic>-value\` with BACKWARD compatibility. Every record is
keyed by the WhatsApp Business Account id, so one WABA's events keep their order on one partition. Topic names
are versioned (\`.v1\`): an incompatible change would go to a new topic, never into an old one. Deployments may
add a prefix (\`KAFKA_TOPIC_PREFIX\`). Every record also carries the Kafka headers \`event_type\` and \`event_id\`.
The producer of every topic is EchoCue ingest (\`POST /v1/whatsapp/webhook\`), except the dead-letter topic,
which the actors write.

| topic | key | value | what | consumers |
|---|---|---|---|---|
`;
for (const t of EVENT_TYPES) {
  const c = EVENT_CATALOG[t];
  md += `| \`${c.topic}\` | WABA id | Avro \`schemas/${c.schema}\` | ${c.description} | ${c.consumers.join('; ')} |\n`;
}
md += `| \`${RAW_TOPIC.topic}\` | first WABA id of the POST (\`none\` when it has none) | raw bytes | ${RAW_TOPIC.description} | ${RAW_TOPIC.consumers.join('; ')} |\n`;
md += `| \`${DEAD_LETTER_TOPIC.topic}\` | as on the source topic | as on the source topic | ${DEAD_LETTER_TOPIC.description} | ${DEAD_LETTER_TOPIC.consumers.join('; ')} |\n`;
md += `| \`${NOTIFICATIONS_TOPIC.topic}\` | WABA id | JSON | ${NOTIFICATIONS_TOPIC.description} | ${NOTIFICATIONS_TOPIC.consumers.join('; ')} |\n`;
md += `| \`${BROADCAST_SEND_TOPIC.topic}\` | broadcast id | JSON | ${BROADCAST_SEND_TOPIC.description} | ${BROADCAST_SEND_TOPIC.consumers.join('; ')} |\n`;
for (const [i, t] of DELIVERY_TIERS.entries()) {
  const what =
    i === 0
      ? 'Internal (JSON): first delivery attempts, due at once'
      : `Internal (JSON): retry ${i} of a delivery, due ${t.delayMs / 1000} s after the failed attempt (times DELIVERY_DELAY_SCALE)`;
  md += `| \`${t.topic}\` | delivery id | JSON | ${what} | delivery workers (pause the partition until the head record is due) |\n`;
}

for (const t of EVENT_TYPES) {
  const c = EVENT_CATALOG[t];
  const schema = JSON.parse(readFileSync(`${root}schemas/${c.schema}`, 'utf8')) as { doc?: string; fields: Field[] };
  md += `\n## \`${c.topic}\` (event type \`${t}\`)\n\n${schema.doc ?? ''}\n\n| field | type | meaning |\n|---|---|---|\n`;
  for (const f of schema.fields) md += `| \`${f.name}\` | ${typeText(f.type)} | ${f.doc ?? ''} |\n`;
}

writeGenerated(out, 'docs/topics.md', md);
