// One Meta POST -> one event per item: entry (WABA) x change (field) x element (docs/meta-webhooks.md §0.1, §2).
import { inboundMessageEvents } from './message-inbound.ts';
import { isObject, str, type SplitContext, type SplitEvent, type SplitOutcome } from './types.ts';

export function splitPayload(body: unknown, ctx: SplitContext): SplitOutcome {
  if (!isObject(body)) return { kind: 'ignored', reason: 'body is not a JSON object' };
  if (body['object'] !== 'whatsapp_business_account') {
    return { kind: 'ignored', reason: `object is ${JSON.stringify(body['object'] ?? null)}, not "whatsapp_business_account"` };
  }
  if (!Array.isArray(body['entry'])) return { kind: 'ignored', reason: 'entry is not an array' };
  const events: SplitEvent[] = [];
  for (const entry of body['entry']) {
    if (!isObject(entry)) continue;
    const wabaId = str(entry['id']);
    if (wabaId === null || !Array.isArray(entry['changes'])) continue;
    for (const change of entry['changes']) {
      if (!isObject(change) || !isObject(change['value'])) continue;
      const field = str(change['field']);
      if (field === 'messages') events.push(...inboundMessageEvents({ wabaId, value: change['value'] }, ctx));
    }
  }
  return { kind: 'events', events };
}
