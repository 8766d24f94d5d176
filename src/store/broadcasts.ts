// Broadcasts (ec_broadcast) and their recipients (ec_broadcast_recipient). The sending side writes a broadcast once,
// its recipients once each (pending, or skipped with the reason), and moves each recipient through its send:
// pending -> sending (claimed, `attempt_at`) -> accepted (Meta's wamid) or failed (Meta refused), or back to pending
// (nothing reached Meta, or an in-doubt send whose message never produced a status). The actors skip pending
// recipients when the contact opts out, and copy each sent message's delivery state onto its recipient (the
// message's biz_opaque_callback_data names it). Counts are counted in the store; recipients are read a page at a time.
import { type Db, type Filter } from 'mongodb';
import { COLLECTIONS, isDuplicateKey } from './collections.ts';
import { messageIdOf } from './doc-ids.ts';
import { type BroadcastRecipientDoc, type MessageDoc } from './docs.ts';

const CHUNK = 500;

export type BroadcastDoc = {
  _id: string;
  account_id: string;
  waba_id: string;
  phone_number_id: string;
  idempotency_key: string;
  request_hash: string;
  template: { name: string; language: string; category: string | null; components: Record<string, unknown>[] | null };
  total: number;
  /** Set once when the broadcast stops early (its template paused or disabled, its number disconnected). */
  stopped: { reason: string; at: Date } | null;
  created_at: Date;
};

/** Recipient states the count reports, as the view names them (src/views/broadcast.ts). */
export type RecipientCounts = {
  total: number;
  pending: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  skipped: number;
};

const DONE = ['skipped', 'failed'];

export function createBroadcastStore(db: Db) {
  const broadcasts = db.collection<BroadcastDoc>(COLLECTIONS.broadcast);
  const recipients = db.collection<BroadcastRecipientDoc>(COLLECTIONS.broadcastRecipient);
  const messages = db.collection<MessageDoc>(COLLECTIONS.message);
  const ofBroadcast = (wabaIds: readonly string[], id: string): Filter<BroadcastRecipientDoc> => ({
    broadcast_id: id,
    waba_id: { $in: [...wabaIds] },
  });

  async function messagesOf(rows: readonly Pick<BroadcastRecipientDoc, 'waba_id' | 'wamid'>[]): Promise<Map<string, MessageDoc>> {
    const ids = rows.flatMap((r) => (r.wamid ? [messageIdOf(r.waba_id, r.wamid)] : []));
    const found = new Map<string, MessageDoc>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      for (const m of await messages.find({ _id: { $in: ids.slice(i, i + CHUNK) } }).toArray()) found.set(m._id, m);
    }
    return found;
  }
  const withMessages = async (rows: BroadcastRecipientDoc[]) => {
    const found = await messagesOf(rows);
    return rows.map((r) => ({ recipient: r, message: r.wamid ? (found.get(messageIdOf(r.waba_id, r.wamid)) ?? null) : null }));
  };

  return {
    /** Writes a broadcast unless its id exists; answers the stored one either way. */
    async createBroadcast(doc: BroadcastDoc): Promise<BroadcastDoc> {
      try {
        await broadcasts.insertOne(doc);
        return doc;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        return (await broadcasts.findOne({ _id: doc._id }))!;
      }
    },
    getBroadcast(accountId: string, id: string): Promise<BroadcastDoc | null> {
      return broadcasts.findOne({ _id: id, account_id: accountId });
    },
    broadcastById(id: string): Promise<BroadcastDoc | null> {
      return broadcasts.findOne({ _id: id });
    },
    /** Records a broadcast's recipients; one already recorded (a retried call) is left as it is. */
    async addRecipients(docs: readonly BroadcastRecipientDoc[]): Promise<void> {
      for (let i = 0; i < docs.length; i += CHUNK) {
        await recipients.bulkWrite(
          docs.slice(i, i + CHUNK).map((d) => ({ updateOne: { filter: { _id: d._id }, update: { $setOnInsert: d }, upsert: true } })),
          { ordered: false },
        );
      }
    },
    /** Tests and tools record recipients whole (replaced by _id). */
    async recordRecipients(docs: readonly BroadcastRecipientDoc[]): Promise<void> {
      if (docs.length === 0) return;
      await recipients.bulkWrite(
        docs.map((d) => ({ replaceOne: { filter: { _id: d._id }, replacement: d, upsert: true } })),
        { ordered: true },
      );
    },
    /** Ids of the broadcast's recipients still pending, by id, a chunk at a time. */
    async pendingIds(broadcastId: string, after: string | null, limit: number): Promise<string[]> {
      const rows = await recipients
        .find({ broadcast_id: broadcastId, status: 'pending', ...(after ? { _id: { $gt: after } } : {}) })
        .project<{ _id: string }>({ _id: 1 })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray();
      return rows.map((r) => r._id);
    },
    recipient(id: string): Promise<BroadcastRecipientDoc | null> {
      return recipients.findOne({ _id: id });
    },
    /** Claims a pending recipient for one send attempt; false when it is not pending (done, skipped, or claimed). */
    async claim(id: string, now: Date): Promise<boolean> {
      const r = await recipients.updateOne(
        { _id: id, status: 'pending', wamid: null },
        { $set: { status: 'sending', attempt_at: now, changed_at: now } },
      );
      return r.modifiedCount === 1;
    },
    /** Nothing reached Meta: the recipient is pending again. */
    async release(id: string, now: Date): Promise<void> {
      await recipients.updateOne({ _id: id, status: 'sending' }, { $set: { status: 'pending', attempt_at: null, changed_at: now } });
    },
    async accepted(id: string, wamid: string, now: Date): Promise<void> {
      await recipients.updateOne({ _id: id }, { $set: { status: 'accepted', wamid, changed_at: now } });
    },
    async failed(id: string, error: { code: number | string | null; message: string }, now: Date): Promise<void> {
      await recipients.updateOne({ _id: id, status: 'sending' }, { $set: { status: 'failed', send_error: error, changed_at: now } });
    },
    /** Skips a pending recipient (opted out, or the broadcast stopped) with the reason. */
    async skip(id: string, reason: string, now: Date): Promise<void> {
      await recipients.updateOne(
        { _id: id, status: 'pending' },
        { $set: { status: 'skipped', skip_reason: reason, skipped_at: now, changed_at: now } },
      );
    },
    /** Stops a broadcast once (the first reason stays). */
    async stop(id: string, reason: string, now: Date): Promise<void> {
      await broadcasts.updateOne({ _id: id, stopped: null }, { $set: { stopped: { reason, at: now } } });
    },
    /** Sends claimed before `before` whose message never named its recipient: in doubt (their sender died mid-call). */
    async inDoubt(before: Date, limit: number): Promise<BroadcastRecipientDoc[]> {
      return recipients
        .find({ status: 'sending', attempt_at: { $lt: before }, wamid: null })
        .sort({ attempt_at: 1, _id: 1 })
        .limit(limit)
        .toArray();
    },
    /** An in-doubt send is pending again, unless its status named it meanwhile or another sweep took it. */
    async resetInDoubt(r: BroadcastRecipientDoc, now: Date): Promise<boolean> {
      const res = await recipients.updateOne(
        { _id: r._id, status: 'sending', attempt_at: r.attempt_at ?? null, wamid: null },
        { $set: { status: 'pending', attempt_at: null, changed_at: now } },
      );
      return res.modifiedCount === 1;
    },
    /** Each recipient counted once, in its current state, without reading them all: counted in the store, except
     *  those with a wamid and no delivery state copied yet (sent but no status, or recorded before the copy existed),
     *  whose messages are read. */
    async counts(wabaIds: readonly string[], broadcastId: string): Promise<RecipientCounts> {
      const base = ofBroadcast(wabaIds, broadcastId);
      const live = { ...base, status: { $nin: DONE } };
      const count = (f: Filter<BroadcastRecipientDoc>) => recipients.countDocuments(f);
      const [total, skipped, refused, sent, delivered, read, deliveryFailed] = await Promise.all([
        count(base),
        count({ ...base, status: 'skipped' }),
        count({ ...base, status: 'failed' }),
        count({ ...live, delivery_status: 'sent' }),
        count({ ...live, delivery_status: 'delivered' }),
        count({ ...live, delivery_status: { $in: ['read', 'played'] } }),
        count({ ...live, delivery_status: 'failed' }),
      ]);
      const out: RecipientCounts = { total, pending: 0, sent, delivered, read, failed: refused + deliveryFailed, skipped };
      // Only what finds their messages is read, a chunk at a time (a broadcast mid-send has many of them).
      const unlinked = recipients
        .find({ ...live, delivery_status: null, wamid: { $ne: null } })
        .project<Pick<BroadcastRecipientDoc, 'waba_id' | 'wamid'>>({ _id: 0, waba_id: 1, wamid: 1 })
        .batchSize(CHUNK);
      let chunk: Pick<BroadcastRecipientDoc, 'waba_id' | 'wamid'>[] = [];
      const tally = async () => {
        for (const message of (await messagesOf(chunk)).values()) {
          const d = message.delivery_status === 'played' ? 'read' : message.delivery_status;
          if (d === 'sent' || d === 'delivered' || d === 'read' || d === 'failed') out[d] += 1;
        }
        chunk = [];
      };
      for await (const r of unlinked) {
        chunk.push(r);
        if (chunk.length === CHUNK) await tally();
      }
      await tally();
      out.pending = total - out.sent - out.delivered - out.read - out.failed - out.skipped;
      return out;
    },
    /** Whether any recipient is still to be sent (pending, or claimed by a sender): the broadcast is still sending. */
    async hasUnsent(broadcastId: string): Promise<boolean> {
      return (
        (await recipients.findOne({ broadcast_id: broadcastId, status: { $in: ['pending', 'sending'] } }, { projection: { _id: 1 } })) !==
        null
      );
    },
    /** A page of the broadcast's recipients by id, with the message each one was sent. */
    async page(wabaIds: readonly string[], broadcastId: string, after: string | null, limit: number) {
      const rows = await recipients
        .find({ ...ofBroadcast(wabaIds, broadcastId), ...(after ? { _id: { $gt: after } } : {}) })
        .sort({ _id: 1 })
        .limit(limit + 1)
        .toArray();
      return { items: await withMessages(rows.slice(0, limit)), more: rows.length > limit };
    },
  };
}

export type BroadcastStore = ReturnType<typeof createBroadcastStore>;
