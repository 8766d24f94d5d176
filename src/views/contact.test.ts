// A contact as the REST API shows it: identities falling back to its aliases, consent oldest first with its level
// (older entries have none stored), the review flag until a person cleared it, and unreachable only while the
// contact has not written since the failure.
import { describe, expect, test } from 'vitest';
import { type ConsentEntry, type ContactDoc } from '../store/docs.ts';
import { Contact, contactView } from './contact.ts';

const t0 = new Date('2026-03-01T10:00:00.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

const contact = (extra: Partial<ContactDoc> = {}): ContactDoc => ({
  _id: 'ct_1',
  waba_id: 'waba1',
  aliases: ['wa:15550001'],
  wa_id: '15550001',
  wa_id_stamp: null,
  user_id: null,
  user_id_stamp: null,
  name: null,
  username: null,
  profile_stamp: null,
  consent: [],
  thread_ids: ['thr_1'],
  opted_out_at: null,
  updated_at: t0,
  ...extra,
});

const entry = (event_id: string, s: number, rest: Partial<ConsentEntry>): ConsentEntry => ({
  event_id,
  at: at(s),
  value: 'stop',
  source: 'keyword',
  category: null,
  ...rest,
});

describe('views > contact', () => {
  test('wa_id and user_id come from the fields, else from the aliases (a parent BSUID is not the user id)', () => {
    const fromAliases = contactView(contact({ wa_id: null, user_id: null, aliases: ['puid:P.1', 'uid:US.1', 'wa:15550002'] }));
    expect(fromAliases).toMatchObject({ wa_id: '15550002', user_id: 'US.1' });
    const fromFields = contactView(contact({ wa_id: '15550001', user_id: 'US.9', aliases: ['wa:15550002', 'uid:US.1'] }));
    expect(fromFields).toMatchObject({ wa_id: '15550001', user_id: 'US.9' });
    expect(contactView(contact({ wa_id: null, aliases: ['puid:P.1'] }))).toMatchObject({ wa_id: null, user_id: null });
  });

  test('a contact stored before the optional fields existed shows them empty: no former ids, no marketing opt-out, never changed', () => {
    const view = contactView(contact());
    expect(view).toEqual({
      id: 'ct_1',
      former_ids: [],
      waba_id: 'waba1',
      wa_id: '15550001',
      user_id: null,
      name: null,
      username: null,
      opted_out_at: null,
      marketing_opted_out_at: null,
      consent: [],
      needs_review: null,
      unreachable: null,
      thread_ids: ['thr_1'],
      updated_at: null,
    });
    expect(Contact.parse(view)).toEqual(view);
  });

  test('consent oldest first (same time: by event id), each with its level: older entries get all from a keyword, marketing otherwise', () => {
    const doc = contact({
      consent: [
        entry('ev_4', 30, { value: 'resume', source: 'keyword', scope: 'all' }),
        entry('ev_2', 10, { source: 'user_preferences', category: 'marketing_messages' }),
        entry('ev_1', 10, { source: 'keyword' }),
        entry('ev_3', 20, { source: 'status_131050', scope: 'marketing' }),
      ],
      opted_out_at: null,
      marketing_opted_out_at: at(20),
      former_ids: ['ct_0'],
      changed_at: at(40),
    });
    const view = contactView(doc);
    expect(view.consent).toEqual([
      { at: '2026-03-01T10:00:10.000Z', value: 'stop', scope: 'all', source: 'keyword', category: null },
      { at: '2026-03-01T10:00:10.000Z', value: 'stop', scope: 'marketing', source: 'user_preferences', category: 'marketing_messages' },
      { at: '2026-03-01T10:00:20.000Z', value: 'stop', scope: 'marketing', source: 'status_131050', category: null },
      { at: '2026-03-01T10:00:30.000Z', value: 'resume', scope: 'all', source: 'keyword', category: null },
    ]);
    expect(view).toMatchObject({
      opted_out_at: null,
      marketing_opted_out_at: '2026-03-01T10:00:20.000Z',
      former_ids: ['ct_0'],
      updated_at: '2026-03-01T10:00:40.000Z',
    });
    expect(Contact.parse(view)).toEqual(view);
  });

  test('a review flag shows until a person cleared it', () => {
    const needs_review = {
      reason: 'stop_keyword_near_miss' as const,
      text: 'stop sending promos',
      wamid: 'wamid.1',
      at: at(5),
      event_id: 'ev_5',
    };
    const flagged = contact({ needs_review });
    expect(contactView(flagged).needs_review).toEqual({
      reason: 'stop_keyword_near_miss',
      text: 'stop sending promos',
      wamid: 'wamid.1',
      at: '2026-03-01T10:00:05.000Z',
    });
    expect(contactView(flagged, { reviewCleared: false }).needs_review).not.toBeNull();
    expect(contactView(flagged, { reviewCleared: true }).needs_review).toBeNull();
    expect(contactView(contact({ needs_review: null })).needs_review).toBeNull();
  });

  test('unreachable shows the failure until the contact writes after it (same time: the later event id is after)', () => {
    const unreachable = { code: 131026, title: 'Message undeliverable', wamid: 'wamid.out', at: at(10), event_id: 'ev_5' };
    const view = (last_inbound: ContactDoc['last_inbound']) => contactView(contact({ unreachable, last_inbound })).unreachable;
    const shown = { code: 131026, title: 'Message undeliverable', at: '2026-03-01T10:00:10.000Z', wamid: 'wamid.out' };
    expect(view(undefined)).toEqual(shown);
    expect(view({ at: at(9), event_id: 'ev_9' })).toEqual(shown);
    expect(view({ at: at(10), event_id: 'ev_4' })).toEqual(shown);
    expect(view({ at: at(10), event_id: 'ev_6' })).toBeNull();
    expect(view({ at: at(11), event_id: 'ev_1' })).toBeNull();
  });
});
