// messages[] items of a `messages` change -> message.inbound events (docs/meta-webhooks.md §4).
import { deterministicId } from '../../core/ids.ts';
import { isObject, metaTime, str, type JsonObject, type SplitContext, type SplitEvent } from './types.ts';

type ChangeScope = Readonly<{ wabaId: string; value: JsonObject }>;

/** The value.contacts[] entry of the sender: matched by wa_id or BSUID; a lone contact is the sender. */
function senderContact(value: JsonObject, from: string | null, fromUserId: string | null): JsonObject | null {
  const contacts = Array.isArray(value['contacts']) ? value['contacts'].filter(isObject) : [];
  const match = contacts.find(
    (c) => (from !== null && str(c['wa_id']) === from) || (fromUserId !== null && str(c['user_id']) === fromUserId),
  );
  return match ?? (contacts.length === 1 ? contacts[0]! : null);
}

export function inboundMessageEvents(scope: ChangeScope, ctx: SplitContext): SplitEvent[] {
  const { wabaId, value } = scope;
  const items = Array.isArray(value['messages']) ? value['messages'] : [];
  const metadata = isObject(value['metadata']) ? value['metadata'] : {};
  const phoneNumberId = str(metadata['phone_number_id']);
  const events: SplitEvent[] = [];
  for (const item of items) {
    if (!isObject(item)) continue;
    const wamid = str(item['id']);
    const type = str(item['type']) ?? 'unknown';
    const from = str(item['from']);
    const fromUserId = str(item['from_user_id']);
    const contact = senderContact(value, from, fromUserId);
    const profile = contact && isObject(contact['profile']) ? contact['profile'] : {};
    const text = isObject(item['text']) ? str(item['text']['body']) : null;
    const context = isObject(item['context']) ? item['context'] : {};
    events.push({
      eventType: 'message.inbound',
      key: wabaId,
      value: {
        event_id: deterministicId('evt', 'message.inbound', wabaId, phoneNumberId, wamid ?? item),
        event_type: 'message.inbound',
        waba_id: wabaId,
        account_id: ctx.accountOf(wabaId),
        phone_number_id: phoneNumberId,
        display_phone_number: str(metadata['display_phone_number']),
        meta_timestamp: metaTime(item['timestamp']),
        received_at: ctx.receivedAt,
        wamid: wamid ?? '',
        message_type: type,
        from,
        from_user_id: fromUserId,
        contact: contact
          ? {
              wa_id: str(contact['wa_id']),
              user_id: str(contact['user_id']),
              parent_user_id: str(contact['parent_user_id']),
              name: str(profile['name']),
              username: str(profile['username']),
            }
          : null,
        text_body: text,
        context_id: str(context['id']),
        raw: JSON.stringify(item),
      },
    });
  }
  return events;
}
