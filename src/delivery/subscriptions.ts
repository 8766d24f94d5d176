// What an endpoint subscribed to: event types, each in one payload version, optionally narrowed by a filter (only
// failed statuses, only template changes to PAUSED or DISABLED, only one phone number). Endpoints created before
// subscriptions existed have categories only: every event of those types, version 1. Pure: tested without I/O.
import { type Category, type Notification } from '../events/outbound.ts';
import { type SubscriptionDoc } from '../store/webhooks.ts';

/** Filters: `statuses` (message.status: sent, delivered, read, played, failed), `template_events` (template.status:
 *  Meta's APPROVED, REJECTED, PAUSED, DISABLED, ..., upper case), `phone_number_ids` (message.inbound and
 *  message.status: Meta's phone_number_id). */
export type Subscription = SubscriptionDoc;
type SubscriptionFilter = NonNullable<SubscriptionDoc['filter']>;

/** Which event types each filter applies to (a filter on another type is refused when subscribing). */
export const FILTER_TYPES: Readonly<Record<keyof SubscriptionFilter, readonly Category[]>> = {
  statuses: ['message.status'],
  template_events: ['template.status'],
  phone_number_ids: ['message.inbound', 'message.status'],
};

export { subscriptionsOf } from '../store/webhooks.ts';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const field = (o: unknown, key: string): unknown => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined);

/** The phone number an event is about, as the version-1 data carries it (null when it has none). */
function phoneNumberOf(n: Pick<Notification, 'category' | 'data'>): string | null {
  if (n.category === 'message.inbound') return str(field(n.data['thread'], 'phone_number_id'));
  if (n.category === 'message.status') return str(field(n.data['notification'], 'phone_number_id'));
  return null;
}

/** The subscription of `subs` that takes `n`, or null: its type subscribed, and every filter of it matching. */
export function subscriptionFor(subs: readonly Subscription[], n: Pick<Notification, 'category' | 'data'>): Subscription | null {
  const sub = subs.find((s) => s.type === n.category);
  if (!sub) return null;
  const f = sub.filter;
  if (!f) return sub;
  if (f.statuses && !f.statuses.includes(String(n.data['status']).toLowerCase())) return null;
  if (f.template_events && !f.template_events.includes(String(n.data['event']).toUpperCase())) return null;
  if (f.phone_number_ids) {
    const phone = phoneNumberOf(n);
    if (phone === null || !f.phone_number_ids.includes(phone)) return null;
  }
  return sub;
}
