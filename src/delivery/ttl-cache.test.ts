import { describe, expect, test } from 'vitest';
import { createTtlCache } from './ttl-cache.ts';

describe('the TTL cache', () => {
  test('misses of one call are loaded in one go; hits are not loaded again until the TTL passed', async () => {
    let t = 0;
    const loads: string[][] = [];
    const cache = createTtlCache<string>({ ttlMs: 2000, clock: { now: () => new Date(t) } });
    const load = async (ids: string[]) => {
      loads.push(ids);
      return new Map(ids.map((id) => [id, `v-${id}`]));
    };
    expect(await cache.getMany(['a', 'b', 'a'], load)).toEqual(
      new Map([
        ['a', 'v-a'],
        ['b', 'v-b'],
      ]),
    );
    t = 1999;
    expect(await cache.getMany(['a', 'c'], load)).toEqual(
      new Map([
        ['a', 'v-a'],
        ['c', 'v-c'],
      ]),
    );
    t = 2001;
    await cache.getMany(['a'], load);
    expect(loads).toEqual([['a', 'b'], ['c'], ['a']]);
  });

  test('what `keep` refuses, and what was not found, is read again every time', async () => {
    const loads: string[][] = [];
    const cache = createTtlCache<{ enabled: boolean }>({ ttlMs: 60_000, keep: (v) => v.enabled });
    const load = async (ids: string[]) => {
      loads.push(ids);
      return new Map(ids.filter((id) => id !== 'gone').map((id) => [id, { enabled: id === 'on' }]));
    };
    await cache.getMany(['on', 'off', 'gone'], load);
    await cache.getMany(['on', 'off', 'gone'], load);
    expect(loads).toEqual([
      ['on', 'off', 'gone'],
      ['off', 'gone'],
    ]);
  });

  test('a TTL of 0 caches nothing; delete forgets one entry', async () => {
    let n = 0;
    const load = async (ids: string[]) => {
      n += ids.length;
      return new Map(ids.map((id) => [id, id]));
    };
    const none = createTtlCache<string>({ ttlMs: 0 });
    await none.getMany(['a'], load);
    await none.getMany(['a'], load);
    expect(n).toBe(2);
    const some = createTtlCache<string>({ ttlMs: 60_000 });
    await some.getMany(['a', 'b'], load);
    some.delete('a');
    await some.getMany(['a', 'b'], load);
    expect(n).toBe(5);
  });
});
