import { describe, expect, test } from 'vitest';
import { EXAMPLES } from '../views/webhook-events.ts';
import { subscriptionFor, subscriptionsOf, type Subscription } from './subscriptions.ts';

const status = (s: string, phone = '112356789045671') => ({
  category: 'message.status' as const,
  data: { status: s, notification: { ...(EXAMPLES['message.status']['notification'] as object), phone_number_id: phone } },
});
const templateEvent = (event: string) => ({ category: 'template.status' as const, data: { ...EXAMPLES['template.status'], event } });
const inbound = (phone: string) => ({
  category: 'message.inbound' as const,
  data: { ...EXAMPLES['message.inbound'], thread: { ...(EXAMPLES['message.inbound']['thread'] as object), phone_number_id: phone } },
});

describe('which subscription takes an event', () => {
  test('an endpoint from before subscriptions takes every event of its categories, version 1', () => {
    const subs = subscriptionsOf({ categories: ['message.status'] });
    expect(subs).toEqual([{ type: 'message.status', version: 1, filter: null }]);
    expect(subscriptionFor(subs, status('read'))).toEqual(subs[0]);
    expect(subscriptionFor(subs, templateEvent('PAUSED'))).toBeNull();
  });

  test('filters: only failed statuses, only PAUSED/DISABLED template changes, only one phone number; every given field must match', () => {
    const subs: Subscription[] = [
      { type: 'message.status', version: 2, filter: { statuses: ['failed'], phone_number_ids: ['111'] } },
      { type: 'template.status', version: 1, filter: { template_events: ['PAUSED', 'DISABLED'] } },
      { type: 'message.inbound', version: 1, filter: { phone_number_ids: ['111', '222'] } },
    ];
    expect(subscriptionFor(subs, status('failed', '111'))?.version).toBe(2);
    expect(subscriptionFor(subs, status('FAILED', '111'))?.version).toBe(2);
    expect(subscriptionFor(subs, status('delivered', '111'))).toBeNull();
    expect(subscriptionFor(subs, status('failed', '999'))).toBeNull();
    expect(subscriptionFor(subs, templateEvent('PAUSED'))).not.toBeNull();
    expect(subscriptionFor(subs, templateEvent('disabled'))).not.toBeNull();
    expect(subscriptionFor(subs, templateEvent('APPROVED'))).toBeNull();
    expect(subscriptionFor(subs, inbound('222'))).not.toBeNull();
    expect(subscriptionFor(subs, inbound('333'))).toBeNull();
    expect(subscriptionFor(subs, { category: 'consent.event', data: EXAMPLES['consent.event'] })).toBeNull();
  });

  test('a phone number filter drops an event that carries no phone number', () => {
    const subs: Subscription[] = [{ type: 'message.status', version: 1, filter: { phone_number_ids: ['111'] } }];
    expect(
      subscriptionFor(subs, { category: 'message.status', data: { status: 'sent', notification: { phone_number_id: null } } }),
    ).toBeNull();
  });
});
