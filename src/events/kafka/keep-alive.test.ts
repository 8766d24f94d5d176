// Fake timers: the counts below depend only on how far the clock was moved, never on real time.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { whileBeating } from './keep-alive.ts';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('heartbeats while a batch is handled', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('heartbeat every interval while the work runs, none after it settled, and its result returned', async () => {
    const work = deferred<string>();
    let beats = 0;
    const done = whileBeating(() => work.promise, {
      heartbeat: async () => {
        beats++;
      },
      everyMs: 1_000,
      onError: () => {},
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(beats).toBe(0);
    await vi.advanceTimersByTimeAsync(4_001);
    expect(beats).toBe(5);
    work.resolve('sent');
    await expect(done).resolves.toBe('sent');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(beats).toBe(5);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('work that throws still stops the heartbeats, and its error is the one seen', async () => {
    let beats = 0;
    const work = deferred();
    const done = whileBeating(() => work.promise, {
      heartbeat: async () => {
        beats++;
      },
      everyMs: 1_000,
      onError: () => {},
    });
    await vi.advanceTimersByTimeAsync(2_000);
    work.reject(new Error('store down'));
    await expect(done).rejects.toThrow('store down');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(beats).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a failing heartbeat (a rebalance) is reported and the work goes on; the next interval tries again', async () => {
    const work = deferred();
    const errors: unknown[] = [];
    let beats = 0;
    const done = whileBeating(() => work.promise, {
      heartbeat: async () => {
        beats++;
        throw new Error('The group is rebalancing');
      },
      everyMs: 1_000,
      onError: (err) => errors.push(err),
    });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(beats).toBe(3);
    expect(errors.map((e) => (e as Error).message)).toEqual([
      'The group is rebalancing',
      'The group is rebalancing',
      'The group is rebalancing',
    ]);
    work.resolve();
    await expect(done).resolves.toBeUndefined();
  });

  test('a heartbeat that has not answered is not called again meanwhile', async () => {
    const work = deferred();
    const answers: ReturnType<typeof deferred<void>>[] = [];
    const done = whileBeating(() => work.promise, {
      heartbeat: () => {
        const a = deferred<void>();
        answers.push(a);
        return a.promise;
      },
      everyMs: 1_000,
      onError: () => {},
    });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(answers).toHaveLength(1);
    answers[0]!.resolve();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(answers).toHaveLength(2);
    answers[1]!.resolve();
    work.resolve();
    await done;
  });
});
