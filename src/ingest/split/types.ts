// What splitting one Meta POST produces: one event per item, routed to the topic of its type, keyed by WABA.
import { deterministicId } from '../../core/ids.ts';
import { type EventType } from '../../events/topics.ts';

export type SplitEvent = Readonly<{
  eventType: EventType;
  /** Kafka key: the WABA id, so every event of one WABA keeps its order on one partition. */
  key: string;
  /** The Avro record (field names as in schemas/*.avsc). */
  value: Readonly<Record<string, unknown>>;
}>;

export type SplitOutcome =
  { kind: 'events'; events: readonly SplitEvent[]; wabaIds: readonly string[] } | { kind: 'ignored'; reason: string };

/** Facts about the POST that every event carries. */
export type SplitContext = Readonly<{
  receivedAt: number;
  /** The EchoCue account owning a WABA, or null when none does (the event is still written, flagged). */
  accountOf: (wabaId: string) => string | null;
}>;

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** One change of one entry: the unit every splitter works on. */
export type ChangeScope = Readonly<{
  wabaId: string;
  field: string;
  value: JsonObject;
  /** entry[].time as Meta sent it. */
  entryTime: string | number | null;
  /** The whole changes[] element, for the unknown topic. */
  change: JsonObject;
}>;

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export const objects = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);

export const obj = (v: unknown): JsonObject => (isObject(v) ? v : {});

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

export function bool(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

/** The fields every event carries (schemas/*.avsc share them). */
export function header(
  eventType: EventType,
  scope: ChangeScope,
  ctx: SplitContext,
  idParts: readonly unknown[],
  metaTimestamp: string | number | null,
): Record<string, unknown> {
  const metadata = obj(scope.value['metadata']);
  return {
    event_id: deterministicId('evt', eventType, scope.wabaId, ...idParts),
    event_type: eventType,
    waba_id: scope.wabaId,
    account_id: ctx.accountOf(scope.wabaId),
    field: scope.field,
    phone_number_id: str(metadata['phone_number_id']),
    display_phone_number: str(metadata['display_phone_number']) ?? str(scope.value['display_phone_number']),
    meta_timestamp: metaTimestamp,
    entry_time: scope.entryTime,
    received_at: ctx.receivedAt,
  };
}

export const event = (eventType: EventType, scope: ChangeScope, value: Record<string, unknown>): SplitEvent => ({
  eventType,
  key: scope.wabaId,
  value,
});

/** Meta's error object ({code, title, message, error_data.details, href}) in the shape of the schemas. */
export function metaError(e: JsonObject) {
  return {
    code: typeof e['code'] === 'number' && Number.isSafeInteger(e['code']) ? e['code'] : str(e['code']),
    title: str(e['title']),
    message: str(e['message']),
    details: str(obj(e['error_data'])['details']),
    href: str(e['href']),
  };
}

/** The value.contacts[] entry matching an identity (by wa_id or BSUID). A lone contact is taken as the one
 *  meant only when the item names no identity of its own, so one contact block never lends its profile to
 *  messages of other senders in the same change. */
export function contactFor(value: JsonObject, waId: string | null, userId: string | null) {
  const contacts = objects(value['contacts']);
  const c =
    contacts.find((x) => (waId !== null && str(x['wa_id']) === waId) || (userId !== null && str(x['user_id']) === userId)) ??
    (contacts.length === 1 && waId === null && userId === null ? contacts[0]! : null);
  if (!c) return null;
  const profile = obj(c['profile']);
  return {
    wa_id: str(c['wa_id']),
    user_id: str(c['user_id']),
    parent_user_id: str(c['parent_user_id']),
    name: str(profile['name']),
    username: str(profile['username']),
  };
}
