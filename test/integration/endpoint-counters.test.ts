// Endpoint health counts and rate-limit counters on the real store. FerretDB v1 applies an update by reading the
// document and writing it back with no lock (../shared/docs/local-stack.md §5): concurrent $inc on one document
// lose updates there. These count exactly however many batches of a process write at once, and add up the
// documents of several processes.
import { describe, expect, test } from 'vitest';
import { createEndpointHealthStore } from '../../src/store/endpoint-health.ts';
import { createEndpointRates } from '../../src/store/endpoint-rates.ts';
import { useTestDb } from '../helpers/db.ts';

describe('store > endpoint counters under concurrent writes', () => {
  const { db } = useTestDb();

  test('60 batches counted at once by two processes add up exactly, with the latency histogram and maximum', async () => {
    const [a, b] = [createEndpointHealthStore(db()), createEndpointHealthStore(db())]; // two processes
    const at = new Date('2026-03-02T09:16:00Z');
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? a : b).count('ep_c', at, [
          { ok: true, latencyMs: 40 },
          { ok: i % 3 !== 0, latencyMs: 300 + i },
        ]),
      ),
    );
    const [bucket] = await a.statsSince('ep_c', new Date('2026-03-02T09:00:00Z'));
    expect(bucket).toMatchObject({ attempts: 120, successes: 100, latency_max_ms: 359, l0: 60, l2: 60 });
    expect(bucket!.bucket).toEqual(new Date('2026-03-02T09:15:00Z'));
    expect(bucket!.latency_sum_ms).toBe(60 * 40 + 60 * 300 + (59 * 60) / 2);
  });

  test('a rate limit of 10 per second grants exactly 10 of 40 concurrent single requests in one process', async () => {
    const rates = createEndpointRates(db());
    const now = new Date('2026-03-02T09:16:00.100Z');
    const grants = await Promise.all(Array.from({ length: 40 }, () => rates.take('ep_r', now, 1, 10)));
    expect(grants.reduce((x, y) => x + y, 0)).toBe(10);
    expect(await rates.take('ep_r', new Date(now.getTime() + 1000), 3, 10)).toBe(3); // the next second
  });
});
