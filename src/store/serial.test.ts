import { describe, expect, test } from 'vitest';
import { createSerial } from './serial.ts';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('serial writes per key', () => {
  test('one key runs one at a time, in order; other keys run meanwhile; a failure does not stop the next', async () => {
    const serial = createSerial();
    const log: string[] = [];
    const task = (key: string, n: number, fail = false) =>
      serial(key, async () => {
        log.push(`${key}${n}+`);
        await tick();
        log.push(`${key}${n}-`);
        if (fail) throw new Error(`${key}${n} failed`);
        return n;
      });
    const results = await Promise.allSettled([task('a', 1, true), task('a', 2), task('b', 1)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log.indexOf('a1-')).toBeLessThan(log.indexOf('a2+'));
    expect(log.indexOf('b1+')).toBeLessThan(log.indexOf('a1-')); // b did not wait for a
  });
});
