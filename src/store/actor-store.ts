// The actors' store on MongoDB (and FerretDB): loads by id and alias, and fenced bulk writes per collection.
import { type Db, type Document } from 'mongodb';
import { systemClock, type Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { chunk, inLanes } from '../core/lanes.ts';
import { COLLECTIONS, isDuplicateKey } from './collections.ts';
import { aliasDocId } from './doc-ids.ts';
import { type ActorDocs, type BroadcastRecipientDoc, type ContactDoc, type MessageDoc, type RecipientDelivery } from './docs.ts';

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
  /** Pending broadcast recipients to skip after an opt-out; `marketingOnly`: only those of marketing broadcasts. */
  skipRecipients: { wabaId: string; aliases: string[]; reason: string; at: Date; marketingOnly: boolean }[];
  /** The delivery state of broadcast messages, for their recipients (src/store/docs.ts RecipientDelivery). */
  recipientDeliveries: RecipientDelivery[];
  versions: { [C in Name]: ReadonlyMap<string, number> };
};

/** Write order, chosen so that a crash between any two steps replays into the same documents:
 *  messages (and their moves) first; merged threads and contacts before the documents they replace are deleted;
 *  the alias index last. A crash after the deletes leaves alias entries naming deleted contacts: lookups then
 *  find the merged contact by scanning for the alias (that rare recovery path is the only scan). */
const ORDER: readonly Name[] = ['message', 'thread', 'contact', 'template', 'waba_state'];

/** Replaces go in bulks of this many statements, this many bulks in flight at once (FerretDB runs the statements
 *  of one bulk one after another; bulks side by side use several of its connections). */
const BULK_STATEMENTS = 64;
const BULKS_IN_FLIGHT = 4;

/** The filter that matches a document only while it has the version `v` (0: written before versions existed). */
const atVersion = (id: string, v: number): Document => (v === 0 ? { _id: id, _v: { $exists: false } } : { _id: id, _v: v });

/** The store answered without error but took fewer writes than it was sent (issue 16, defect 8: a store that drops
 *  writes must not leave a batch half applied and committed): the batch is retried. */
const shortWrite = (collection: string, acknowledged: number, sent: number, what: string) =>
  new AppError('EC_STORE_UNAVAILABLE', `${collection}: the store acknowledged ${acknowledged} of ${sent} ${what}; the batch is retried`);

const conflict = (collection: string, what: string) =>
  new AppError('EC_STORE_CONFLICT', `${collection}: ${what} (another member wrote it since this batch read it: the partition moved)`);

/** FerretDB v1 answers equality on _id from an index (deploy/local/ferretdb/id-index.sql) and scans the whole
 *  collection for anything else ($in on _id included), so every read of the actors is a lookup by _id: documents
 *  one by one, and contacts by alias through ec_contact_alias ({_id: "<waba>|<alias>", contact_id}).
 *  Every write of an actor document is fenced by its version (`_v`): the actor that owns a WABA's partition is its
 *  only writer, and a member that lost the partition mid-batch finds its writes refused (EC_STORE_CONFLICT). */
/** How pollers' watermarks are kept safe (issue 16, defect 1). `settleMs`: API_CHANGE_SETTLE_MS, how long after its
 *  changed_at a change may become visible (src/api/list.ts keeps the watermark that far behind its reads). */
export type ActorStoreOptions = { clock?: Clock; settleMs: number };

/** Re-stamp rounds for the documents of a slow bulk before giving up (each round is one update by _id per document). */
const RESTAMP_ROUNDS = 5;

type Written = { n: Name; id: string; v: number };

export function createActorStore(db: Db, opts: ActorStoreOptions) {
  const clock = opts.clock ?? systemClock;
  // changed_at is what REST pollers filter on (updated_since), and their watermark trails their reads by the settle
  // time, so a document must become visible within the settle time after its changed_at (issue 16, defect 1). Each
  // bulk of writes is stamped with the time it is sent, so a stamp is at most one bulk's duration older than the
  // moment the store takes the document (one stamp for a whole commit was seconds old by its last bulk under load).
  // The documents of a bulk that took longer than half the settle time are stamped again when it ends, again while
  // such a round is itself slow (half: room for clock skew between the API and the actors).
  const restampAfterMs = opts.settleMs / 2;
  const col = (n: Name) => db.collection<WithId>(NAMES[n]);

  /** One commit's stamps: each bulk its own, the newest of them, and the documents of the slow bulks. */
  function commitStamps() {
    let newest = new Date(0);
    const slow: Written[] = [];
    return {
      /** Runs one bulk stamped `at` (now); its documents are noted when it was slow. */
      async bulk(written: () => readonly Written[], write: (at: Date) => Promise<void>): Promise<void> {
        const at = clock.now();
        if (at > newest) newest = at;
        await write(at);
        if (clock.now().getTime() - at.getTime() >= restampAfterMs) slow.push(...written());
      },
      newest: () => newest,
      slow,
    };
  }

  /** Moves changed_at to now on the documents of slow bulks, each only at the version written (one another member
   *  wrote since keeps its own stamp; {_id, _v} like every fenced write: an index read on FerretDB). Returns the
   *  newest stamp the commit's documents hold. */
  async function restampSlow(slow: readonly Written[], newest: Date): Promise<Date> {
    let last = newest;
    for (let round = 0; round < RESTAMP_ROUNDS && slow.length > 0; round++) {
      const to = clock.now();
      for (const n of ORDER) {
        for (const bulk of chunk(
          slow.filter((d) => d.n === n),
          BULK_STATEMENTS,
        )) {
          await col(n).bulkWrite(
            bulk.map((d) => ({ updateOne: { filter: { _id: d.id, _v: d.v }, update: { $set: { changed_at: to } } } })),
            { ordered: true },
          );
        }
      }
      last = to;
      if (clock.now().getTime() - to.getTime() < restampAfterMs) break;
    }
    return last;
  }

  /** Unfenced upserts, for the alias index (derived from the contacts, repaired on read: contactsByAliases). */
  async function upsertAll(n: string, docs: readonly WithId[]): Promise<void> {
    if (docs.length === 0) return;
    // ordered: FerretDB v1 takes minutes over an unordered bulk of replaces that it does in milliseconds ordered.
    await db.collection<WithId>(n).bulkWrite(
      docs.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
      { ordered: true },
    );
  }

  /** New documents, version 1, in bulks each stamped when sent. One that exists already was written by another
   *  member (or by an earlier attempt of this batch, which a retry reads back first): a conflict. */
  async function insertAll(
    n: Name,
    docs: readonly WithId[],
    st: ReturnType<typeof commitStamps>,
    versions: Map<string, number>,
  ): Promise<void> {
    await inLanes(chunk(docs, BULK_STATEMENTS), BULKS_IN_FLIGHT, (bulk) =>
      st.bulk(
        () => bulk.map((d) => ({ n, id: d._id, v: 1 })),
        async (at) => {
          try {
            const result = await col(n).insertMany(
              bulk.map((d) => ({ ...d, changed_at: at, _v: 1 })),
              { ordered: false },
            );
            if (result.insertedCount !== bulk.length) throw shortWrite(NAMES[n], result.insertedCount, bulk.length, 'inserts');
          } catch (err) {
            if (err instanceof AppError) throw err;
            const writeErrors = (err as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
            const errors = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
            if (isDuplicateKey(err) || (errors.length > 0 && errors.every((e) => e.code === 11000)))
              throw conflict(NAMES[n], 'a document this batch created exists already');
            throw err;
          }
        },
      ),
    );
    for (const d of docs) versions.set(d._id, 1);
  }

  /** Known documents, each only while it still has the version this batch read; then one version higher. */
  async function replaceAll(
    n: Name,
    docs: readonly WithId[],
    st: ReturnType<typeof commitStamps>,
    read: ReadonlyMap<string, number>,
    versions: Map<string, number>,
  ): Promise<void> {
    await inLanes(chunk(docs, BULK_STATEMENTS), BULKS_IN_FLIGHT, (bulk) =>
      st.bulk(
        () => bulk.map((d) => ({ n, id: d._id, v: (read.get(d._id) ?? 0) + 1 })),
        async (at) => {
          const result = await col(n).bulkWrite(
            bulk.map((doc) => {
              const v = read.get(doc._id) ?? 0;
              return { replaceOne: { filter: atVersion(doc._id, v), replacement: { ...doc, changed_at: at, _v: v + 1 } } };
            }),
            { ordered: true },
          );
          if (result.matchedCount !== bulk.length)
            throw conflict(NAMES[n], `${bulk.length - result.matchedCount} of ${bulk.length} replaced documents changed`);
          // Matched but not modified: every replace carries a new _v, so the store did not take it.
          if (result.modifiedCount !== bulk.length) throw shortWrite(NAMES[n], result.modifiedCount, bulk.length, 'replaces');
        },
      ),
    );
    for (const d of docs) versions.set(d._id, (read.get(d._id) ?? 0) + 1);
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
      const links = await byIds<{ _id: string; contact_id: string }>(
        COLLECTIONS.contactAlias,
        wanted.map((a) => aliasDocId(wabaId, a)),
      );
      const found = await byIds<ContactDoc>(
        COLLECTIONS.contact,
        links.map((l) => l.contact_id),
      );
      const live = new Set(found.map((c) => c._id));
      const dangling = links.filter((l) => !live.has(l.contact_id)).map((l) => l._id.slice(wabaId.length + 1));
      if (dangling.length === 0) return found;
      const recovered = await db
        .collection<ContactDoc>(COLLECTIONS.contact)
        .find({ waba_id: wabaId, aliases: { $in: dangling } })
        .toArray();
      return [...new Map([...found, ...recovered].map((c) => [c._id, c])).values()];
    },
    async commit(w: ActorWriteSet): Promise<{ changedAt: Date; versions: { [C in Name]: Map<string, number> } }> {
      // changed_at: when the store took the change (the one field not derived from events), stamped per bulk just
      // before it is sent (see restampAfterMs). REST pollers filter on it (updated_since): docs/decisions/0007.
      const st = commitStamps();
      const versions = Object.fromEntries(ORDER.map((n) => [n, new Map<string, number>()])) as { [C in Name]: Map<string, number> };
      const write = async (n: Name) => {
        await insertAll(n, w.inserts[n] as readonly WithId[], st, versions[n]);
        await replaceAll(n, w.replaces[n] as readonly WithId[], st, w.versions[n], versions[n]);
      };
      // The alias links of new contacts go first: a crash between a contact's insert and its links would leave a
      // contact no alias finds, and every retry of the batch would create it again and conflict for good (found by
      // test/e2e/actors-crash.test.ts). A link written before its contact is a dangling link, which
      // contactsByAliases repairs on read; a conflicting insert leaves links to the same id (ids follow the aliases).
      const links = (docs: readonly ContactDoc[]) =>
        docs.flatMap((c) => c.aliases.map((a) => ({ _id: aliasDocId(c.waba_id, a), contact_id: c._id })));
      await upsertAll(COLLECTIONS.contactAlias, links(w.inserts.contact));
      await write('message');
      for (const r of w.repointMessages) {
        // Only when two contacts turn out to be one person: rare, so a scan is acceptable here. The moved messages
        // take a new version, so a stale copy of one elsewhere cannot be written back.
        // Stamped now: a poller of the thread they join reads them as changed.
        await st.bulk(
          () => [],
          (at) =>
            db
              .collection<MessageDoc>(COLLECTIONS.message)
              .updateMany({ thread_id: r.from }, { $set: { thread_id: r.to, changed_at: at }, $inc: { _v: 1 } })
              .then(() => {}),
        );
      }
      for (const n of ORDER.slice(1)) await write(n);
      for (const n of ORDER) {
        for (const id of w.deletes[n]) {
          const { deletedCount } = await col(n).deleteOne(atVersion(id, w.versions[n].get(id) ?? 0));
          if (deletedCount !== 1) throw conflict(NAMES[n], `a document this batch deleted changed`);
        }
      }
      // The alias index follows the contacts (a merged contact holds every alias of the ones it replaced).
      // Contacts are few next to messages, so these upserts stay cheap.
      await upsertAll(COLLECTIONS.contactAlias, links(w.replaces.contact));
      const recipients = db.collection<BroadcastRecipientDoc>(COLLECTIONS.broadcastRecipient);
      for (const s of w.skipRecipients) {
        const waIds = s.aliases.filter((a) => a.startsWith('wa:')).map((a) => a.slice(3));
        const userIds = s.aliases.filter((a) => a.startsWith('uid:')).map((a) => a.slice(4));
        await recipients.updateMany(
          {
            waba_id: s.wabaId,
            status: 'pending',
            $or: [{ wa_id: { $in: waIds } }, { user_id: { $in: userIds } }],
            // A marketing opt-out leaves utility and authentication broadcasts alone (no category: marketing).
            ...(s.marketingOnly ? { template_category: { $nin: NOT_MARKETING } } : {}),
          },
          { $set: { status: 'skipped', skip_reason: s.reason, skipped_at: s.at, changed_at: clock.now() } },
        );
      }
      // A broadcast recipient follows its message (the newest state of each wins: the list is in batch order).
      const deliveries = new Map(w.recipientDeliveries.map((d) => [d.recipientId, d]));
      if (deliveries.size > 0) {
        await recipients.bulkWrite(
          [...deliveries.values()].map((d) => ({
            updateOne: {
              filter: { _id: d.recipientId, waba_id: d.wabaId },
              update: { $set: { wamid: d.wamid, delivery_status: d.delivery_status, delivery_error: d.error, changed_at: clock.now() } },
            },
          })),
          { ordered: false },
        );
        // A claimed (or in-doubt, requeued) recipient whose message Meta reports was sent: accepted, never sent again.
        await recipients.updateMany(
          { _id: { $in: [...deliveries.keys()] }, status: { $in: ['sending', 'pending'] } },
          { $set: { status: 'accepted', changed_at: clock.now() } },
        );
      }
      // The documents of slow bulks are stamped again; the stamp returned is the newest any document holds.
      return { changedAt: await restampSlow(st.slow, st.newest().getTime() === 0 ? clock.now() : st.newest()), versions };
    },
  };
}

/** Template categories a marketing opt-out does not refuse. */
const NOT_MARKETING = ['UTILITY', 'AUTHENTICATION'];

export type ActorStoreImpl = ReturnType<typeof createActorStore>;
