import { describe, expect, test } from 'vitest';
import { judge, progressOf, type Progress } from './progress.ts';

const pending = (over: Partial<Progress> = {}): Progress => ({
  round: 1,
  status: 'pending',
  queued: 2,
  dueAt: 5_000,
  tier: 1,
  produced: true,
  ...over,
});

describe('judging an attempt record against where its delivery stands', () => {
  test('the attempt the delivery waits for is sent, from memory or from the store', () => {
    expect(judge({ round: 1, attempt: 2 }, pending(), false)).toEqual({ kind: 'send' });
    expect(judge({ round: 1, attempt: 2 }, pending({ produced: false }), true)).toEqual({ kind: 'send' });
  });

  test('a record of an older round is stale: never sent after a replay started the next one', () => {
    expect(judge({ round: 1, attempt: 6 }, pending({ round: 2, queued: 1 }), false)).toEqual({ kind: 'skip', why: 'stale_round' });
    expect(judge({ round: 1, attempt: 6 }, pending({ round: 2, queued: 1 }), true)).toEqual({ kind: 'skip', why: 'stale_round' });
  });

  test('a record of a round that ended is not sent', () => {
    for (const status of ['delivered', 'failed'] as const) {
      expect(judge({ round: 1, attempt: 2 }, pending({ status, queued: null }), false)).toEqual({ kind: 'skip', why: 'finished' });
    }
  });

  test('what this process does not know is read from the store: no entry, a newer round, a later attempt', () => {
    expect(judge({ round: 1, attempt: 1 }, undefined, false)).toEqual({ kind: 'unknown' });
    expect(judge({ round: 2, attempt: 1 }, pending(), false)).toEqual({ kind: 'unknown' });
    expect(judge({ round: 1, attempt: 3 }, pending(), false)).toEqual({ kind: 'unknown' });
  });

  test('what the store does not know is skipped (gone, or a record ahead of its delivery)', () => {
    expect(judge({ round: 1, attempt: 1 }, undefined, true)).toEqual({ kind: 'skip', why: 'not_found' });
    expect(judge({ round: 3, attempt: 1 }, pending(), true)).toEqual({ kind: 'skip', why: 'ahead' });
    expect(judge({ round: 1, attempt: 4 }, pending(), true)).toEqual({ kind: 'skip', why: 'ahead' });
  });

  test('a repeated record whose outcome is stored: its successor is queued again unless known to be on its topic', () => {
    expect(judge({ round: 1, attempt: 1 }, pending({ produced: false }), true)).toEqual({
      kind: 'requeue',
      attempt: 2,
      dueAt: 5_000,
      tier: 1,
    });
    expect(judge({ round: 1, attempt: 1 }, pending({ produced: true }), false)).toEqual({ kind: 'skip', why: 'handled' });
    // Older attempts than the predecessor: their successor was handled long ago.
    expect(judge({ round: 1, attempt: 1 }, pending({ queued: 3, produced: false }), true)).toEqual({ kind: 'skip', why: 'handled' });
  });
});

describe('where a stored delivery stands', () => {
  const base = { round: 1, status: 'pending' as const, attempts: [] };
  test('the queued tier as stored', () => {
    expect(progressOf({ ...base, queued_attempt: 3, next_attempt_at: new Date(9_000), queued_tier: 4 }, 1)).toEqual({
      round: 1,
      status: 'pending',
      queued: 3,
      dueAt: 9_000,
      tier: 4,
      produced: false,
    });
  });

  test('documents from before queued_tier: the tier derived from the wait after the failed attempt (Retry-After included)', () => {
    const failedAt = (n: number, at: number) => ({
      round: 1,
      n,
      at: new Date(at),
      outcome: 'failure' as const,
      status_code: 503,
      latency_ms: 1,
      error: null,
      error_code: null,
      response_body: null,
      retry_after_ms: null,
    });
    expect(progressOf({ ...base, queued_attempt: 1, next_attempt_at: new Date(0) }, 1).tier).toBe(0);
    expect(progressOf({ ...base, attempts: [failedAt(1, 0)], queued_attempt: 2, next_attempt_at: new Date(30_000) }, 1).tier).toBe(1);
    // 5 minutes asked: the 10 m tier; at scale 0.001 the same wait is 300 ms.
    expect(progressOf({ ...base, attempts: [failedAt(1, 0)], queued_attempt: 2, next_attempt_at: new Date(300_000) }, 1).tier).toBe(3);
    expect(progressOf({ ...base, attempts: [failedAt(1, 0)], queued_attempt: 2, next_attempt_at: new Date(300) }, 0.001).tier).toBe(3);
  });
});
