// Loads the Avro contracts in schemas/ (the single source of event shapes).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { EVENT_CATALOG, type EventType } from './topics.ts';

export const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

export type LoadedSchema = Readonly<{ eventType: EventType; text: string; type: avro.Type }>;

export function loadSchema(eventType: EventType, dir = SCHEMAS_DIR): LoadedSchema {
  const text = readFileSync(dir + EVENT_CATALOG[eventType].schema, 'utf8');
  // The compact JSON (docs kept, whitespace dropped) is what gets registered: reformatting a file is no new version.
  const type = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
  return Object.freeze({ eventType, text: JSON.stringify(JSON.parse(text)), type });
}
