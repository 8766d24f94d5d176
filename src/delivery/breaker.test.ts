import { describe, expect, test } from 'vitest';
import { createBreakers } from './breaker.ts';

describe('the circuit breaker of an endpoint', () => {
  test('closed until `failures` failures in a row; a success in between starts the count over', () => {
    const b = createBreakers({ failures: 3, cooldownMs: 1000 });
    for (const ok of [false, false, true, false, false]) {
      expect(b.admit('ep', 0)).toEqual({ send: true });
      b.record('ep', ok, 0);
    }
    expect(b.admit('ep', 0)).toEqual({ send: true });
    b.record('ep', false, 10);
    expect(b.admit('ep', 10)).toEqual({ send: false, until: 1010 });
    expect(b.admit('other', 10)).toEqual({ send: true }); // per endpoint
  });

  test('after the cooldown one probe goes through; the others wait for it; a success closes the circuit', () => {
    const b = createBreakers({ failures: 1, cooldownMs: 1000 });
    b.record('ep', false, 0);
    expect(b.admit('ep', 999)).toEqual({ send: false, until: 1000 });
    expect(b.admit('ep', 1000)).toEqual({ send: true }); // the probe
    expect(b.admit('ep', 1001)).toEqual({ send: false, until: 2000 });
    b.record('ep', true, 1200);
    expect(b.admit('ep', 1201)).toEqual({ send: true });
    expect(b.admit('ep', 1202)).toEqual({ send: true });
  });

  test('a failed probe opens it again for a cooldown; a probe with no outcome lets another through after a cooldown', () => {
    const b = createBreakers({ failures: 1, cooldownMs: 1000 });
    b.record('ep', false, 0);
    expect(b.admit('ep', 1000)).toEqual({ send: true });
    b.record('ep', false, 1500);
    expect(b.admit('ep', 2000)).toEqual({ send: false, until: 2500 });
    expect(b.admit('ep', 2500)).toEqual({ send: true }); // probe; its worker then crashed: no record()
    expect(b.admit('ep', 3000)).toEqual({ send: false, until: 3500 });
    expect(b.admit('ep', 3500)).toEqual({ send: true });
  });

  test('keeps at most `max` endpoints in memory', () => {
    const b = createBreakers({ failures: 1, cooldownMs: 1000 }, 2);
    for (const id of ['a', 'b', 'c']) b.record(id, false, 0);
    expect(b.admit('a', 1)).toEqual({ send: true }); // forgotten: the oldest
    expect(b.admit('c', 1)).toEqual({ send: false, until: 1000 });
  });
});
