import { describe, expect, test } from 'vitest';
import { AppError } from './errors.ts';
import { withRetries } from './retry.ts';

const failing = (failures: number, err: Error) => {
  let calls = 0;
  const fn = async () => {
    calls++;
    if (calls <= failures) throw err;
    return calls;
  };
  return { fn, calls: () => calls };
};

describe('core > retry', () => {
  const opts = { attempts: 3, delayMs: () => 0 };
  const busy = () => new AppError('EC_STORE_UNAVAILABLE', 'busy');

  test('a failure that passes by itself (a retriable AppError) is tried again, up to the attempts, with the pause after each failed try', async () => {
    const pauses: number[] = [];
    const ok = failing(2, busy());
    await expect(withRetries(ok.fn, { ...opts, delayMs: (a) => (pauses.push(a), 0) })).resolves.toBe(3);
    expect(pauses).toEqual([1, 2]);
    const never = failing(5, busy());
    await expect(withRetries(never.fn, opts)).rejects.toThrow('busy');
    expect(never.calls()).toBe(3);
  });

  test('any other failure is thrown at once: a non-retriable AppError, a retriable one marked otherwise, a plain error', async () => {
    for (const err of [
      new AppError('EC_STORE_REFUSED', 'refused'),
      new AppError('EC_STORE_UNAVAILABLE', 'refused', { retriable: false }),
      Object.assign(new Error('refused'), { retriable: true }),
    ]) {
      const bad = failing(1, err);
      await expect(withRetries(bad.fn, opts)).rejects.toThrow('refused');
      expect(bad.calls()).toBe(1);
    }
  });
});
