// Broadcast recipients. The sending side (not built yet) records each recipient and, once Meta accepts the
// message, its wamid; the actors mark pending recipients skipped when the contact opts out; a recipient's
// delivery state is the delivery_status of its message, read here at query time (so a status that arrives
// before the sender recorded the wamid is never lost).
import { type Db } from 'mongodb';
import { COLLECTIONS } from './collections.ts';
import { messageIdOf } from './doc-ids.ts';
import { type BroadcastRecipientDoc, type MessageDoc } from './docs.ts';

const CHUNK = 500;

export function createBroadcastStore(db: Db) {
  const recipients = db.collection<BroadcastRecipientDoc>(COLLECTIONS.broadcastRecipient);
  const messages = db.collection<MessageDoc>(COLLECTIONS.message);
  return {
    /** The sending side's write: the recipients of a broadcast (replaced by _id, so a retry is harmless). */
    async recordRecipients(docs: readonly BroadcastRecipientDoc[]): Promise<void> {
      if (docs.length === 0) return;
      await recipients.bulkWrite(
        docs.map((d) => ({ replaceOne: { filter: { _id: d._id }, replacement: d, upsert: true } })),
        { ordered: true },
      );
    },
    /** Every recipient of a broadcast within the caller's WABAs, by _id, with the message each one was sent. */
    async recipientsWithMessages(
      wabaIds: readonly string[],
      broadcastId: string,
    ): Promise<{ recipient: BroadcastRecipientDoc; message: MessageDoc | null }[]> {
      if (wabaIds.length === 0) return [];
      const rows = await recipients
        .find({ broadcast_id: broadcastId, waba_id: { $in: [...wabaIds] } })
        .sort({ _id: 1 })
        .toArray();
      const ids = rows.flatMap((r) => (r.wamid ? [messageIdOf(r.waba_id, r.wamid)] : []));
      const found = new Map<string, MessageDoc>();
      for (let i = 0; i < ids.length; i += CHUNK) {
        for (const m of await messages.find({ _id: { $in: ids.slice(i, i + CHUNK) } }).toArray()) found.set(m._id, m);
      }
      return rows.map((r) => ({ recipient: r, message: r.wamid ? (found.get(messageIdOf(r.waba_id, r.wamid)) ?? null) : null }));
    },
  };
}

export type BroadcastStore = ReturnType<typeof createBroadcastStore>;
