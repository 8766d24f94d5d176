// WABA- and number-level fields (docs/meta-webhooks.md §7), and the catch-all for fields nobody knows yet.
import { canonicalJson } from '../../core/ids.ts';
import { event, header, metaTime, type ChangeScope, type SplitContext, type SplitEvent, str } from './types.ts';

export function accountUpdate(scope: ChangeScope, ctx: SplitContext): SplitEvent[] {
  const v = scope.value;
  return [
    event('account.update', scope, {
      ...header('account.update', scope, ctx, [scope.field, scope.entryTime, canonicalJson(v)], null),
      event: str(v['event']),
      max_daily_conversations_per_business: metaTime(v['max_daily_conversations_per_business']),
      max_phone_numbers: metaTime(v['max_phone_numbers_per_waba'] ?? v['max_phone_numbers_per_business']),
      raw: JSON.stringify(v),
    }),
  ];
}

/** A change no splitter understood: written whole to the unknown topic, never dropped. */
export function unknownChange(scope: ChangeScope, ctx: SplitContext): SplitEvent[] {
  return [
    event('unknown', scope, {
      ...header('unknown', scope, ctx, [scope.entryTime, canonicalJson(scope.change)], null),
      raw: JSON.stringify(scope.change),
    }),
  ];
}
