// Retrying an idempotent step a few times, with a growing pause, while its failure is one that passes by itself.
// Used at start-up: topics on a broker that has just started (src/events/kafka/admin.ts), index builds on a busy
// store (src/store/collections.ts). What may pass by itself is the error's own `retriable` (src/core/errors.ts):
// each port maps its client's errors to an AppError before they reach here.
import { isRetriable } from './errors.ts';

export type RetryOptions = Readonly<{
  /** Tries in all, the first included. */
  attempts: number;
  /** The pause after failed try number `attempt` (1-based). */
  delayMs: (attempt: number) => number;
}>;

export async function withRetries<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= opts.attempts || !isRetriable(err)) throw err;
      await new Promise((r) => setTimeout(r, opts.delayMs(attempt)));
    }
  }
}
