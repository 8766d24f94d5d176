// A `messages` change: inbound messages[], outbound statuses[] and value-level errors[] (docs/meta-webhooks.md §4-5).
import { canonicalJson } from '../../core/ids.ts';
import {
  bool,
  contactFor,
  event,
  header,
  metaError,
  metaTime,
  obj,
  objects,
  str,
  type ChangeScope,
  type SplitContext,
  type SplitEvent,
} from './types.ts';

/** System messages that announce an identity change (both names Meta uses: docs/meta-webhooks.md §3). */
const IDENTITY_SYSTEM_TYPES = new Set(['user_changed_number', 'user_changed_user_id']);

export function inboundMessages(scope: ChangeScope, ctx: SplitContext): SplitEvent[] {
  const out: SplitEvent[] = [];
  for (const item of objects(scope.value['messages'])) {
    const wamid = str(item['id']);
    const from = str(item['from']);
    const fromUserId = str(item['from_user_id']);
    const system = obj(item['system']);
    const reaction = obj(item['reaction']);
    const raw = JSON.stringify(item);
    const idParts = [wamid ?? canonicalJson(item)];
    out.push(
      event('message.inbound', scope, {
        ...header('message.inbound', scope, ctx, idParts, metaTime(item['timestamp'])),
        wamid: wamid ?? '',
        message_type: str(item['type']) ?? 'unknown',
        from,
        from_user_id: fromUserId,
        from_parent_user_id: str(item['from_parent_user_id']),
        group_id: str(item['group_id']),
        contact: contactFor(scope.value, from, fromUserId),
        text_body: str(obj(item['text'])['body']),
        context_id: str(obj(item['context'])['id']),
        // The target and the emoji of a reaction; Meta omits the emoji when the user removes it (§4.2).
        reaction_message_id: str(reaction['message_id']),
        reaction_emoji: str(reaction['emoji']),
        system_type: str(system['type']),
        errors: objects(item['errors']).map(metaError),
        raw,
      }),
    );
    const systemType = str(system['type']);
    if (item['type'] === 'system' && systemType !== null && IDENTITY_SYSTEM_TYPES.has(systemType)) {
      out.push(
        event('identity.change', scope, {
          ...header('identity.change', scope, ctx, idParts, metaTime(item['timestamp'])),
          kind: systemType,
          wamid,
          wa_id: from,
          new_wa_id: str(system['wa_id']),
          previous_user_id: fromUserId,
          current_user_id: str(system['user_id']),
          previous_parent_user_id: str(item['from_parent_user_id']),
          current_parent_user_id: str(system['parent_user_id']),
          detail: str(system['body']),
          raw,
        }),
      );
    }
  }
  return out;
}

export function statuses(scope: ChangeScope, ctx: SplitContext): SplitEvent[] {
  return objects(scope.value['statuses']).map((item) => {
    const conversation = obj(item['conversation']);
    const pricing = item['pricing'] === undefined ? null : obj(item['pricing']);
    const recipientId = str(item['recipient_id']);
    const recipientUserId = str(item['recipient_user_id']);
    return event('message.status', scope, {
      ...header('message.status', scope, ctx, [canonicalJson(item)], metaTime(item['timestamp'])),
      wamid: str(item['id']) ?? '',
      status: str(item['status']) ?? 'unknown',
      recipient_id: recipientId,
      recipient_user_id: recipientUserId,
      // Renamed by Meta on 2026-05-05 from parent_recipient_user_id: accept both.
      recipient_parent_user_id: str(item['recipient_parent_user_id']) ?? str(item['parent_recipient_user_id']),
      recipient_type: str(item['recipient_type']),
      biz_opaque_callback_data: str(item['biz_opaque_callback_data']),
      conversation_id: str(conversation['id']),
      conversation_origin_type: str(obj(conversation['origin'])['type']),
      conversation_expiration: metaTime(conversation['expiration_timestamp']),
      pricing: pricing && {
        billable: bool(pricing['billable']),
        pricing_model: str(pricing['pricing_model']),
        type: str(pricing['type']),
        category: str(pricing['category']),
      },
      errors: objects(item['errors']).map(metaError),
      contact: contactFor(scope.value, recipientId, recipientUserId),
      raw: JSON.stringify(item),
    });
  });
}

export function valueErrors(scope: ChangeScope, ctx: SplitContext): SplitEvent[] {
  return objects(scope.value['errors']).map((item) =>
    event('webhook.error', scope, {
      ...header('webhook.error', scope, ctx, [scope.entryTime, canonicalJson(item)], null),
      ...metaError(item),
      raw: JSON.stringify(item),
    }),
  );
}
