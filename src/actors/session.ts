// A unit of work for one batch: documents are read once (from the member's state cache, else the store), changed
// in memory by the pure reducers, and written together at the end, each changed document once, naming the version
// it read. Reads see the batch's own changes first. A put that changes nothing but the bookkeeping stamps
// (updated_at, changed_at, _v) is no change at all: a redelivered event leaves its documents exactly as they were
// (issue 14: nothing is written, updated_at and changed_at stay, no updated_since poller reads the row again).
// Its notification is still written, with the id it had the first time (a batch replayed after a crash must not lose
// it), and the planner finds that notification's deliveries already there: nothing goes out again.
import { isDeepStrictEqual } from 'node:util';
import { ACTOR_COLLECTIONS, perCollection, type ActorCollection, type ActorDocs, type ActorStore, type WriteSet } from './ports.ts';
import { type ContactDoc, type ThreadDoc } from '../store/docs.ts';
import { StateCache } from './state-cache.ts';
import { withContact } from './thread/reduce.ts';

type Docs = { [C in ActorCollection]: Map<string, ActorDocs[C] | null> };

export class Session {
  private readonly docs: Docs = perCollection(() => new Map()) as Docs;
  private readonly dirty = perCollection(() => new Set<string>());
  private readonly deleted = perCollection(() => new Set<string>());
  /** The stored version of every document the batch read that exists in the store: written back by replace
   *  (guarded by that version); documents not in here are inserted. */
  private readonly versions = perCollection(() => new Map<string, number>());
  private readonly repoints: { from: string; to: string }[] = [];
  /** Aliases already resolved: every contact holding one of them is in `docs` since. */
  private readonly aliasesQueried = new Set<string>();
  /** Aliases the store (or cache) said no contact holds: "<waba>|<alias>" -> [waba, alias]. */
  private readonly aliasesUnheld = new Map<string, [string, string]>();
  private readonly skips: WriteSet['skipRecipients'] = [];
  private readonly deliveries: WriteSet['recipientDeliveries'] = [];

  private readonly store: ActorStore;
  private readonly cache: StateCache;

  /** `cache`: the member's documents kept between batches (none by default: every read goes to the store). */
  constructor(store: ActorStore, cache: StateCache = new StateCache(0)) {
    this.store = store;
    this.cache = cache;
  }

  private take<C extends ActorCollection>(c: C, id: string, doc: ActorDocs[C] | null): void {
    (this.docs[c] as Map<string, ActorDocs[C] | null>).set(id, doc);
    if (doc) this.versions[c].set(id, doc._v ?? 0);
  }

  /** Loads the documents not read yet: cached ones from the cache, the rest in one store query. */
  async preload<C extends ActorCollection>(c: C, ids: readonly string[]): Promise<void> {
    const docs = this.docs[c] as Map<string, ActorDocs[C] | null>;
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      if (docs.has(id)) continue;
      const cached = this.cache.get(c, id);
      if (cached === undefined) missing.push(id);
      else this.take(c, id, cached);
    }
    if (missing.length === 0) return;
    const found = new Map((await this.store.load(c, missing)).map((d) => [d._id, d]));
    for (const id of missing) if (!docs.has(id)) this.take(c, id, found.get(id) ?? null);
  }

  async get<C extends ActorCollection>(c: C, id: string): Promise<ActorDocs[C] | null> {
    await this.preload(c, [id]);
    return (this.docs[c] as Map<string, ActorDocs[C] | null>).get(id) ?? null;
  }

  put<C extends ActorCollection>(c: C, doc: ActorDocs[C]): void {
    const current = (this.docs[c] as Map<string, ActorDocs[C] | null>).get(doc._id);
    if (current && sameContent(current, doc)) return;
    (this.docs[c] as Map<string, ActorDocs[C] | null>).set(doc._id, doc);
    this.dirty[c].add(doc._id);
    this.deleted[c].delete(doc._id);
  }

  delete(c: ActorCollection, id: string): void {
    this.docs[c].set(id, null);
    this.dirty[c].delete(id);
    this.deleted[c].add(id);
  }

  /** Contacts holding any of the aliases: the store's (or cache's), as changed by this batch, plus the batch's new ones. */
  async contactsByAliases(wabaId: string, aliases: readonly string[]): Promise<ContactDoc[]> {
    const unqueried = aliases.filter((a) => !this.aliasesQueried.has(`${wabaId}|${a}`));
    for (const a of unqueried) this.aliasesQueried.add(`${wabaId}|${a}`);
    // The cache knows who holds an alias when it has seen it; the contact itself is then one lookup by id.
    const owners = new Map(unqueried.map((a) => [a, this.cache.aliasOwner(wabaId, a)]));
    await this.preload(
      'contact',
      [...owners.values()].filter((id): id is string => typeof id === 'string'),
    );
    const toStore = unqueried.filter((a) => {
      const owner = owners.get(a);
      if (owner === null) {
        this.aliasesUnheld.set(`${wabaId}|${a}`, [wabaId, a]);
        return false;
      }
      // Not cached, or cached as held by a contact that no longer holds it: ask the store.
      return owner === undefined || !this.docs.contact.get(owner)?.aliases.includes(a);
    });
    if (toStore.length > 0) {
      const found = await this.store.contactsByAliases(wabaId, toStore);
      for (const d of found) if (!this.docs.contact.has(d._id)) this.take('contact', d._id, d);
      for (const a of toStore) if (!found.some((d) => d.aliases.includes(a))) this.aliasesUnheld.set(`${wabaId}|${a}`, [wabaId, a]);
    }
    const want = new Set(aliases);
    return [...this.docs.contact.values()].filter(
      (d): d is ContactDoc => d !== null && d.waba_id === wabaId && d.aliases.some((a) => want.has(a)),
    );
  }

  /** The threads of a contact, by the ids the contact keeps. */
  async threadsOf(contact: ContactDoc): Promise<ThreadDoc[]> {
    await this.preload('thread', contact.thread_ids);
    return contact.thread_ids.map((id) => this.docs.thread.get(id)).filter((t): t is ThreadDoc => !!t && t.contact_id === contact._id);
  }

  repointMessages(from: string, to: string): void {
    this.repoints.push({ from, to });
    for (const [id, m] of this.docs.message) if (m && m.thread_id === from) this.put('message', { ...m, thread_id: to, _id: id });
  }

  skipRecipients(s: WriteSet['skipRecipients'][number]): void {
    this.skips.push(s);
  }

  /** A broadcast recipient's delivery state follows its message (the last one noted for a recipient wins). */
  recipientDelivery(d: WriteSet['recipientDeliveries'][number]): void {
    this.deliveries.push(d);
  }

  /** Writes everything; first every thread of a changed contact takes the contact as it is now. Then the cache
   *  holds what the store holds. A failed write leaves the cache to the caller, which drops it. */
  async flush(): Promise<void> {
    const changed = [...this.dirty.contact].map((id) => this.docs.contact.get(id)).filter((c): c is ContactDoc => !!c);
    for (const c of changed) for (const t of await this.threadsOf(c)) this.put('thread', withContact(t, c));
    const { changedAt, versions } = await this.store.commit(this.writeSet());
    for (const c of ACTOR_COLLECTIONS) {
      const docs = this.docs[c] as Map<string, ActorDocs[typeof c] | null>;
      for (const id of this.dirty[c]) {
        const doc = docs.get(id);
        // The batch's documents as stored, for what is read after the flush (notifications for outbound webhooks).
        if (doc) docs.set(id, { ...doc, changed_at: changedAt, _v: versions[c].get(id) ?? doc._v });
      }
    }
    this.remember();
  }

  /** Puts what the store now holds into the member's cache. A repoint moved (and re-versioned) messages this
   *  batch may never have read: cached copies of those are forgotten (contacts merging: rare). */
  private remember(): void {
    const moved = new Set(this.repoints.map((r) => r.from));
    if (moved.size > 0) this.cache.forgetWhere('message', (m) => m.thread_id !== null && moved.has(m.thread_id));
    for (const c of ACTOR_COLLECTIONS) {
      for (const [id, doc] of this.docs[c]) {
        // A message this batch holds with a moved thread id was moved by the store too: re-read next time.
        const threadId = c === 'message' ? (doc as { thread_id: string | null } | null)?.thread_id : null;
        if (threadId && moved.has(threadId)) continue;
        this.cache.set(c, id, doc);
      }
    }
    for (const [wabaId, alias] of this.aliasesUnheld.values()) this.cache.setAliasOwner(wabaId, alias, null);
    // After the unheld ones: a contact of this batch may hold one now. A deleted contact's aliases belong to the
    // contact it merged into.
    for (const d of this.docs.contact.values()) if (d) for (const a of d.aliases) this.cache.setAliasOwner(d.waba_id, a, d._id);
  }

  private writeSet(): WriteSet {
    const ws = emptyWriteSet();
    for (const c of ACTOR_COLLECTIONS) {
      const docs = [...this.dirty[c]].map((id) => this.docs[c].get(id)).filter(Boolean) as ActorDocs[typeof c][];
      (ws.inserts[c] as ActorDocs[typeof c][]) = docs.filter((d) => !this.versions[c].has(d._id));
      (ws.replaces[c] as ActorDocs[typeof c][]) = docs.filter((d) => this.versions[c].has(d._id));
      ws.deletes[c] = [...this.deleted[c]].filter((id) => this.versions[c].has(id));
      for (const id of [...this.dirty[c], ...this.deleted[c]]) {
        const v = this.versions[c].get(id);
        if (v !== undefined) ws.versions[c].set(id, v);
      }
    }
    ws.repointMessages = this.repoints;
    ws.skipRecipients = this.skips;
    ws.recipientDeliveries = this.deliveries;
    return ws;
  }
}

/** Stamps the actors and the store keep about a document, not its content. */
const STAMPS = ['updated_at', 'changed_at', '_v'] as const;

/** Whether two versions of a document differ in nothing but their stamps. */
function sameContent(a: object, b: object): boolean {
  const strip = (d: object) => {
    const copy: Record<string, unknown> = { ...d };
    for (const k of STAMPS) delete copy[k];
    return copy;
  };
  return isDeepStrictEqual(strip(a), strip(b));
}

export function emptyWriteSet(): WriteSet {
  return {
    inserts: perCollection(() => []) as WriteSet['inserts'],
    replaces: perCollection(() => []) as WriteSet['replaces'],
    deletes: perCollection(() => []),
    repointMessages: [],
    skipRecipients: [],
    recipientDeliveries: [],
    versions: perCollection(() => new Map()),
  };
}
