// Loads the Avro contracts in schemas/ (the single source of event shapes).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { EVENT_CATALOG, EVENT_TYPES, type EventType, type Topics } from './topics.ts';

export const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

export type LoadedSchema = Readonly<{ eventType: EventType; text: string; type: avro.Type }>;

export function loadSchema(eventType: EventType, dir = SCHEMAS_DIR): LoadedSchema {
  const text = readFileSync(dir + EVENT_CATALOG[eventType].schema, 'utf8');
  // The compact JSON (docs kept, whitespace dropped) is what gets registered: reformatting a file is no new version.
  const type = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
  return Object.freeze({ eventType, text: JSON.stringify(JSON.parse(text)), type });
}

/** Every event topic of a deployment with its schema, as `createEventSerde` takes them. */
export const schemasByTopic = (topics: Topics): Map<string, LoadedSchema> =>
  new Map(EVENT_TYPES.map((t) => [topics.events[t], loadSchema(t)]));
