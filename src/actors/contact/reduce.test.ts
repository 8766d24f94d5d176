import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { currentUnreachable } from '../../store/contact-state.ts';
import { type ConsentEntry, type ContactDoc } from '../../store/docs.ts';
import {
  aliasesOf,
  applyConsent,
  applyProfile,
  applySighting,
  contactIdOf,
  isStopNearMiss,
  keywordConsent,
  mergeContacts,
  withNewest,
} from './reduce.ts';

const at = (s: number) => new Date(s * 1000);

describe('actors > contact reducer', () => {
  test.each([
    ['STOP', 'stop'],
    ['stop', 'stop'],
    ['  Stop!  ', 'stop'],
    ['UNSUBSCRIBE.', 'stop'],
    ['ＳＴＯＰ', 'stop'],
    ['start', 'resume'],
    ['Unstop', 'resume'],
    ['RESUME', 'resume'],
    ['subscribe', 'resume'],
    ['stop please', null],
    ["don't stop the reminders", null],
    ['stopp', null],
    ['', null],
    [null, null],
  ])('keyword %j -> %s', (text, expected) => {
    expect(keywordConsent(text)).toBe(expected);
  });

  test("aliases are typed, deduplicated and sorted; a new contact's id depends on its alias set only", () => {
    expect(aliasesOf({ wa_id: '2', user_id: 'US.1' }, { wa_id: '2', parent_user_id: 'US.ENT.9' })).toEqual([
      'puid:US.ENT.9',
      'uid:US.1',
      'wa:2',
    ]);
    expect(contactIdOf('w', ['wa:2', 'uid:US.1'])).toBe(contactIdOf('w', ['uid:US.1', 'wa:2']));
    expect(contactIdOf('w', ['wa:2'])).not.toBe(contactIdOf('other-waba', ['wa:2']));
  });

  test('merging two contacts keeps every alias, the newest identity and profile, and both consent histories', () => {
    const now = at(100);
    const a = applyConsent(
      applySighting(mergeContacts('w', [], ['wa:1'], now), {
        stamp: { at: at(10), event_id: 'e1' },
        receivedAt: now,
        wa_id: '1',
        name: 'Old',
      }),
      { event_id: 'c1', at: at(20), value: 'stop', source: 'keyword', category: null },
      now,
    );
    const b = applySighting(mergeContacts('w', [], ['uid:US.9'], now), {
      stamp: { at: at(30), event_id: 'e2' },
      receivedAt: now,
      user_id: 'US.9',
      name: 'New',
    });
    for (const merged of [mergeContacts('w', [a, b], [], now), mergeContacts('w', [b, a], [], now)]) {
      expect(merged).toMatchObject({ aliases: ['uid:US.9', 'wa:1'], wa_id: '1', user_id: 'US.9', name: 'New', opted_out_at: at(20) });
      // The smaller of the two ids stays; the other still resolves, as a former id (issue 14, rule 6).
      const [kept, former] = [a._id, b._id].sort();
      expect(merged).toMatchObject({ _id: kept, former_ids: [former] });
    }
  });

  test('a contact keeps its id when it gains an identity (a new number or BSUID), and across merges of merges', () => {
    const now = at(100);
    const a = mergeContacts('w', [], ['wa:1'], now);
    // A new number (smaller alias than the old) and a BSUID: still the same id, no former ids.
    const grown = mergeContacts('w', [a], ['wa:0', 'uid:US.1'], now);
    expect(grown).toMatchObject({ _id: a._id, aliases: ['uid:US.1', 'wa:0', 'wa:1'] });
    expect(grown.former_ids).toBeUndefined();
    // Three contacts in two merges, in either grouping: one id, the two others as former ids.
    const b = mergeContacts('w', [], ['wa:2'], now);
    const c = mergeContacts('w', [], ['wa:3'], now);
    const ids = [a._id, b._id, c._id].sort();
    for (const merged of [
      mergeContacts('w', [mergeContacts('w', [a, b], [], now), c], [], now),
      mergeContacts('w', [a, mergeContacts('w', [c, b], [], now)], [], now),
    ]) {
      expect(merged).toMatchObject({ _id: ids[0], former_ids: ids.slice(1) });
    }
  });

  test('two levels: a keyword stop is global, user_preferences and 131050 only marketing; each resumes by its own kind', () => {
    const base = mergeContacts('w', [], ['wa:1'], at(1));
    const kw = (id: string, t: number, value: 'stop' | 'resume'): ConsentEntry => ({
      event_id: id,
      at: at(t),
      value,
      source: 'keyword',
      scope: 'all',
      category: null,
    });
    const pref = (id: string, t: number, value: 'stop' | 'resume'): ConsentEntry => ({
      event_id: id,
      at: at(t),
      value,
      source: 'user_preferences',
      scope: 'marketing',
      category: 'marketing_messages',
    });
    const failed131050: ConsentEntry = {
      event_id: 'f',
      at: at(30),
      value: 'stop',
      source: 'status_131050',
      scope: 'marketing',
      category: 'marketing_messages',
    };
    const apply = (entries: ConsentEntry[]) => entries.reduce((d, e) => applyConsent(d, e, at(1)), base);
    expect(apply([pref('a', 10, 'stop')])).toMatchObject({ opted_out_at: null, marketing_opted_out_at: at(10) });
    expect(apply([kw('a', 10, 'stop')])).toMatchObject({ opted_out_at: at(10), marketing_opted_out_at: null });
    // A resume keyword does not undo a marketing stop; a user_preferences resume does not undo a keyword stop.
    expect(apply([pref('a', 10, 'stop'), kw('b', 20, 'resume')])).toMatchObject({ opted_out_at: null, marketing_opted_out_at: at(10) });
    expect(apply([kw('a', 10, 'stop'), pref('b', 20, 'resume')])).toMatchObject({ opted_out_at: at(10), marketing_opted_out_at: null });
    expect(apply([pref('a', 10, 'stop'), pref('b', 20, 'resume'), failed131050])).toMatchObject({ marketing_opted_out_at: at(30) });
    // A stop newer than a resume holds, in either arrival order (issue 19 found no test of it).
    for (const entries of [
      [kw('r', 10, 'resume'), kw('s', 20, 'stop')],
      [kw('s', 20, 'stop'), kw('r', 10, 'resume')],
    ]) {
      expect(apply(entries)).toMatchObject({ opted_out_at: at(20), marketing_opted_out_at: null });
    }
    for (const entries of [
      [pref('r', 10, 'resume'), pref('s', 20, 'stop')],
      [pref('s', 20, 'stop'), pref('r', 10, 'resume')],
    ]) {
      expect(apply(entries)).toMatchObject({ opted_out_at: null, marketing_opted_out_at: at(20) });
    }
    // Entries stored before the levels (no scope) read as before: keyword global, user_preferences marketing.
    const old = { event_id: 'o', at: at(5), value: 'stop' as const, source: 'user_preferences' as const, category: 'marketing_messages' };
    expect(apply([old])).toMatchObject({ opted_out_at: null, marketing_opted_out_at: at(5) });
    // Any order, any duplication: one result.
    const all = [kw('k1', 10, 'stop'), pref('p1', 15, 'stop'), kw('k2', 20, 'resume'), pref('p2', 25, 'resume'), failed131050];
    const expected = apply(all);
    expect(expected).toMatchObject({ opted_out_at: null, marketing_opted_out_at: at(30) });
    fc.assert(
      fc.property(
        fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        fc.array(fc.nat(all.length - 1), { maxLength: 5 }),
        (order, dups) => {
          expect(apply([...order, ...dups.map((i) => all[i]!)])).toEqual(expected);
        },
      ),
    );
  });

  test("a status's contacts block fills and updates the profile when newer, and never blanks it", () => {
    const base = applySighting(mergeContacts('w', [], ['wa:1'], at(1)), {
      stamp: { at: at(10), event_id: 'm' },
      receivedAt: at(1),
      wa_id: '1',
      name: 'Ana',
      username: 'ana',
    });
    expect(applyProfile(base, { at: at(20), event_id: 's' }, { name: null, username: null })).toBe(base);
    expect(applyProfile(base, { at: at(20), event_id: 's' }, { name: 'Ana B.' })).toMatchObject({ name: 'Ana B.', username: 'ana' });
    expect(applyProfile(base, { at: at(5), event_id: 's' }, { name: 'Older' })).toMatchObject({ name: 'Ana' });
  });

  test('unreachable: the newest failure holds until the contact writes after it, in any order', () => {
    const base = mergeContacts('w', [], ['wa:1'], at(1));
    const failure = (t: number, id: string) => ({
      code: 131026,
      title: 'Message undeliverable',
      wamid: `wamid.${id}`,
      at: at(t),
      event_id: id,
    });
    const steps: ((d: ContactDoc) => ContactDoc)[] = [
      (d) => withNewest(d, 'unreachable', failure(10, 'f1')),
      (d) => withNewest(d, 'last_inbound', { at: at(20), event_id: 'in' }),
      (d) => withNewest(d, 'unreachable', failure(30, 'f2')),
    ];
    const expected = steps.reduce((d, f) => f(d), base);
    expect(currentUnreachable(expected)).toMatchObject({ wamid: 'wamid.f2', at: at(30) });
    for (const order of [
      [2, 1, 0],
      [1, 2, 0],
      [0, 2, 1],
    ])
      expect(order.reduce((d, i) => steps[i]!(d), base)).toEqual(expected);
    expect(currentUnreachable(steps[1]!(steps[0]!(base)))).toBeNull(); // wrote after the first failure
    expect(currentUnreachable(base)).toBeNull();
  });
  test.each([
    // keyword plus words, keyword inside a sentence, keyword with a negation, other languages' punctuation
    ['stop please', true],
    ['Please unsubscribe me.', true],
    ["don't stop the reminders", true],
    ['STOP sending promos!!', true],
    ['I will not stop', true],
    ['¿stop?', true],
    ['STOP', false],
    ['unsubscribe', false],
    ['stopwatch broken', false],
    ['nonstop', false],
    ['hello', false],
    [null, false],
  ])('near miss %j -> %s (never an opt-out by itself)', (text, expected) => {
    expect(isStopNearMiss(text)).toBe(expected);
    if (expected) expect(keywordConsent(text)).toBeNull();
  });

  test('the newest near miss is the review flag, in any order; merging keeps it', () => {
    const base = mergeContacts('w', [], ['wa:1'], at(1));
    const flag = (t: number, id: string) => ({
      reason: 'stop_keyword_near_miss' as const,
      text: `stop ${id}`,
      wamid: `wamid.${id}`,
      at: at(t),
      event_id: id,
    });
    const a = withNewest(withNewest(base, 'needs_review', flag(10, 'a')), 'needs_review', flag(20, 'b'));
    expect(withNewest(withNewest(base, 'needs_review', flag(20, 'b')), 'needs_review', flag(10, 'a'))).toEqual(a);
    expect(a.needs_review).toMatchObject({ wamid: 'wamid.b' });
    expect(withNewest(a, 'needs_review', flag(20, 'b'))).toBe(a);
    const other = mergeContacts('w', [], ['uid:US.1'], at(1));
    expect(mergeContacts('w', [other, a], [], at(1)).needs_review).toMatchObject({ wamid: 'wamid.b' });
  });
});
