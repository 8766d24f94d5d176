import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { type MessageInboundEvent } from '../../events/generated/event-types.ts';
import { type MessageDoc, type ReactionEntry } from '../../store/docs.ts';
import { applyReaction, reactionOf } from './reactions.ts';
import { emptyMessage } from './reduce.ts';

const TARGET = 'wamid.target';

/** A reaction message as ingest decodes it; `emoji` undefined: Meta omitted it (a removal). */
function reactionEvent(
  n: number,
  o: { ts: number; emoji?: string; from?: string | null; userId?: string | null; target?: string | null },
): MessageInboundEvent {
  return {
    event_id: `evt_${String(n).padStart(3, '0')}`,
    event_type: 'message.inbound',
    waba_id: 'W',
    account_id: null,
    field: 'messages',
    phone_number_id: 'P',
    display_phone_number: null,
    meta_timestamp: String(o.ts),
    entry_time: null,
    received_at: 1_781_600_000_000 + n,
    wamid: `wamid.r${n}`,
    message_type: 'reaction',
    from: o.from === undefined ? '15550100001' : o.from,
    from_user_id: o.userId === undefined ? 'US.1' : o.userId,
    from_parent_user_id: null,
    group_id: null,
    contact: null,
    text_body: null,
    context_id: null,
    reaction_message_id: o.target === undefined ? TARGET : o.target,
    reaction_emoji: o.emoji ?? null,
    system_type: null,
    errors: [],
    raw: JSON.stringify({
      id: `wamid.r${n}`,
      type: 'reaction',
      reaction: { message_id: TARGET, ...(o.emoji === undefined ? {} : { emoji: o.emoji }) },
    }),
  };
}

const target = () => emptyMessage('msg_t', 'W', TARGET, 'outbound', new Date(0));
const applyAll = (doc: MessageDoc, events: readonly MessageInboundEvent[]) =>
  events.reduce((d, e) => {
    const r = reactionOf(e);
    return r ? applyReaction(d, r.entry, new Date(e.received_at)) : d;
  }, doc);
const shown = (d: MessageDoc) => (d.reactions ?? []).filter((r) => r.emoji !== null).map((r) => [r.from_user_id ?? r.from, r.emoji]);

describe('actors > message reactions', () => {
  test('reads the target, the user and the emoji; a removal (emoji omitted, empty or blank) has emoji null', () => {
    expect(reactionOf(reactionEvent(1, { ts: 100, emoji: '👍' }))).toEqual({
      target: TARGET,
      entry: {
        key: 'uid:US.1',
        from: '15550100001',
        from_user_id: 'US.1',
        emoji: '👍',
        at: new Date(100_000),
        event_id: 'evt_001',
        wamid: 'wamid.r1',
      },
    });
    for (const emoji of [undefined, '', ' '])
      expect(reactionOf(reactionEvent(2, { ts: 100, ...(emoji === undefined ? {} : { emoji }) }))?.entry.emoji).toBeNull();
    expect(reactionOf(reactionEvent(3, { ts: 100, emoji: '👍', userId: null }))?.entry.key).toBe('wa:15550100001');
  });

  test('an event written before the reaction fields existed is read from its raw message', () => {
    const old = { ...reactionEvent(4, { ts: 100, emoji: '🙏' }), reaction_message_id: null, reaction_emoji: null };
    expect(reactionOf(old)).toMatchObject({ target: TARGET, entry: { emoji: '🙏' } });
    const removed = { ...reactionEvent(5, { ts: 100 }), reaction_message_id: null };
    expect(reactionOf(removed)).toMatchObject({ target: TARGET, entry: { emoji: null } });
  });

  test('no reaction: another type, no target, or no user', () => {
    expect(reactionOf({ ...reactionEvent(6, { ts: 1, emoji: 'x' }), message_type: 'text' })).toBeNull();
    expect(reactionOf({ ...reactionEvent(7, { ts: 1, emoji: 'x', target: null }), raw: '{}' })).toBeNull();
    expect(reactionOf(reactionEvent(8, { ts: 1, emoji: 'x', from: null, userId: null }))).toBeNull();
  });

  test('added, changed, removed: the newest reaction of each user is current; a removal is kept, not shown', () => {
    const d = applyAll(target(), [
      reactionEvent(1, { ts: 100, emoji: '👍' }),
      reactionEvent(2, { ts: 110, emoji: '❤️' }), // changed
      reactionEvent(3, { ts: 105, emoji: '😂', userId: 'US.2', from: '15550100002' }),
      reactionEvent(4, { ts: 120, userId: 'US.2', from: '15550100002' }), // removed
    ]);
    expect(shown(d)).toEqual([['US.1', '❤️']]);
    expect(d.reactions?.map((r) => [r.key, r.emoji])).toEqual([
      ['uid:US.1', '❤️'],
      ['uid:US.2', null],
    ]);
  });

  test('a late older add never brings a removed reaction back; a redelivery changes nothing', () => {
    const removed = applyAll(target(), [reactionEvent(1, { ts: 100, emoji: '👍' }), reactionEvent(2, { ts: 200 })]);
    expect(applyAll(removed, [reactionEvent(3, { ts: 150, emoji: '🔥' })])).toBe(removed);
    expect(applyAll(removed, [reactionEvent(2, { ts: 200 }), reactionEvent(1, { ts: 100, emoji: '👍' })])).toBe(removed);
    expect(shown(removed)).toEqual([]);
  });

  test('a tie in Meta time is broken by event id, whatever the order', () => {
    const a = reactionEvent(1, { ts: 100, emoji: 'a' });
    const b = reactionEvent(2, { ts: 100, emoji: 'b' });
    expect(shown(applyAll(target(), [a, b]))).toEqual([['US.1', 'b']]);
    expect(shown(applyAll(target(), [b, a]))).toEqual([['US.1', 'b']]);
  });

  test('any order and any duplication of the events end in the same reactions', () => {
    const users = [
      ['US.1', '15550100001'],
      ['US.2', '15550100002'],
      [null, '15550100003'],
    ] as const;
    const emojis = ['👍', '❤️', '😂', undefined, ''];
    const events = Array.from({ length: 24 }, (_, n) => {
      const [userId, from] = users[n % 3]!;
      const emoji = emojis[(n * 7) % emojis.length];
      return reactionEvent(n, { ts: 1000 + ((n * 13) % 9), userId, from, ...(emoji === undefined ? {} : { emoji }) });
    });
    const expected = applyAll(target(), events).reactions;
    expect(expected).toHaveLength(3);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
        fc.array(fc.nat(events.length - 1), { maxLength: 30 }),
        (shuffled, dups) => {
          const withDups = [...shuffled, ...dups.map((i) => events[i]!)];
          const got: ReactionEntry[] | undefined = applyAll(target(), withDups).reactions;
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
