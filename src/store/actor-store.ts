// The actors' store on MongoDB (and FerretDB): loads by id and alias, and one bulk write per collection.
import { type Db, type Document } from 'mongodb';
import { systemClock, type Clock } from '../core/clock.ts';
import { COLLECTIONS, isDuplicateKey } from './collections.ts';
import { aliasDocId } from './doc-ids.ts';
import { type ActorDocs, type BroadcastRecipientDoc, type ContactDoc, type MessageDoc } from './docs.ts';

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
  inserts: { [C in Name]: readonly ActorDocs[C][] };
  replaces: { [C in Name]: readonly ActorDocs[C][] };
  deletes: Record<Name, string[]>;
  repointMessages: { from: string; to: string }[];
  skipRecipients: { wabaId: string; aliases: string[]; reason: string; at: Date }[];
};

/** Write order, chosen so that a crash between any two steps replays into the same documents:
 *  messages (and their moves) first; merged threads and contacts before the documents they replace are deleted;
 *  the alias index last. A crash after the deletes leaves alias entries naming deleted contacts: lookups then
 *  find the merged contact by scanning for the alias (that rare recovery path is the only scan). */
const ORDER: readonly Name[] = ['message', 'thread', 'contact', 'template', 'waba_state'];

/** FerretDB v1 answers equality on _id from its primary key and scans the whole collection for anything else
 *  ($in on _id included: ~100 ms at 2,000 documents), so every read of the actors is a lookup by _id: documents
 *  one by one, and contacts by alias through ec_contact_alias ({_id: "<waba>|<alias>", contact_id}). */
export function createActorStore(db: Db, clock: Clock = systemClock) {
  const col = (n: Name) => db.collection<WithId>(NAMES[n]);

  // FerretDB v1 costs: insertMany is cheap; a replace of an existing document is cheap; an upsert that
  // inserts scans the collection first (O(n) each). So new documents are inserted and known ones replaced.
  async function replaceAll(n: string, docs: readonly WithId[]): Promise<void> {
    if (docs.length === 0) return;
    // ordered: FerretDB v1 takes minutes over an unordered bulk of replaces that it does in milliseconds ordered.
    await db.collection<WithId>(n).bulkWrite(
      docs.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
      { ordered: true },
    );
  }

  async function insertAll(n: string, docs: readonly WithId[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      await db.collection<WithId>(n).insertMany([...docs], { ordered: false });
    } catch (err) {
      // Already there: written by an earlier attempt at this batch that crashed before its commit, or by a
      // consumer that lost the partition and was still flushing. Those documents are replaced instead.
      const writeErrors = (err as { writeErrors?: { code?: number; index: number }[] | { code?: number; index: number } }).writeErrors;
      const errors = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
      if (errors.length > 0 && errors.every((e) => e.code === 11000)) await replaceAll(n, errors.map((e) => docs[e.index]!));
      else if (errors.length === 0 && isDuplicateKey(err)) await replaceAll(n, docs);
      else throw err;
    }
  }

  async function writeStamped(n: string, inserts: readonly unknown[], replaces: readonly unknown[], changedAt: Date): Promise<void> {
    const stamp = (docs: readonly unknown[]) => (docs as WithId[]).map((d) => ({ ...d, changed_at: changedAt }));
    await insertAll(n, stamp(inserts));
    await replaceAll(n, stamp(replaces));
  }

  async function byIds<T>(n: string, ids: readonly string[]): Promise<T[]> {
    const docs = await Promise.all([...new Set(ids)].map((id) => db.collection<WithId>(n).findOne({ _id: id })));
    return docs.filter((d): d is WithId => d !== null) as unknown as T[];
  }

  return {
    load<C extends Name>(n: C, ids: readonly string[]): Promise<ActorDocs[C][]> {
      return byIds<ActorDocs[C]>(NAMES[n], ids);
    },
    async contactsByAliases(wabaId: string, wanted: readonly string[]): Promise<ContactDoc[]> {
      const links = await byIds<{ _id: string; contact_id: string }>(COLLECTIONS.contactAlias, wanted.map((a) => aliasDocId(wabaId, a)));
      const found = await byIds<ContactDoc>(COLLECTIONS.contact, links.map((l) => l.contact_id));
      const live = new Set(found.map((c) => c._id));
      const dangling = links.filter((l) => !live.has(l.contact_id)).map((l) => l._id.slice(wabaId.length + 1));
      if (dangling.length === 0) return found;
      const recovered = await db.collection<ContactDoc>(COLLECTIONS.contact).find({ waba_id: wabaId, aliases: { $in: dangling } }).toArray();
      return [...new Map([...found, ...recovered].map((c) => [c._id, c])).values()];
    },
    async commit(w: ActorWriteSet): Promise<Date> {
      // changed_at: when the store took the change (the one field not derived from events). REST pollers filter
      // on it (updated_since); docs/decisions/0007-rest-api.md says why it is taken before the writes.
      const changedAt = clock.now();
      const write = (n: Name) => writeStamped(NAMES[n], w.inserts[n], w.replaces[n], changedAt);
      await write('message');
      for (const r of w.repointMessages) {
        // Only when two contacts turn out to be one person: rare, so a scan is acceptable here.
        await db.collection<MessageDoc>(COLLECTIONS.message).updateMany({ thread_id: r.from }, { $set: { thread_id: r.to } });
      }
      for (const n of ORDER.slice(1)) await write(n);
      for (const n of ORDER) {
        for (const id of w.deletes[n]) await col(n).deleteOne({ _id: id });
      }
      // The alias index follows the contacts (a merged contact holds every alias of the ones it replaced).
      // Contacts are few next to messages, so these upserts stay cheap.
      await replaceAll(
        COLLECTIONS.contactAlias,
        [...w.inserts.contact, ...w.replaces.contact].flatMap((c) => c.aliases.map((a) => ({ _id: aliasDocId(c.waba_id, a), contact_id: c._id }))),
      );
      const recipients = db.collection<BroadcastRecipientDoc>(COLLECTIONS.broadcastRecipient);
      for (const s of w.skipRecipients) {
        const waIds = s.aliases.filter((a) => a.startsWith('wa:')).map((a) => a.slice(3));
        const userIds = s.aliases.filter((a) => a.startsWith('uid:')).map((a) => a.slice(4));
        await recipients.updateMany(
          { waba_id: s.wabaId, status: 'pending', $or: [{ wa_id: { $in: waIds } }, { user_id: { $in: userIds } }] },
          { $set: { status: 'skipped', skip_reason: s.reason, skipped_at: s.at, changed_at: changedAt } },
        );
      }
      return changedAt;
    },
  };
}

export type ActorStoreImpl = ReturnType<typeof createActorStore>;
