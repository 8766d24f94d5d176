// Per-endpoint rate limits, shared by every delivery process: one counter document per endpoint and second,
// incremented by what a worker batch wants to send to it ($inc with upsert, answered after the increment). The
// batch sends what was left of the limit before its increment and defers the rest (src/delivery/worker.ts). A
// request that is not granted still counts in its second, so the limit errs on the side of sending less. Counters
// older than a minute are swept with the attempt log.
import { type Db } from 'mongodb';
import { COLLECTIONS } from './collections.ts';
import { createSerial } from './serial.ts';

type RateDoc = { _id: string; endpoint_id: string; window: Date; n: number };

export const RATE_WINDOW_MS = 1000;

export function createEndpointRates(db: Db) {
  const rates = db.collection<RateDoc>(COLLECTIONS.endpointRate);
  // One increment at a time per counter in this process (src/store/serial.ts): FerretDB v1's updates are not atomic.
  // Across processes that holds on MongoDB only; on FerretDB two processes may each be granted the same tokens.
  const serial = createSerial();
  return {
    /** Of `want` sends to `endpointId` in the second of `now`, how many its `perSecond` limit lets through. */
    async take(endpointId: string, now: Date, want: number, perSecond: number): Promise<number> {
      if (want <= 0) return 0;
      const window = new Date(Math.floor(now.getTime() / RATE_WINDOW_MS) * RATE_WINDOW_MS);
      const _id = `${endpointId}|${window.getTime()}`;
      const after = await serial(_id, () =>
        rates.findOneAndUpdate(
          { _id },
          { $inc: { n: want }, $setOnInsert: { endpoint_id: endpointId, window } },
          { upsert: true, returnDocument: 'after' },
        ),
      );
      const before = (after?.n ?? want) - want;
      return Math.max(0, Math.min(want, perSecond - before));
    },
    async prune(before: Date): Promise<number> {
      return (await rates.deleteMany({ window: { $lt: before } })).deletedCount;
    },
  };
}

export type EndpointRates = ReturnType<typeof createEndpointRates>;
