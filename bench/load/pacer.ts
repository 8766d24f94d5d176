// Open-loop pacing: request i is due at start + i / rate, whether or not earlier requests have been answered, so a
// slow server meets the same offered load (no coordinated omission). Latency is measured from the due time.
// autocannon's overallRate cannot do this: it gives each connection a quota per second, which its connections
// then send back to back at the start of every second.

/** Calls fire(i, dueAt) for i = 0, 1, ... at `rate` per second for `durationMs`; resolves once the last is fired. */
export async function openLoop(rate: number, durationMs: number, fire: (i: number, dueAt: number) => void): Promise<number> {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const start = performance.now();
  let next = 0;
  while (next < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
    for (; next < due; next++) fire(next, start + (next * 1000) / rate);
    if (next < total) {
      const wait = start + (next * 1000) / rate - performance.now();
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    }
  }
  return total;
}
