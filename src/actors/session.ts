// A unit of work for one batch: documents are loaded once, changed in memory by the pure reducers, and written
// together at the end (one bulk write per collection). Reads see the batch's own changes first.
import { ACTOR_COLLECTIONS, type ActorCollection, type ActorDocs, type ActorStore, type WriteSet } from './ports.ts';
import { type ContactDoc, type ThreadDoc } from '../store/docs.ts';
import { withContact } from './thread/reduce.ts';

type Cache = { [C in ActorCollection]: Map<string, ActorDocs[C] | null> };
type IdSets = { [C in ActorCollection]: Set<string> };

const idSets = (): IdSets => ({ message: new Set(), contact: new Set(), thread: new Set(), template: new Set(), waba_state: new Set() });

export class Session {
  private readonly cache: Cache = { message: new Map(), contact: new Map(), thread: new Map(), template: new Map(), waba_state: new Map() };
  private readonly dirty = idSets();
  private readonly deleted = idSets();
  /** Ids the store held when the batch read them: written back by replace; the others by insert. */
  private readonly stored = idSets();
  private readonly repoints: { from: string; to: string }[] = [];
  /** Aliases already looked up in the store: every contact holding one of them is in the cache since. */
  private readonly aliasesQueried = new Set<string>();
  private readonly skips: WriteSet['skipRecipients'] = [];

  private readonly store: ActorStore;

  constructor(store: ActorStore) {
    this.store = store;
  }

  /** Loads documents not cached yet in one query (used to prefetch a batch). */
  async preload<C extends ActorCollection>(c: C, ids: readonly string[]): Promise<void> {
    const cache = this.cache[c] as Map<string, ActorDocs[C] | null>;
    const missing = [...new Set(ids)].filter((id) => !cache.has(id));
    if (missing.length === 0) return;
    const found = new Map((await this.store.load(c, missing)).map((d) => [d._id, d]));
    for (const id of missing) {
      cache.set(id, found.get(id) ?? null);
      if (found.has(id)) this.stored[c].add(id);
    }
  }

  async get<C extends ActorCollection>(c: C, id: string): Promise<ActorDocs[C] | null> {
    await this.preload(c, [id]);
    return (this.cache[c] as Map<string, ActorDocs[C] | null>).get(id) ?? null;
  }

  put<C extends ActorCollection>(c: C, doc: ActorDocs[C]): void {
    (this.cache[c] as Map<string, ActorDocs[C] | null>).set(doc._id, doc);
    this.dirty[c].add(doc._id);
    this.deleted[c].delete(doc._id);
  }

  delete(c: ActorCollection, id: string): void {
    this.cache[c].set(id, null);
    this.dirty[c].delete(id);
    this.deleted[c].add(id);
  }

  private adopt<C extends ActorCollection>(c: C, docs: ActorDocs[C][]): ActorDocs[C][] {
    const cache = this.cache[c] as Map<string, ActorDocs[C] | null>;
    for (const d of docs) {
      if (cache.has(d._id)) continue;
      cache.set(d._id, d);
      this.stored[c].add(d._id);
    }
    return docs.map((d) => cache.get(d._id)).filter((d): d is ActorDocs[C] => d !== null && d !== undefined);
  }

  /** Contacts holding any of the aliases: the store's, as changed by this batch, plus the batch's new ones. */
  async contactsByAliases(wabaId: string, aliases: readonly string[]): Promise<ContactDoc[]> {
    const unqueried = aliases.filter((a) => !this.aliasesQueried.has(`${wabaId}|${a}`));
    for (const a of unqueried) this.aliasesQueried.add(`${wabaId}|${a}`);
    const fromStore = unqueried.length > 0 ? this.adopt('contact', await this.store.contactsByAliases(wabaId, unqueried)) : [];
    const want = new Set(aliases);
    const fromBatch = [...this.cache.contact.values()].filter(
      (d): d is ContactDoc => d !== null && d.waba_id === wabaId && d.aliases.some((a) => want.has(a)),
    );
    return [...new Map([...fromStore, ...fromBatch].filter((d) => d.aliases.some((a) => want.has(a))).map((d) => [d._id, d])).values()];
  }

  /** The threads of a contact, by the ids the contact keeps. */
  async threadsOf(contact: ContactDoc): Promise<ThreadDoc[]> {
    await this.preload('thread', contact.thread_ids);
    return contact.thread_ids.map((id) => this.cache.thread.get(id)).filter((t): t is ThreadDoc => !!t && t.contact_id === contact._id);
  }

  repointMessages(from: string, to: string): void {
    this.repoints.push({ from, to });
    for (const [id, m] of this.cache.message) if (m && m.thread_id === from) this.put('message', { ...m, thread_id: to, _id: id });
  }

  skipRecipients(s: WriteSet['skipRecipients'][number]): void {
    this.skips.push(s);
  }

  /** Writes everything; first every thread of a changed contact takes the contact as it is now. */
  async flush(): Promise<void> {
    const changed = [...this.dirty.contact].map((id) => this.cache.contact.get(id)).filter((c): c is ContactDoc => !!c);
    for (const c of changed) for (const t of await this.threadsOf(c)) this.put('thread', withContact(t, c));
    const changedAt = await this.store.commit(this.writeSet());
    // The batch's documents as stored, for what is read after the flush (notifications for outbound webhooks).
    for (const c of ACTOR_COLLECTIONS) {
      const cache = this.cache[c] as Map<string, ActorDocs[typeof c] | null>;
      for (const id of this.dirty[c]) {
        const doc = cache.get(id);
        if (doc) cache.set(id, { ...doc, changed_at: changedAt });
      }
    }
  }

  private writeSet(): WriteSet {
    const ws = emptyWriteSet();
    for (const c of ACTOR_COLLECTIONS) {
      const docs = [...this.dirty[c]].map((id) => this.cache[c].get(id)).filter(Boolean) as ActorDocs[typeof c][];
      (ws.inserts[c] as ActorDocs[typeof c][]) = docs.filter((d) => !this.stored[c].has(d._id));
      (ws.replaces[c] as ActorDocs[typeof c][]) = docs.filter((d) => this.stored[c].has(d._id));
      ws.deletes[c] = [...this.deleted[c]].filter((id) => this.stored[c].has(id));
    }
    ws.repointMessages = this.repoints;
    ws.skipRecipients = this.skips;
    return ws;
  }
}

export function emptyWriteSet(): WriteSet {
  return {
    inserts: { message: [], contact: [], thread: [], template: [], waba_state: [] },
    replaces: { message: [], contact: [], thread: [], template: [], waba_state: [] },
    deletes: { message: [], contact: [], thread: [], template: [], waba_state: [] },
    repointMessages: [],
    skipRecipients: [],
  };
}
