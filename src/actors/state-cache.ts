// The documents of the WABAs whose partitions this member owns, as last stored, kept between batches: the actor
// is the only writer of those documents, so what it wrote last is what the store holds, and a batch reads the
// store only on a miss. Bounded (least recently used goes first). Dropped whole whenever ownership may have moved
// (a rebalance, a failed batch): a stale entry can then only cost a conflict on write (each write names the version
// it read, src/store/actor-store.ts), never a wrong document.
import { LRUCache } from 'lru-cache';
import { type ActorCollection, type ActorDocs } from './ports.ts';

/** A cached entry: the document as stored (null: known not to exist). */
type Entry = { doc: ActorDocs[ActorCollection] | null };

export class StateCache {
  private readonly docs: LRUCache<string, Entry> | null;
  /** "<waba>|<alias>" -> the contact holding it (null: no contact holds it). */
  private readonly aliases: LRUCache<string, { contactId: string | null }> | null;

  constructor(maxDocs: number) {
    this.docs = maxDocs > 0 ? new LRUCache({ max: maxDocs }) : null;
    this.aliases = maxDocs > 0 ? new LRUCache({ max: maxDocs }) : null;
  }

  /** The stored document, null when known absent, undefined when not cached. */
  get<C extends ActorCollection>(c: C, id: string): ActorDocs[C] | null | undefined {
    const e = this.docs?.get(`${c}|${id}`);
    return e === undefined ? undefined : (e.doc as ActorDocs[C] | null);
  }

  set<C extends ActorCollection>(c: C, id: string, doc: ActorDocs[C] | null): void {
    this.docs?.set(`${c}|${id}`, { doc });
  }

  /** The contact id holding an alias, null when known unheld, undefined when not cached. */
  aliasOwner(wabaId: string, alias: string): string | null | undefined {
    return this.aliases?.get(`${wabaId}|${alias}`)?.contactId;
  }

  setAliasOwner(wabaId: string, alias: string, contactId: string | null): void {
    this.aliases?.set(`${wabaId}|${alias}`, { contactId });
  }

  /** Forgets the cached documents of a collection that match (a write elsewhere changed them). */
  forgetWhere<C extends ActorCollection>(c: C, match: (doc: ActorDocs[C]) => boolean): void {
    if (!this.docs) return;
    const prefix = `${c}|`;
    for (const [key, e] of this.docs.entries()) if (key.startsWith(prefix) && e.doc && match(e.doc as ActorDocs[C])) this.docs.delete(key);
  }

  clear(): void {
    this.docs?.clear();
    this.aliases?.clear();
  }

  get size(): number {
    return this.docs?.size ?? 0;
  }
}
