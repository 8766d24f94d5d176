import { describe, expect, test } from 'vitest';
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
  const opts = { attempts: 3, retriable: (e: unknown) => (e as Error).message === 'busy', delayMs: () => 0 };

  test('a failure that passes by itself is tried again, up to the attempts, with the pause after each failed try', async () => {
    const pauses: number[] = [];
    const ok = failing(2, new Error('busy'));
    await expect(withRetries(ok.fn, { ...opts, delayMs: (a) => (pauses.push(a), 0) })).resolves.toBe(3);
    expect(pauses).toEqual([1, 2]);
    const never = failing(5, new Error('busy'));
    await expect(withRetries(never.fn, opts)).rejects.toThrow('busy');
    expect(never.calls()).toBe(3);
  });

  test('any other failure is thrown at once', async () => {
    const bad = failing(1, new Error('refused'));
    await expect(withRetries(bad.fn, opts)).rejects.toThrow('refused');
    expect(bad.calls()).toBe(1);
  });
});
