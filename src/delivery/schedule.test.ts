import { describe, expect, test } from 'vitest';
import { DELIVERY_TIERS } from '../events/topics.ts';
import { JITTER, MAX_ATTEMPTS, nextAttempt, type RetryInput } from './schedule.ts';

const plain: RetryInput = { scale: 1, retryAfterMs: null, overloaded: false, jitter: 0.5 };

describe('delivery schedule', () => {
  test('the first attempt plus five retries at 30 s, 2 m, 10 m, 1 h, 6 h; then it gives up', () => {
    const delays: number[] = [];
    for (let failed = 1; failed <= MAX_ATTEMPTS; failed++) {
      const next = nextAttempt(failed, 1_000, plain);
      if (next === null) break;
      expect(next.attempt).toBe(failed + 1);
      delays.push(next.dueAt - 1_000);
    }
    expect(delays).toEqual([30_000, 120_000, 600_000, 3_600_000, 21_600_000]);
    expect(nextAttempt(6, 0, plain)).toBeNull();
  });

  test('the scale shrinks every delay (tests run the chain in seconds)', () => {
    expect(nextAttempt(1, 0, { ...plain, scale: 0.001 })!.dueAt).toBe(30);
    expect(nextAttempt(5, 0, { ...plain, scale: 0.001 })!.dueAt).toBe(21_600);
  });

  test('jitter spreads every delay over ±20 %, and keeps the record on its own tier', () => {
    expect(JITTER).toBe(0.2);
    for (let failed = 1; failed < MAX_ATTEMPTS; failed++) {
      const delay = DELIVERY_TIERS[failed]!.delayMs;
      const low = nextAttempt(failed, 0, { ...plain, jitter: 0 })!;
      const high = nextAttempt(failed, 0, { ...plain, jitter: 0.999999 })!;
      expect(low.dueAt).toBe(delay * 0.8);
      expect(high.dueAt).toBe(Math.round(delay * (1.2 - 0.4 * 0.000001)));
      expect([low.tier, high.tier]).toEqual([failed, failed]);
    }
    // 1,000 deliveries that failed together come back spread over the whole band, not at one instant.
    const dues = Array.from({ length: 1000 }, (_, i) => nextAttempt(1, 0, { ...plain, jitter: i / 1000 })!.dueAt);
    expect(new Set(dues).size).toBeGreaterThan(900);
    expect([Math.min(...dues), Math.max(...dues)]).toEqual([24_000, 35_988]);
  });

  test('Retry-After pushes an attempt later, never earlier, never past twice the scheduled delay, and gets no jitter', () => {
    expect(nextAttempt(1, 0, { ...plain, retryAfterMs: 50_000, jitter: 0 })!.dueAt).toBe(50_000);
    expect(nextAttempt(1, 0, { ...plain, retryAfterMs: 1_000, jitter: 0 })!.dueAt).toBe(30_000);
    expect(nextAttempt(1, 0, { ...plain, retryAfterMs: 7 * 24 * 3_600_000 })!.dueAt).toBe(60_000);
    expect(nextAttempt(3, 0, { ...plain, retryAfterMs: 7 * 24 * 3_600_000 })!.dueAt).toBe(1_200_000);
  });

  test('after a 429 or a timeout the next attempt waits at least 60 s', () => {
    expect(nextAttempt(1, 0, { ...plain, overloaded: true })!.dueAt).toBe(60_000);
    expect(nextAttempt(1, 0, { ...plain, overloaded: true, jitter: 0 })!.dueAt).toBe(60_000); // the floor holds after the jitter
    expect(nextAttempt(1, 0, { ...plain, overloaded: true, jitter: 0.999999 })!.dueAt).toBe(72_000);
    expect(nextAttempt(2, 0, { ...plain, overloaded: true })!.dueAt).toBe(120_000); // the tier is longer already
  });

  test("a record never waits longer than its topic's delay plus the jitter: a longer wait moves it to a longer tier", () => {
    expect(nextAttempt(1, 0, plain)!.tier).toBe(1);
    expect(nextAttempt(1, 0, { ...plain, retryAfterMs: 50_000 })!.tier).toBe(2); // 50 s: waits on the 2 m topic
    expect(nextAttempt(1, 0, { ...plain, overloaded: true })!.tier).toBe(2);
    expect(nextAttempt(4, 0, { ...plain, retryAfterMs: 1_000 })!.tier).toBe(4); // never a shorter tier than its own
    for (let failed = 1; failed < 6; failed++) {
      for (const ra of [null, 0, 45_000, 700_000, 5_000_000, 1e9]) {
        for (const overloaded of [false, true]) {
          for (const jitter of [0, 0.5, 0.9999]) {
            const next = nextAttempt(failed, 0, { scale: 1, retryAfterMs: ra, overloaded, jitter })!;
            expect(next.tier).toBeGreaterThanOrEqual(failed);
            expect(next.dueAt).toBeLessThanOrEqual(DELIVERY_TIERS[next.tier]!.delayMs * (1 + JITTER));
          }
        }
      }
    }
  });
});
