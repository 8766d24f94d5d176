// Retrying an idempotent step a few times, with a growing pause, while its failure is one that passes by itself.
// Used at start-up: topics on a broker that has just started (src/events/kafka/admin.ts), index builds on a busy
// store (src/store/collections.ts).

export type RetryOptions = Readonly<{
  /** Tries in all, the first included. */
  attempts: number;
  /** Whether a failure may pass by itself; any other is thrown at once. */
  retriable: (err: unknown) => boolean;
  /** The pause after failed try number `attempt` (1-based). */
  delayMs: (attempt: number) => number;
}>;

export async function withRetries<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= opts.attempts || !opts.retriable(err)) throw err;
      await new Promise((r) => setTimeout(r, opts.delayMs(attempt)));
    }
  }
}
