// The actors' store on MongoDB (and FerretDB): loads by id and alias, and one bulk write per collection.
import { type AnyBulkWriteOperation, type Db, type Document } from 'mongodb';
import { COLLECTIONS, isDuplicateKey } from './collections.ts';
import { type ActorDocs, type BroadcastRecipientDoc, type ContactDoc, type MessageDoc, type ThreadDoc } from './docs.ts';

const NAMES = {
  message: COLLECTIONS.message,
  contact: COLLECTIONS.contact,
  thread: COLLECTIONS.thread,
  template: COLLECTIONS.template,
  waba_state: COLLECTIONS.wabaState,
} as const;

type Name = keyof typeof NAMES;
type WithId = Document & { _id: string };

export type ActorWriteSet = {
  upserts: { [C in Name]: readonly ActorDocs[C][] };
  deletes: Record<Name, string[]>;
  repointMessages: { from: string; to: string }[];
  skipRecipients: { wabaId: string; aliases: string[]; reason: string; at: Date }[];
};

/** Write order: messages before the threads that count them; deletes last, so a crash never loses a document. */
const ORDER: readonly Name[] = ['message', 'contact', 'thread', 'template', 'waba_state'];

export function createActorStore(db: Db) {
  const col = (n: Name) => db.collection<WithId>(NAMES[n]);

  async function replaceAll(n: Name, docs: readonly WithId[] | readonly ActorDocs[Name][]): Promise<void> {
    if (docs.length === 0) return;
    const ops: AnyBulkWriteOperation<WithId>[] = docs.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc as WithId, upsert: true } }));
    try {
      await col(n).bulkWrite(ops, { ordered: false });
    } catch (err) {
      // An upsert is "query, then insert" on FerretDB: if another writer inserted the same id in between (a
      // consumer that lost its partition still flushing), the retry finds the document and replaces it.
      if (!isDuplicateKey(err) && !(err as { writeErrors?: unknown }).writeErrors) throw err;
      await col(n).bulkWrite(ops, { ordered: true });
    }
  }

  return {
    async load<C extends Name>(n: C, ids: readonly string[]): Promise<ActorDocs[C][]> {
      if (ids.length === 0) return [];
      return (await col(n).find({ _id: { $in: [...ids] } }).toArray()) as unknown as ActorDocs[C][];
    },
    async contactsByAliases(wabaId: string, aliases: readonly string[]): Promise<ContactDoc[]> {
      if (aliases.length === 0) return [];
      return db.collection<ContactDoc>(COLLECTIONS.contact).find({ waba_id: wabaId, aliases: { $in: [...aliases] } }).toArray();
    },
    async threadsByContacts(contactIds: readonly string[]): Promise<ThreadDoc[]> {
      if (contactIds.length === 0) return [];
      return db.collection<ThreadDoc>(COLLECTIONS.thread).find({ contact_id: { $in: [...contactIds] } }).toArray();
    },
    async countUnread(threadIds: readonly string[]): Promise<Map<string, number>> {
      const out = new Map<string, number>();
      const messages = db.collection<MessageDoc>(COLLECTIONS.message);
      // One count per thread: $group with $sum is the only grouping FerretDB v1 pushes down reliably, and
      // a batch touches few threads.
      for (const id of threadIds) out.set(id, await messages.countDocuments({ thread_id: id, direction: 'inbound', read_at: null }));
      return out;
    },
    async commit(w: ActorWriteSet): Promise<void> {
      await replaceAll('message', w.upserts.message);
      for (const r of w.repointMessages) {
        await db.collection<MessageDoc>(COLLECTIONS.message).updateMany({ thread_id: r.from }, { $set: { thread_id: r.to } });
      }
      for (const n of ORDER.slice(1)) await replaceAll(n, w.upserts[n]);
      for (const n of ORDER) {
        if (w.deletes[n].length > 0) await col(n).deleteMany({ _id: { $in: w.deletes[n] } });
      }
      const recipients = db.collection<BroadcastRecipientDoc>(COLLECTIONS.broadcastRecipient);
      for (const s of w.skipRecipients) {
        const waIds = s.aliases.filter((a) => a.startsWith('wa:')).map((a) => a.slice(3));
        const userIds = s.aliases.filter((a) => a.startsWith('uid:')).map((a) => a.slice(4));
        await recipients.updateMany(
          { waba_id: s.wabaId, status: 'pending', $or: [{ wa_id: { $in: waIds } }, { user_id: { $in: userIds } }] },
          { $set: { status: 'skipped', skip_reason: s.reason, skipped_at: s.at } },
        );
      }
    },
  };
}

export type ActorStoreImpl = ReturnType<typeof createActorStore>;
