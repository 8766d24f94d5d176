// Generates src/events/generated/event-types.ts from schemas/*.avsc (STYLE rule 13).
// `node scripts/gen-event-types.ts` writes the file; `--check` fails when the committed file is stale.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeGenerated } from './write-generated.ts';
import { EVENT_CATALOG, EVENT_TYPES } from '../src/events/topics.ts';

type AvroSchema =
  | string
  | AvroSchema[]
  | {
      type: string | AvroSchema;
      name?: string;
      fields?: { name: string; type: AvroSchema; doc?: string }[];
      items?: AvroSchema;
      values?: AvroSchema;
      symbols?: string[];
      logicalType?: string;
      doc?: string;
    };

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}src/events/generated/event-types.ts`;

const pascal = (s: string) => s.replace(/(^|[._-])(\w)/g, (_, __, c: string) => c.toUpperCase());

function tsType(s: AvroSchema, named: Map<string, string>): string {
  if (typeof s === 'string') {
    switch (s) {
      case 'null':
        return 'null';
      case 'string':
        return 'string';
      case 'boolean':
        return 'boolean';
      case 'int':
      case 'long':
      case 'float':
      case 'double':
        return 'number';
      case 'bytes':
        return 'Buffer';
      default:
        return named.get(s) ?? 'unknown';
    }
  }
  if (Array.isArray(s)) return s.map((x) => tsType(x, named)).join(' | ');
  if (typeof s.type !== 'string') return tsType(s.type, named);
  switch (s.type) {
    case 'record': {
      const body = (s.fields ?? [])
        .map((f) => `${f.doc ? `  /** ${f.doc} */\n` : ''}  ${f.name}: ${tsType(f.type, named).replace(/\n/g, '\n  ')};`)
        .join('\n');
      const t = `{\n${body}\n}`;
      if (s.name) named.set(s.name, t);
      return t;
    }
    case 'array':
      return `(${tsType(s.items!, named)})[]`;
    case 'map':
      return `Record<string, ${tsType(s.values!, named)}>`;
    case 'enum':
      return (s.symbols ?? []).map((x) => JSON.stringify(x)).join(' | ');
    default:
      return tsType(s.type, named);
  }
}

type Field = { name: string; type: AvroSchema; doc?: string };
type RecordSchema = { fields: Field[] };

const schemas = EVENT_TYPES.map((t) => ({
  t,
  schema: JSON.parse(readFileSync(`${root}schemas/${EVENT_CATALOG[t].schema}`, 'utf8')) as RecordSchema,
}));
const fieldLine = (f: Field) => `${f.doc ? `  /** ${f.doc} */\n` : ''}  ${f.name}: ${tsType(f.type, new Map()).replace(/\n/g, '\n  ')};`;

// The fields every event carries with the same type (schemas share them) become one EventHeader type.
const same = (f: Field, g: Field) => f.name === g.name && JSON.stringify(f.type) === JSON.stringify(g.type);
const header = schemas[0]!.schema.fields
  .filter((f) => schemas.every(({ schema }) => schema.fields.some((g) => same(f, g))))
  .map((f) => {
    // The wording most schemas use (a few say more about their own case: see each schema).
    const counts = new Map<string | undefined, number>();
    for (const { schema } of schemas) {
      const doc = schema.fields.find((g) => g.name === f.name)!.doc;
      counts.set(doc, (counts.get(doc) ?? 0) + 1);
    }
    return { ...f, doc: [...counts].sort((a, b) => b[1] - a[1])[0]![0] };
  });
const inHeader = new Set(header.map((f) => f.name));

let text = '// Generated from schemas/*.avsc by scripts/gen-event-types.ts. Do not edit: run `make gen`.\n';
text += `\n/** The fields every event carries. */\nexport type EventHeader = {\n${header.map(fieldLine).join('\n')}\n};\n`;
for (const { t, schema } of schemas) {
  const own = schema.fields.filter((f) => !inHeader.has(f.name));
  text += `\n/** ${t}: topic ${EVENT_CATALOG[t].topic}, schema schemas/${EVENT_CATALOG[t].schema} */\nexport type ${pascal(t)}Event = EventHeader & {\n${own.map(fieldLine).join('\n')}\n};\n`;
}
text += `\nexport type EventValue = {\n${EVENT_TYPES.map((t) => `  '${t}': ${pascal(t)}Event;`).join('\n')}\n};\n`;

writeGenerated(out, 'src/events/generated/event-types.ts', text);
