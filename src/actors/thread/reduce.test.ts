import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { BSON } from 'mongodb';
import { type ThreadDoc } from '../../store/docs.ts';
import { mergeContacts } from '../contact/reduce.ts';
import { applyInbound, applyRead, emptyThread, mergeThreads, UNREAD_KEPT } from './reduce.ts';

const at = (s: number) => new Date(s * 1000);
const contact = mergeContacts('w', [], ['wa:1'], at(0));
const empty = () => emptyThread('thr_1', 'w', 'pn', contact, at(0));
const inbound = (n: number, t = n) => ({ id: `msg_${String(n).padStart(6, '0')}`, at: at(t), type: 'text', receivedAt: at(0) });
type Step = { kind: 'in'; n: number } | { kind: 'read'; upTo: number };
const fold = (steps: readonly Step[], t: ThreadDoc = empty()) =>
  steps.reduce((doc, s) => (s.kind === 'in' ? applyInbound(doc, inbound(s.n)) : applyRead(doc, at(s.upTo), at(0))), t);

describe('actors > thread reducer: unread messages (issue 16, defect 3)', () => {
  test('the unread set is bounded: a long-lived thread stays a small document, and says it holds the newest only', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ kind: 'in', n: i + 1 }) as Step);
    const t = fold(many);
    expect(t).toMatchObject({ unread_count: UNREAD_KEPT, unread_capped: true });
    expect(t.unread).toHaveLength(UNREAD_KEPT);
    expect(t.unread[0]!.id).toBe('msg_004001'); // the newest 1000 by Meta time
    // Far below MongoDB's 16 MB limit, however many messages follow.
    expect(BSON.calculateObjectSize(t)).toBeLessThan(128 * 1024);
  });

  test('a read mark reads every message at or before it; a later message is unread; a mark never moves back', () => {
    const t = fold([
      { kind: 'in', n: 1 },
      { kind: 'in', n: 2 },
      { kind: 'in', n: 3 },
      { kind: 'read', upTo: 2 },
    ]);
    expect(t).toMatchObject({ unread_count: 1, read_up_to: at(2), unread: [{ id: 'msg_000003', at: at(3) }] });
    expect(applyRead(t, at(1), at(0))).toBe(t);
    // A redelivered or late message from before the mark stays read.
    expect(applyInbound(t, inbound(1))).toMatchObject({ unread_count: 1 });
    expect(applyInbound(t, inbound(9, 2))).toMatchObject({ unread_count: 1 });
    expect(fold([{ kind: 'read', upTo: 3 }], t)).toMatchObject({ unread_count: 0, unread: [] });
  });

  test('marking read past the oldest message kept clears unread_capped (those that fell off are older still)', () => {
    const capped = fold(Array.from({ length: UNREAD_KEPT + 10 }, (_, i) => ({ kind: 'in', n: i + 1 }) as Step));
    expect(capped.unread_capped).toBe(true);
    expect(applyRead(capped, at(5), at(0))).toMatchObject({ unread_capped: true, unread_count: UNREAD_KEPT }); // before the oldest kept (11)
    expect(applyRead(capped, at(11), at(0))).toMatchObject({ unread_capped: false, unread_count: UNREAD_KEPT - 1 });
  });

  test('messages and marks in any order, duplicated, end in the same thread', async () => {
    const steps: Step[] = [
      ...Array.from({ length: 12 }, (_, i) => ({ kind: 'in', n: i + 1 }) as Step),
      { kind: 'read', upTo: 4 },
      { kind: 'read', upTo: 9 },
      { kind: 'read', upTo: 6 },
    ];
    const expected = fold(steps);
    expect(expected).toMatchObject({ unread_count: 3, read_up_to: at(9) });
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(steps, { minLength: steps.length, maxLength: steps.length }),
        fc.array(fc.nat(steps.length - 1), { maxLength: 8 }),
        async (order, dups) => {
          const withDups = [...order, ...dups.map((i) => steps[i]!)];
          expect(fold(withDups)).toEqual(expected);
        },
      ),
    );
  });

  test('a thread stored before the bound (unread_ids, no times) keeps its unread messages and loses the old field', () => {
    const { unread: _, unread_capped: __, read_up_to: ___, ...old } = empty();
    const stored = { ...old, unread_ids: ['msg_old1', 'msg_old2'], unread_count: 2 } as unknown as ThreadDoc;
    const next = applyInbound(stored, inbound(5));
    expect(next).toMatchObject({ unread_count: 3, unread_capped: false, read_up_to: null });
    expect(next.unread.map((u) => u.id)).toEqual(['msg_old1', 'msg_old2', 'msg_000005']);
    expect('unread_ids' in next).toBe(false);
    expect(applyRead(next, at(5), at(0))).toMatchObject({ unread_count: 0 });
  });

  test('two threads merging keep the later mark and the union of what is unread after it', () => {
    const a = fold([
      { kind: 'in', n: 1 },
      { kind: 'in', n: 5 },
      { kind: 'read', upTo: 2 },
    ]);
    const b = fold(
      [
        { kind: 'in', n: 3 },
        { kind: 'in', n: 7 },
        { kind: 'read', upTo: 4 },
      ],
      emptyThread('thr_2', 'w', 'pn', contact, at(0)),
    );
    for (const merged of [mergeThreads([a, b], contact), mergeThreads([b, a], contact)]) {
      expect(merged).toMatchObject({
        _id: 'thr_1',
        read_up_to: at(4),
        unread_count: 2,
        unread: [{ id: 'msg_000005' }, { id: 'msg_000007' }],
      });
    }
  });
});
