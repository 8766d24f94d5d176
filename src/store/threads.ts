// ec_thread: one conversation between a business phone number and a contact. Written only by the thread actor.
import { type Db } from 'mongodb';
import { COLLECTIONS } from './collections.ts';

export type ThreadContact = { wa_id: string | null; user_id: string | null; name: string | null; username: string | null };

export type ThreadDoc = {
  _id: string;
  waba_id: string;
  phone_number_id: string | null;
  /** BSUID when Meta sent one, else wa_id: the stable side of the contact's identity. */
  contact_key: string;
  contact: ThreadContact;
  /** Meta timestamp of the contact's newest message (name and profile follow the newest). */
  contact_seen_at: Date | null;
  last_message_at: Date | null;
  last_inbound_at: Date | null;
  /** 24-hour customer service window: newest user-initiated message + 24 h. */
  window_expires_at: Date | null;
  unread_count: number;
  created_at: Date;
  updated_at: Date;
};

export function createThreadStore(db: Db) {
  const threads = db.collection<ThreadDoc>(COLLECTIONS.thread);
  return {
    async loadMany(ids: readonly string[]): Promise<Map<string, ThreadDoc>> {
      if (ids.length === 0) return new Map();
      return new Map((await threads.find({ _id: { $in: [...ids] } }).toArray()).map((t) => [t._id, t]));
    },
    /** Writes whole documents; safe because each thread has exactly one writer (its actor). */
    async saveMany(docs: readonly ThreadDoc[]): Promise<void> {
      if (docs.length === 0) return;
      await threads.bulkWrite(
        docs.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
        { ordered: true },
      );
    },
    async listForWabas(wabaIds: readonly string[], limit: number): Promise<ThreadDoc[]> {
      if (wabaIds.length === 0) return [];
      return threads
        .find({ waba_id: { $in: [...wabaIds] } })
        .sort({ last_message_at: -1, _id: 1 })
        .limit(limit)
        .toArray();
    },
  };
}

export type ThreadStore = ReturnType<typeof createThreadStore>;
