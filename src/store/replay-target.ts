// The store side of `echocue replay` (issue 17, docs/decisions/0018-replay.md): the target database must be fresh,
// it gets the live tenancy (accounts, WABA links, API keys) so the API can serve it, and its actor collections are
// compared with the live ones by walking both in _id order (two cursors, a merge join: bounded memory).
import { isDeepStrictEqual } from 'node:util';
import { type Db, type Document } from 'mongodb';
import { COLLECTIONS } from './collections.ts';

/** The collections the actors write, as `echocue replay` compares them (ec_contact_alias is an index derived from
 *  the contacts and repaired on read, so a live copy may hold dangling links: not compared). */
export const REPLAYED_COLLECTIONS = [
  COLLECTIONS.message,
  COLLECTIONS.thread,
  COLLECTIONS.contact,
  COLLECTIONS.template,
  COLLECTIONS.wabaState,
] as const;

/** What the store stamps on a write, not derived from any event: when it took the change and the fencing version. */
export const STORE_STAMPS = ['changed_at', '_v'] as const;

/** The tenancy a replayed database needs to be served (the API scopes every read by the key's account's WABAs). */
const TENANCY = [COLLECTIONS.account, COLLECTIONS.waba, COLLECTIONS.apiKey] as const;

type WithId = Document & { _id: string };

/** The collections of `db` that hold at least one document (a fresh target has none). */
export async function nonEmptyCollections(db: Db): Promise<string[]> {
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => !n.startsWith('system.'));
  const held: string[] = [];
  for (const n of names.sort()) if ((await db.collection(n).findOne({}, { projection: { _id: 1 } })) !== null) held.push(n);
  return held;
}

/** Copies the live tenancy into the target, `batch` documents at a time; returns how many of each were copied. */
export async function copyTenancy(live: Db, target: Db, batch = 500): Promise<Record<string, number>> {
  const copied: Record<string, number> = {};
  for (const name of TENANCY) {
    copied[name] = 0;
    let page: WithId[] = [];
    const flush = async () => {
      if (page.length > 0) await target.collection<WithId>(name).insertMany(page, { ordered: true });
      copied[name]! += page.length;
      page = [];
    };
    for await (const doc of live.collection<WithId>(name).find({}, { batchSize: batch })) {
      page.push(doc);
      if (page.length >= batch) await flush();
    }
    await flush();
  }
  return copied;
}

export type DocumentDifference = { id: string; fields: string[] };

export type CollectionDifference = {
  collection: string;
  /** Documents in both with the same content (the stamps aside). */
  same: number;
  onlyLive: number;
  onlyReplay: number;
  different: number;
  /** Live documents not compared because the replay did not start at the beginning (`--from`). */
  notReplayed: number;
  /** The first few differing documents (by _id) and the top-level fields that differ. */
  examples: { onlyLive: string[]; onlyReplay: string[]; different: DocumentDifference[] };
};

export type CompareOptions = {
  /** Only documents the replay holds are compared (a replay from a time: what came before is not in it). */
  replayedOnly: boolean;
  /** Examples kept per kind of difference (default 5). */
  examples?: number;
  /** Documents fetched per round trip of each cursor (default 500). */
  batchSize?: number;
  /** Called with the documents just compared (for progress: 2 for a pair, 1 for a document on one side). */
  onDocument?: (n: number) => void;
};

/** The top-level fields in which two documents differ, the store's stamps left out. */
export function differingFields(a: Document, b: Document): string[] {
  const ignored = new Set<string>(STORE_STAMPS);
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => !ignored.has(k)));
  return [...keys].filter((k) => !isDeepStrictEqual(a[k], b[k])).sort();
}

/** Compares one collection of the two databases, walking both in _id order. */
export async function compareCollection(live: Db, replay: Db, name: string, opts: CompareOptions): Promise<CollectionDifference> {
  const max = opts.examples ?? 5;
  const batchSize = opts.batchSize ?? 500;
  const out: CollectionDifference = {
    collection: name,
    same: 0,
    onlyLive: 0,
    onlyReplay: 0,
    different: 0,
    notReplayed: 0,
    examples: { onlyLive: [], onlyReplay: [], different: [] },
  };
  const cursor = (db: Db) => {
    const found = db.collection<WithId>(name).find({}, { batchSize }).sort({ _id: 1 });
    return found[Symbol.asyncIterator]();
  };
  const l = cursor(live);
  const r = cursor(replay);
  let a = await l.next();
  let b = await r.next();
  const onlyLive = (id: string) => {
    if (opts.replayedOnly) out.notReplayed++;
    else if (out.onlyLive++ < max) out.examples.onlyLive.push(id);
  };
  while (!a.done || !b.done) {
    // Both cursors come from the same server's _id order; ids are ASCII (prefix + hash, WABA ids), so code-unit
    // order here is the store's order.
    if (b.done || (!a.done && a.value._id < b.value._id)) {
      onlyLive(a.value!._id);
      a = await l.next();
      opts.onDocument?.(1);
    } else if (a.done || b.value._id < a.value._id) {
      if (out.onlyReplay++ < max) out.examples.onlyReplay.push(b.value._id);
      b = await r.next();
      opts.onDocument?.(1);
    } else {
      const fields = differingFields(a.value, b.value);
      if (fields.length === 0) out.same++;
      else if (out.different++ < max) out.examples.different.push({ id: a.value._id, fields });
      a = await l.next();
      b = await r.next();
      opts.onDocument?.(2);
    }
  }
  return out;
}

/** Documents in each compared collection of `db` (the size of the comparison, for progress). */
export async function replayedCounts(db: Db): Promise<number> {
  let n = 0;
  for (const name of REPLAYED_COLLECTIONS) n += await db.collection(name).countDocuments({});
  return n;
}
