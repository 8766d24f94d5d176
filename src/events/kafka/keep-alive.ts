// Keeps a consumer's group membership alive while one batch is handled. kafkajs heartbeats only between batches or
// when the handler calls heartbeat(); a batch that outlives the session timeout (the actors' store writes during a
// slow store, deliveries to receivers that hang for the whole DELIVERY_TIMEOUT_MS) makes the group give its partition
// to another member, which handles the batch a second time: deliveries still in flight are sent again, a batch of
// actor writes is applied again. So heartbeat() runs every `everyMs` until the work settles. Used by both consumer
// runners (src/events/kafka/batch-consumer.ts, src/events/kafka/due-consumer.ts).
// A failed heartbeat is only reported: a rebalance or a lost membership surfaces again at the batch's commit and at
// kafkajs's own heartbeat after the batch, which rejoin the group; throwing here would stop nothing that is running.

/** The session timeout of a member that sets none (Kafka's consumer default). */
export const DEFAULT_SESSION_TIMEOUT_MS = 30_000;

/** A member's heartbeat interval for its session timeout: a fifth of it, at most 3 s, so a short session still
 *  survives a few late beats. */
export const heartbeatIntervalFor = (sessionTimeoutMs: number): number => Math.min(3000, Math.floor(sessionTimeoutMs / 5));

export type KeepAliveOptions = Readonly<{
  heartbeat: () => Promise<void>;
  everyMs: number;
  onError: (err: unknown) => void;
}>;

/** Runs `work`, calling `heartbeat` every `everyMs` (never two at once) until it settles; returns its result. */
export async function whileBeating<T>(work: () => Promise<T>, opts: KeepAliveOptions): Promise<T> {
  let beating = false;
  const timer = setInterval(() => {
    if (beating) return; // the previous one has not answered yet
    beating = true;
    opts.heartbeat().then(
      () => {
        beating = false;
      },
      (err: unknown) => {
        beating = false;
        opts.onError(err);
      },
    );
  }, opts.everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
