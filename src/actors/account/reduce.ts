// WABA-level state from account_update, phone_number_quality_update and business_capability_update:
// the newest value of each field wins (by entry.time, ties on event id). Pure.
import { type AccountUpdateEvent } from '../../events/generated/event-types.ts';
import { type WabaStateDoc } from '../../store/docs.ts';
import { compareStamps, isNewer, maxDateOr, metaTimeToDate } from '../stamp.ts';

export function emptyWabaState(wabaId: string, at: Date): WabaStateDoc {
  return { _id: wabaId, fields: [], messaging_limit: null, max_phone_numbers: null, restrictions: [], updated_at: at };
}

export function applyAccountUpdate(doc: WabaStateDoc, e: AccountUpdateEvent): WabaStateDoc {
  const stamp = { at: metaTimeToDate(e.entry_time) ?? new Date(e.received_at), event_id: e.event_id };
  // One slot per field, and for account_update one per event kind (a restriction and a violation are both kept).
  const slot = e.field === 'account_update' ? `${e.field}:${e.event ?? ''}` : e.field;
  const current = doc.fields.find((f) => `${f.field}${f.field === 'account_update' ? `:${f.event ?? ''}` : ''}` === slot);
  const next = { ...doc, updated_at: maxDateOr(doc.updated_at, new Date(e.received_at)) };
  if (current && !isNewer(stamp, current.stamp)) return next;
  const fields = [...doc.fields.filter((f) => f !== current), { field: e.field, event: e.event, value: e.raw, stamp }].sort((a, b) =>
    a.field === b.field ? String(a.event).localeCompare(String(b.event)) : a.field.localeCompare(b.field),
  );
  const newestLimit = fields
    .filter((f) => f.field !== 'account_update')
    .sort((a, b) => compareStamps(a.stamp, b.stamp))
    .map((f) => JSON.parse(f.value) as Record<string, unknown>)
    .reverse();
  const limit = newestLimit.find((v) => v['max_daily_conversations_per_business'] !== undefined)?.['max_daily_conversations_per_business'];
  const phones = newestLimit.find(
    (v) => v['max_phone_numbers_per_waba'] !== undefined || v['max_phone_numbers_per_business'] !== undefined,
  );
  // The newest ACCOUNT_RESTRICTION lists the restrictions in force, each with its expiry (docs/meta-webhooks.md §7).
  const restriction = fields.find((f) => f.field === 'account_update' && f.event === 'ACCOUNT_RESTRICTION');
  const info = restriction
    ? ((JSON.parse(restriction.value) as { restriction_info?: { restriction_type?: string; expiration?: number | string }[] })
        .restriction_info ?? [])
    : [];
  return {
    ...next,
    fields,
    messaging_limit: (limit as string | number | undefined) ?? null,
    max_phone_numbers:
      ((phones?.['max_phone_numbers_per_waba'] ?? phones?.['max_phone_numbers_per_business']) as string | number | undefined) ?? null,
    restrictions: info.map((r) => ({ type: r.restriction_type ?? null, expires_at: metaTimeToDate(r.expiration ?? null) })),
  };
}
