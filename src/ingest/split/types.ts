// What splitting one Meta POST produces: one event per item, routed to the topic of its type, keyed by WABA.
import { type EventType } from '../../events/topics.ts';

export type SplitEvent = Readonly<{
  eventType: EventType;
  /** Kafka key: the WABA id, so every event of one WABA keeps its order on one partition. */
  key: string;
  /** The Avro record (field names as in schemas/*.avsc). */
  value: Readonly<Record<string, unknown>>;
}>;

export type SplitOutcome =
  | { kind: 'events'; events: readonly SplitEvent[] }
  | { kind: 'ignored'; reason: string };

/** Facts about the POST that every event carries. */
export type SplitContext = Readonly<{
  receivedAt: number;
  /** The EchoCue account owning a WABA, or null when none does (the event is still written, flagged). */
  accountOf: (wabaId: string) => string | null;
}>;

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string field, or null. Numbers are accepted and kept as their decimal text (Meta mixes the two). */
export function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** A timestamp exactly as Meta sent it: string stays string, integer stays integer; anything else is null. */
export function metaTime(v: unknown): string | number | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  return null;
}
