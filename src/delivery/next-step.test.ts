import { describe, expect, test } from 'vitest';
import { DELIVERY_TIERS } from '../events/topics.ts';
import { ABORTED_REASON, nextStep, type NextStepInput } from './next-step.ts';
import { MAX_ATTEMPTS, MAX_RETRY_AFTER_MS } from './schedule.ts';

const T0 = 1_781_700_000_000;
const failed = (retryAfterMs: number | null = null, over: { overloaded?: boolean; abort?: boolean } = {}) => ({
  ok: false as const,
  retryAfterMs,
  overloaded: false,
  abort: false,
  ...over,
});
const input = (over: Partial<NextStepInput> = {}): NextStepInput => ({
  result: failed(),
  attempt: 1,
  now: T0,
  scale: 1,
  endpointDisabled: false,
  jitter: 0.5, // the delay itself; the spread is schedule.test.ts's
  ...over,
});

describe('the next step of a delivery after an attempt', () => {
  test('a 2xx delivers it, on any attempt', () => {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      expect(nextStep(input({ result: { ok: true }, attempt }))).toEqual({ kind: 'delivered' });
    }
  });

  test('a success is delivered even if the endpoint is disabled meanwhile (the receiver has it)', () => {
    expect(nextStep(input({ result: { ok: true }, endpointDisabled: true }))).toEqual({ kind: 'delivered' });
  });

  test('a failure is retried on the next tier, its delay counted from now', () => {
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      expect(nextStep(input({ attempt }))).toEqual({
        kind: 'retry',
        attempt: attempt + 1,
        tier: attempt,
        dueAt: T0 + DELIVERY_TIERS[attempt]!.delayMs,
      });
    }
  });

  test('the delay scale shrinks the wait, not the tier', () => {
    expect(nextStep(input({ attempt: 2, scale: 0.001 }))).toEqual({ kind: 'retry', attempt: 3, tier: 2, dueAt: T0 + 120 });
  });

  test('the attempt before the last is retried on the last tier (6 h)', () => {
    const last = DELIVERY_TIERS.length - 1;
    expect(nextStep(input({ attempt: MAX_ATTEMPTS - 1 }))).toEqual({
      kind: 'retry',
      attempt: MAX_ATTEMPTS,
      tier: last,
      dueAt: T0 + 21_600_000,
    });
  });

  test('after the last attempt failed it gives up, with or without Retry-After', () => {
    const giveUp = { kind: 'give_up', reason: `all ${MAX_ATTEMPTS} attempts failed` };
    expect(nextStep(input({ attempt: MAX_ATTEMPTS }))).toEqual(giveUp);
    expect(nextStep(input({ attempt: MAX_ATTEMPTS, result: failed(1_000) }))).toEqual(giveUp);
    expect(giveUp.reason).toBe('all 6 attempts failed'); // the documented reason (README, docs/decisions/0008)
  });

  test('a failure that disabled the endpoint ends the delivery, whether a retry or the last attempt was next', () => {
    expect(nextStep(input({ attempt: 1, endpointDisabled: true }))).toEqual({ kind: 'endpoint_disabled' });
    expect(nextStep(input({ attempt: MAX_ATTEMPTS, endpointDisabled: true }))).toEqual({ kind: 'endpoint_disabled' });
    expect(nextStep(input({ attempt: 2, result: failed(60_000), endpointDisabled: true }))).toEqual({ kind: 'endpoint_disabled' });
  });

  test('Retry-After shorter than the tier delay changes nothing (never earlier)', () => {
    expect(nextStep(input({ attempt: 1, result: failed(0) }))).toEqual({ kind: 'retry', attempt: 2, tier: 1, dueAt: T0 + 30_000 });
    expect(nextStep(input({ attempt: 3, result: failed(599_999) }))).toEqual({ kind: 'retry', attempt: 4, tier: 3, dueAt: T0 + 600_000 });
  });

  test('Retry-After longer than the tier delay waits that long, up to twice the delay, on a tier whose delay covers it', () => {
    expect(nextStep(input({ attempt: 1, result: failed(30_001) }))).toEqual({ kind: 'retry', attempt: 2, tier: 1, dueAt: T0 + 30_001 });
    expect(nextStep(input({ attempt: 1, result: failed(50_000) }))).toEqual({ kind: 'retry', attempt: 2, tier: 2, dueAt: T0 + 50_000 });
    expect(nextStep(input({ attempt: 1, result: failed(120_000) }))).toEqual({ kind: 'retry', attempt: 2, tier: 2, dueAt: T0 + 60_000 });
    expect(nextStep(input({ attempt: 2, result: failed(3_600_001) }))).toEqual({ kind: 'retry', attempt: 3, tier: 3, dueAt: T0 + 240_000 });
  });

  test('Retry-After on the last tier is honoured up to 6 h + 20 % (the most any record waits on it)', () => {
    expect(MAX_RETRY_AFTER_MS).toBe(25_920_000);
    const last = MAX_ATTEMPTS - 1;
    expect(nextStep(input({ attempt: last, result: failed(7 * 24 * 3_600_000) }))).toEqual({
      kind: 'retry',
      attempt: MAX_ATTEMPTS,
      tier: 5,
      dueAt: T0 + MAX_RETRY_AFTER_MS,
    });
  });

  test('a 429 or a timeout (overloaded) waits at least 60 s, also on the first retry tier (30 s)', () => {
    expect(nextStep(input({ attempt: 1, result: failed(null, { overloaded: true }) }))).toEqual({
      kind: 'retry',
      attempt: 2,
      tier: 2,
      dueAt: T0 + 60_000,
    });
    expect(nextStep(input({ attempt: 2, result: failed(null, { overloaded: true }) }))).toMatchObject({ tier: 2, dueAt: T0 + 120_000 });
    // Retry-After is then bounded by twice the floor, not by twice 30 s.
    expect(nextStep(input({ attempt: 1, result: failed(300_000, { overloaded: true }) }))).toMatchObject({ dueAt: T0 + 120_000 });
  });

  test('webhook-delivery: abort-message stops the retries of that message, on any attempt', () => {
    for (const attempt of [1, 3, MAX_ATTEMPTS])
      expect(nextStep(input({ attempt, result: failed(null, { abort: true }) }))).toEqual({ kind: 'give_up', reason: ABORTED_REASON });
    expect(ABORTED_REASON).toMatch(/abort-message/);
  });

  test('Retry-After scales with the delays (tests run the chain in seconds)', () => {
    expect(nextStep(input({ attempt: 1, scale: 0.001, result: failed(45_000) }))).toEqual({
      kind: 'retry',
      attempt: 2,
      tier: 2,
      dueAt: T0 + 45,
    });
  });
});
