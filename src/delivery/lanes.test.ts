import { describe, expect, test } from 'vitest';
import { runGrouped } from './lanes.ts';

const never = new Promise<void>(() => {});
const tick = () => new Promise<void>((r) => setImmediate(r));

describe('groups of work in bounded lanes', () => {
  test("a group's items one after another, groups side by side, in order of arrival", async () => {
    const log: string[] = [];
    const release = new Map<string, () => void>();
    const done = runGrouped([['a1', 'a2'], ['b1'], ['c1']], 2, (item) => {
      log.push(`start ${item}`);
      return new Promise<void>((r) =>
        release.set(item, () => {
          log.push(`end ${item}`);
          r();
        }),
      );
    });
    await tick();
    expect(log).toEqual(['start a1', 'start b1']); // c1 waits for a lane, a2 for a1
    release.get('b1')!();
    await tick();
    expect(log.slice(2)).toEqual(['end b1', 'start c1']);
    release.get('a1')!();
    await tick();
    expect(log.slice(4)).toEqual(['end a1', 'start a2']);
    release.get('a2')!();
    release.get('c1')!();
    await done;
  });

  test('groups that never settle hold only their own lanes: the rest runs in the free ones', async () => {
    const handled: string[] = [];
    const hung = Array.from({ length: 63 }, (_, i) => [`hung${i}`]);
    void runGrouped([...hung, ['ok1'], ['ok2', 'ok3']], 64, async (item) => {
      if (item.startsWith('hung')) return never;
      handled.push(item);
    });
    await tick();
    expect(handled).toEqual(['ok1', 'ok2', 'ok3']);
  });

  test('with every lane held, the next group waits', async () => {
    const handled: string[] = [];
    void runGrouped([['hung0'], ['hung1'], ['ok']], 2, async (item) => {
      if (item.startsWith('hung')) return never;
      handled.push(item);
    });
    await tick();
    expect(handled).toEqual([]);
  });

  test('no groups: done at once', async () => {
    await expect(runGrouped([], 4, async () => {})).resolves.toBeUndefined();
  });
});
