// The four template fields: value is the item itself, no metadata; ids are JSON numbers (docs/meta-webhooks.md §6).
import { canonicalJson } from '../../core/ids.ts';
import { event, header, metaTime, obj, objects, str, type ChangeScope, type SplitContext, type SplitEvent } from './types.ts';
import { type EventType } from '../../events/topics.ts';

function templateHeader(type: EventType, scope: ChangeScope, ctx: SplitContext) {
  const v = scope.value;
  return {
    // entry.time is part of the id: the same template can get the same event twice (a second PAUSED) days apart.
    ...header(type, scope, ctx, [scope.entryTime, canonicalJson(v)], null),
    template_id: str(v['message_template_id']) ?? '',
    template_name: str(v['message_template_name']),
    template_language: str(v['message_template_language']),
  };
}

export function templateStatus(scope: ChangeScope, ctx: SplitContext): SplitEvent[] {
  const v = scope.value;
  const other = obj(v['other_info']);
  const rejection = obj(v['rejection_info']);
  return [
    event('template.status', scope, {
      ...templateHeader('template.status', scope, ctx),
      event: str(v['event']) ?? 'unknown',
      reason: str(v['reason']),
      category: str(v['message_template_category']),
      disable_date: metaTime(obj(v['disable_info'])['disable_date']),
      other_info_title: str(other['title']),
      other_info_description: str(other['description']),
      rejection_reason: str(rejection['reason']),
      rejection_recommendation: str(rejection['recommendation']),
      raw: JSON.stringify(v),
    }),
  ];
}

export function templateQuality(scope: ChangeScope, ctx: SplitContext): SplitEvent[] {
  const v = scope.value;
  return [
    event('template.quality', scope, {
      ...templateHeader('template.quality', scope, ctx),
      previous_quality_score: str(v['previous_quality_score']),
      new_quality_score: str(v['new_quality_score']) ?? 'UNKNOWN',
      raw: JSON.stringify(v),
    }),
  ];
}

export function templateCategory(scope: ChangeScope, ctx: SplitContext): SplitEvent[] {
  const v = scope.value;
  return [
    event('template.category', scope, {
      ...templateHeader('template.category', scope, ctx),
      previous_category: str(v['previous_category']),
      new_category: str(v['new_category']),
      correct_category: str(v['correct_category']),
      category_update_timestamp: metaTime(v['category_update_timestamp']),
      raw: JSON.stringify(v),
    }),
  ];
}

export function templateComponents(scope: ChangeScope, ctx: SplitContext): SplitEvent[] {
  const v = scope.value;
  return [
    event('template.components', scope, {
      ...templateHeader('template.components', scope, ctx),
      title: str(v['message_template_title']),
      element: str(v['message_template_element']),
      footer: str(v['message_template_footer']),
      buttons: objects(v['message_template_buttons']).map((b) => ({
        type: str(b['message_template_button_type']),
        text: str(b['message_template_button_text']),
        url: str(b['message_template_button_url']),
        phone_number: str(b['message_template_button_phone_number']),
      })),
      raw: JSON.stringify(v),
    }),
  ];
}
