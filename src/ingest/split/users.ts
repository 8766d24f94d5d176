// User-level fields: marketing preferences (user_preferences) and BSUID changes (user_id_update).
import { canonicalJson } from '../../core/ids.ts';
import { contactFor, event, header, metaTime, obj, objects, str, type ChangeScope, type SplitContext, type SplitEvent } from './types.ts';

export function userPreferences(scope: ChangeScope, ctx: SplitContext): SplitEvent[] {
  return objects(scope.value['user_preferences']).map((item) =>
    event('consent.event', scope, {
      ...header('consent.event', scope, ctx, [canonicalJson(item)], metaTime(item['timestamp'])),
      source: 'user_preferences',
      wa_id: str(item['wa_id']),
      user_id: str(item['user_id']),
      parent_user_id: str(item['parent_user_id']),
      category: str(item['category']),
      value: str(item['value']) ?? 'unknown',
      detail: str(item['detail']),
      contact: contactFor(scope.value, str(item['wa_id']), str(item['user_id'])),
      raw: JSON.stringify(item),
    }),
  );
}

export function userIdUpdates(scope: ChangeScope, ctx: SplitContext): SplitEvent[] {
  return objects(scope.value['user_id_update']).map((item) => {
    const userId = obj(item['user_id']);
    const parent = obj(item['parent_user_id']);
    return event('identity.change', scope, {
      ...header('identity.change', scope, ctx, [canonicalJson(item)], metaTime(item['timestamp'])),
      kind: 'user_id_update',
      wamid: null,
      wa_id: str(item['wa_id']),
      new_wa_id: null,
      previous_user_id: str(userId['previous']),
      current_user_id: str(userId['current']),
      previous_parent_user_id: str(parent['previous']),
      current_parent_user_id: str(parent['current']),
      detail: str(item['detail']),
      raw: JSON.stringify(item),
    });
  });
}
