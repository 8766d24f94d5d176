// Reads of ec_thread for the REST API.
import { type Db } from 'mongodb';
import { COLLECTIONS } from './collections.ts';
import { type ThreadDoc } from './docs.ts';

export function createThreadReads(db: Db) {
  const threads = db.collection<ThreadDoc>(COLLECTIONS.thread);
  return {
    async listForWabas(wabaIds: readonly string[], limit: number): Promise<ThreadDoc[]> {
      if (wabaIds.length === 0) return [];
      return threads.find({ waba_id: { $in: [...wabaIds] } }).sort({ last_message_at: -1, _id: 1 }).limit(limit).toArray();
    },
  };
}
