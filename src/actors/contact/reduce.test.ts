import { describe, expect, test } from 'vitest';
import { aliasesOf, applyConsent, applySighting, contactIdOf, keywordConsent, mergeContacts } from './reduce.ts';

const at = (s: number) => new Date(s * 1000);

describe('actors > contact reducer', () => {
  test.each([
    ['STOP', 'stop'], ['stop', 'stop'], ['  Stop!  ', 'stop'], ['UNSUBSCRIBE.', 'stop'], ['ＳＴＯＰ', 'stop'],
    ['start', 'resume'], ['Unstop', 'resume'], ['RESUME', 'resume'], ['subscribe', 'resume'],
    ['stop please', null], ["don't stop the reminders", null], ['stopp', null], ['', null], [null, null],
  ])('keyword %j -> %s', (text, expected) => {
    expect(keywordConsent(text)).toBe(expected);
  });

  test('aliases are typed, deduplicated and sorted; the id depends on the alias set only', () => {
    expect(aliasesOf({ wa_id: '2', user_id: 'US.1' }, { wa_id: '2', parent_user_id: 'US.ENT.9' })).toEqual(['puid:US.ENT.9', 'uid:US.1', 'wa:2']);
    expect(contactIdOf('w', ['wa:2', 'uid:US.1'])).toBe(contactIdOf('w', ['uid:US.1', 'wa:2']));
    expect(contactIdOf('w', ['wa:2'])).not.toBe(contactIdOf('other-waba', ['wa:2']));
  });

  test('merging two contacts keeps every alias, the newest identity and profile, and both consent histories', () => {
    const now = at(100);
    const a = applyConsent(applySighting(mergeContacts('w', [], ['wa:1'], now), { stamp: { at: at(10), event_id: 'e1' }, receivedAt: now, wa_id: '1', name: 'Old' }), { event_id: 'c1', at: at(20), value: 'stop', source: 'keyword', category: null }, now);
    const b = applySighting(mergeContacts('w', [], ['uid:US.9'], now), { stamp: { at: at(30), event_id: 'e2' }, receivedAt: now, user_id: 'US.9', name: 'New' });
    for (const merged of [mergeContacts('w', [a, b], [], now), mergeContacts('w', [b, a], [], now)]) {
      expect(merged).toMatchObject({ aliases: ['uid:US.9', 'wa:1'], wa_id: '1', user_id: 'US.9', name: 'New', opted_out_at: at(20) });
      expect(merged._id).toBe(contactIdOf('w', ['uid:US.9', 'wa:1']));
    }
  });

  test('the newest consent entry decides, whatever order they arrive in', () => {
    const base = mergeContacts('w', [], ['wa:1'], at(1));
    const stop = { event_id: 'a', at: at(10), value: 'stop' as const, source: 'user_preferences' as const, category: 'marketing_messages' };
    const resume = { event_id: 'b', at: at(20), value: 'resume' as const, source: 'keyword' as const, category: null };
    expect(applyConsent(applyConsent(base, stop, at(1)), resume, at(1)).opted_out_at).toBeNull();
    expect(applyConsent(applyConsent(base, resume, at(1)), stop, at(1)).opted_out_at).toBeNull();
    expect(applyConsent(applyConsent(base, stop, at(1)), stop, at(1)).consent).toHaveLength(1);
  });
});
