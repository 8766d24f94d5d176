// One Meta POST -> one event per item: entry (WABA) x change (field) x element (docs/meta-webhooks.md §0.1, §2).
// Every change lands somewhere: a field without a splitter, or a known field none of whose items could be read,
// goes whole to the unknown topic.
import { accountUpdate, unknownChange } from './account.ts';
import { inboundMessages, statuses, valueErrors } from './messages.ts';
import { templateCategory, templateComponents, templateQuality, templateStatus } from './templates.ts';
import { userIdUpdates, userPreferences } from './users.ts';
import { nestsDeeperThan } from '../parse-json.ts';
import {
  isObject,
  metaTime,
  str,
  type ChangeScope,
  type JsonObject,
  type SplitContext,
  type SplitEvent,
  type SplitOutcome,
} from './types.ts';

type Splitter = (scope: ChangeScope, ctx: SplitContext) => SplitEvent[];

const SPLITTERS: Readonly<Record<string, readonly Splitter[]>> = {
  messages: [inboundMessages, statuses, valueErrors],
  user_preferences: [userPreferences],
  user_id_update: [userIdUpdates],
  message_template_status_update: [templateStatus],
  message_template_quality_update: [templateQuality],
  template_category_update: [templateCategory],
  message_template_components_update: [templateComponents],
  account_update: [accountUpdate],
  phone_number_quality_update: [accountUpdate],
  business_capability_update: [accountUpdate],
};

/** Meta's payloads nest about ten levels; far deeper is no WhatsApp payload, and JSON.stringify (each event's raw
 *  item) would overflow the stack on it: such a body is ignored (200, counted, kept on the raw topic). */
export const MAX_NESTING = 256;

export function splitPayload(body: unknown, ctx: SplitContext): SplitOutcome {
  if (!isObject(body)) return { kind: 'ignored', reason: 'body is not a JSON object' };
  if (nestsDeeperThan(body, MAX_NESTING)) return { kind: 'ignored', reason: `body nests deeper than ${MAX_NESTING} levels` };
  if (body['object'] !== 'whatsapp_business_account') {
    return { kind: 'ignored', reason: `object is ${JSON.stringify(body['object'] ?? null)}, not "whatsapp_business_account"` };
  }
  if (!Array.isArray(body['entry'])) return { kind: 'ignored', reason: 'entry is not an array' };
  const events: SplitEvent[] = [];
  const wabaIds = new Set<string>();
  for (const entry of body['entry']) {
    if (!isObject(entry)) continue;
    const wabaId = str(entry['id']);
    if (wabaId === null || wabaId === '') continue;
    wabaIds.add(wabaId);
    const changes = Array.isArray(entry['changes']) ? entry['changes'] : [];
    for (const change of changes) {
      if (!isObject(change)) continue;
      const scope: ChangeScope = {
        wabaId,
        field: str(change['field']) ?? '',
        value: isObject(change['value']) ? change['value'] : ({} as JsonObject),
        entryTime: metaTime(entry['time']),
        change,
      };
      // Own keys only: a field named `constructor` or `__proto__` is an unknown change like any other, kept raw.
      const splitters = isObject(change['value']) && Object.hasOwn(SPLITTERS, scope.field) ? SPLITTERS[scope.field] : undefined;
      const produced = splitters ? splitters.flatMap((split) => split(scope, ctx)) : [];
      events.push(...(produced.length > 0 ? produced : unknownChange(scope, ctx)));
    }
  }
  return { kind: 'events', events, wabaIds: [...wabaIds] };
}
