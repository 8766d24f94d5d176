import { describe, expect, test } from 'vitest';
import { MAX_ATTEMPTS, nextAttempt } from './schedule.ts';

describe('delivery schedule', () => {
  test('the first attempt plus five retries at 30 s, 2 m, 10 m, 1 h, 6 h; then it gives up', () => {
    const delays: number[] = [];
    for (let failed = 1; failed <= MAX_ATTEMPTS; failed++) {
      const next = nextAttempt(failed, 1_000, { scale: 1, retryAfterMs: null });
      if (next === null) break;
      expect(next.attempt).toBe(failed + 1);
      delays.push(next.dueAt - 1_000);
    }
    expect(delays).toEqual([30_000, 120_000, 600_000, 3_600_000, 21_600_000]);
    expect(nextAttempt(6, 0, { scale: 1, retryAfterMs: null })).toBeNull();
  });

  test('the scale shrinks every delay (tests run the chain in seconds)', () => {
    expect(nextAttempt(1, 0, { scale: 0.001, retryAfterMs: null })!.dueAt).toBe(30);
    expect(nextAttempt(5, 0, { scale: 0.001, retryAfterMs: null })!.dueAt).toBe(21_600);
  });

  test('Retry-After pushes an attempt later, never earlier, and is capped at the longest tier (6 h)', () => {
    expect(nextAttempt(1, 0, { scale: 1, retryAfterMs: 90_000 })!.dueAt).toBe(90_000);
    expect(nextAttempt(1, 0, { scale: 1, retryAfterMs: 1_000 })!.dueAt).toBe(30_000);
    expect(nextAttempt(1, 0, { scale: 1, retryAfterMs: 7 * 24 * 3_600_000 })!.dueAt).toBe(6 * 3_600_000);
  });

  test("a record never waits longer than its topic's delay: a long Retry-After moves it to a longer tier", () => {
    expect(nextAttempt(1, 0, { scale: 1, retryAfterMs: null })!.tier).toBe(1);
    expect(nextAttempt(1, 0, { scale: 1, retryAfterMs: 90_000 })!.tier).toBe(2); // 90 s: waits on the 2 m topic
    expect(nextAttempt(1, 0, { scale: 1, retryAfterMs: 86_400_000 })!.tier).toBe(5);
    expect(nextAttempt(4, 0, { scale: 1, retryAfterMs: 1_000 })!.tier).toBe(4); // never a shorter tier than its own
    for (let failed = 1; failed < 6; failed++) {
      for (const ra of [null, 0, 45_000, 700_000, 5_000_000, 1e9]) {
        const next = nextAttempt(failed, 0, { scale: 1, retryAfterMs: ra })!;
        expect(next.dueAt).toBeLessThanOrEqual([0, 30_000, 120_000, 600_000, 3_600_000, 21_600_000][next.tier]!);
      }
    }
  });
});
