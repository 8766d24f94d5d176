import { describe, expect, test } from 'vitest';
import { createThrottle } from './throttle.ts';

describe('sending > throttle per phone number', () => {
  test('slots are 1/perSecond apart per number; a pause moves every later slot past it', () => {
    let t = 1_000_000;
    const throttle = createThrottle(80, { now: () => new Date(t) });
    const waits = Array.from({ length: 80 }, () => throttle.reserve('P1'));
    expect(waits[0]).toBe(0);
    expect(waits.at(-1)).toBeCloseTo(79 * 12.5, 5); // 80 sends span one second
    expect(throttle.reserve('P2')).toBe(0); // another number has its own tier
    throttle.pause('P1', 5000);
    expect(throttle.reserve('P1')).toBe(5000);
    t += 10_000; // idle time is not banked as a burst
    expect([throttle.reserve('P1'), throttle.reserve('P1')]).toEqual([0, 12.5]);
  });
});
