import { describe, expect, test } from 'vitest';
import { chunk, inLanes } from './lanes.ts';

describe('core > lanes', () => {
  test('at most `limit` at once; a failure does not stop the others, and the call rejects only once all settled', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    const work = inLanes([1, 2, 3, 4, 5, 6], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      running--;
      if (n === 2) throw new Error('item 2 failed');
      done.push(n);
    });
    await expect(work).rejects.toThrow('item 2 failed');
    expect({ most, running, done: done.sort() }).toEqual({ most: 2, running: 0, done: [1, 3, 4, 5, 6] });
  });

  test('chunks keep order and put the rest in the last one', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 3)).toEqual([]);
  });
});
