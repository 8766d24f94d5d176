// ec_message: one WhatsApp message, unique per WABA + wamid. Inserted once; duplicates are no-ops.
import { MongoBulkWriteError, type Db } from 'mongodb';
import { COLLECTIONS, isDuplicateKey } from './collections.ts';

export type MessageDoc = {
  _id: string;
  waba_id: string;
  wamid: string;
  thread_id: string;
  direction: 'inbound' | 'outbound';
  type: string;
  text: string | null;
  context_id: string | null;
  timestamp: Date | null;
  from: string | null;
  from_user_id: string | null;
  read_at: Date | null;
  event_id: string;
  raw: string;
  created_at: Date;
};

export function createMessageStore(db: Db) {
  const messages = db.collection<MessageDoc>(COLLECTIONS.message);
  return {
    /** Inserts the messages not stored yet; returns how many were new. Duplicate wamids are skipped. */
    async insertNew(docs: readonly MessageDoc[]): Promise<number> {
      if (docs.length === 0) return 0;
      try {
        const res = await messages.insertMany([...docs], { ordered: false });
        return res.insertedCount;
      } catch (err) {
        if (err instanceof MongoBulkWriteError) {
          const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
          if (errors.every((e) => e.code === 11000)) return err.insertedCount;
        } else if (isDuplicateKey(err)) {
          return 0;
        }
        throw err;
      }
    },
    /** Unread inbound messages per thread: recounted, so a crash between writes never leaves a wrong count. */
    async countUnread(threadId: string): Promise<number> {
      return messages.countDocuments({ thread_id: threadId, direction: 'inbound', read_at: null });
    },
    async listForThread(threadId: string, limit: number): Promise<MessageDoc[]> {
      return messages.find({ thread_id: threadId }).sort({ timestamp: 1, _id: 1 }).limit(limit).toArray();
    },
  };
}

export type MessageStore = ReturnType<typeof createMessageStore>;
