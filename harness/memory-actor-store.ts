// A small in-memory ActorStore for unit and property tests of the actors' logic (never for end-to-end tests).
// It follows src/store/actor-store.ts: whole-document writes fenced by version, repoints, deletes, recipient skips.
import { AppError } from '../src/core/errors.ts';
import {
  ACTOR_COLLECTIONS,
  perCollection,
  type ActorCollection,
  type ActorDocs,
  type ActorStore,
  type Committed,
  type WriteSet,
} from '../src/actors/ports.ts';
import { withCanonicalIds } from './canonical-ids.ts';
import { type BroadcastRecipientDoc, type ContactDoc, type ThreadDoc } from '../src/store/docs.ts';

export class MemoryActorStore implements ActorStore {
  readonly data: { [C in ActorCollection]: Map<string, ActorDocs[C]> } = {
    message: new Map(),
    contact: new Map(),
    thread: new Map(),
    template: new Map(),
    waba_state: new Map(),
  };
  readonly recipients = new Map<string, BroadcastRecipientDoc>();
  /** Every contact and thread ever written, as written: the ids a client may have read and still hold. */
  readonly written = { contact: new Map<string, ContactDoc>(), thread: new Map<string, ThreadDoc>() };

  async load<C extends ActorCollection>(c: C, ids: readonly string[]): Promise<ActorDocs[C][]> {
    const m = this.data[c] as Map<string, ActorDocs[C]>;
    return ids.flatMap((id) => (m.has(id) ? [structuredClone(m.get(id)!)] : []));
  }
  async contactsByAliases(wabaId: string, aliases: readonly string[]): Promise<ContactDoc[]> {
    return [...this.data.contact.values()]
      .filter((c) => c.waba_id === wabaId && c.aliases.some((a) => aliases.includes(a)))
      .map((c) => structuredClone(c));
  }
  async commit(w: WriteSet): Promise<Committed> {
    const changedAt = new Date(0);
    const versions: Committed['versions'] = perCollection(() => new Map());
    const conflict = (c: string) => new AppError('EC_STORE_CONFLICT', `${c}: version changed`);
    // Checked first, then written: the memory store never half-applies (the real one may; its retry reads back).
    for (const c of ACTOR_COLLECTIONS) {
      const m = this.data[c] as Map<string, { _v?: number }>;
      for (const d of w.inserts[c]) if (m.has(d._id)) throw conflict(c);
      for (const d of w.replaces[c])
        if ((m.get(d._id)?._v ?? (m.has(d._id) ? 0 : -1)) !== (w.versions[c].get(d._id) ?? 0)) throw conflict(c);
      for (const id of w.deletes[c]) if ((m.get(id)?._v ?? (m.has(id) ? 0 : -1)) !== (w.versions[c].get(id) ?? 0)) throw conflict(c);
    }
    const write = (c: ActorCollection) => {
      for (const d of w.inserts[c]) versions[c].set(d._id, 1);
      for (const d of w.replaces[c]) versions[c].set(d._id, (w.versions[c].get(d._id) ?? 0) + 1);
      for (const d of [...w.inserts[c], ...w.replaces[c]]) {
        (this.data[c] as Map<string, unknown>).set(d._id, { ...structuredClone(d), changed_at: changedAt, _v: versions[c].get(d._id) });
        if (c === 'contact' || c === 'thread') (this.written[c] as Map<string, unknown>).set(d._id, structuredClone(d));
      }
    };
    write('message');
    for (const r of w.repointMessages)
      for (const m of this.data.message.values()) if (m.thread_id === r.from) Object.assign(m, { thread_id: r.to, _v: (m._v ?? 0) + 1 });
    for (const c of ['contact', 'thread', 'template', 'waba_state'] as const) write(c);
    for (const c of ACTOR_COLLECTIONS) for (const id of w.deletes[c]) this.data[c].delete(id);
    for (const s of w.skipRecipients) {
      for (const r of this.recipients.values()) {
        const match =
          (r.wa_id !== null && s.aliases.includes(`wa:${r.wa_id}`)) || (r.user_id !== null && s.aliases.includes(`uid:${r.user_id}`));
        if (r.waba_id === s.wabaId && r.status === 'pending' && match)
          Object.assign(r, { status: 'skipped', skip_reason: s.reason, skipped_at: s.at });
      }
    }
    for (const d of w.recipientDeliveries) {
      const r = this.recipients.get(d.recipientId);
      if (r && r.waba_id === d.wabaId) {
        Object.assign(r, { wamid: d.wamid, delivery_status: d.delivery_status, delivery_error: d.error });
        if (r.status === 'sending' || r.status === 'pending') r.status = 'accepted';
      }
    }
    return { changedAt, versions };
  }
  /** Every document, sorted, for comparing two runs (versions and store stamps left out: they count writes, not content). */
  /** The documents by collection, sorted by id, without the store's stamps (_v, changed_at); `content`: without
   *  updated_at too (when the content last changed as received: for two events saying the same thing it depends on
   *  which arrived first). */
  snapshot(opts: { content?: boolean } = {}) {
    return Object.fromEntries(
      Object.entries(this.data).map(([c, m]) => [
        c,
        [...(m as Map<string, { _id: string; _v?: number; changed_at?: Date; updated_at?: Date }>).values()]
          .map(({ _v, changed_at, ...d }) => {
            if (opts.content) delete d.updated_at;
            return d;
          })
          .sort((a, b) => (a._id < b._id ? -1 : 1)),
      ]),
    );
  }

  /** The snapshot with contacts and threads named by what they are, not by the ids they were given
   *  (test/helpers/canonical-ids.ts); what former ids resolve to is checked by `unresolvable`. */
  canonicalSnapshot(opts: { content?: boolean } = {}) {
    return withCanonicalIds(this.snapshot(opts) as Record<string, unknown[]>);
  }

  /** Contact and thread ids ever written that no longer resolve to the same person (and number): an id that is
   *  neither a live document's id nor exactly one live document's former id, or resolves to a document without
   *  every alias (or another number) it had. Empty when every id a client ever read still works. */
  unresolvable(): string[] {
    const out: string[] = [];
    const resolve = <T extends { _id: string; former_ids?: string[] }>(live: Map<string, T>, id: string): T | null => {
      if (live.has(id)) return live.get(id)!;
      const holders = [...live.values()].filter((d) => d.former_ids?.includes(id));
      return holders.length === 1 ? holders[0]! : null;
    };
    for (const [id, was] of this.written.contact) {
      const now = resolve(this.data.contact, id);
      if (!now || !was.aliases.every((a) => now.aliases.includes(a))) out.push(id);
    }
    for (const [id, was] of this.written.thread) {
      const now = resolve(this.data.thread, id);
      if (!now || now.phone_number_id !== was.phone_number_id || resolve(this.data.contact, was.contact_id)?._id !== now.contact_id)
        out.push(id);
    }
    return out;
  }

  /** Every document as stored, stamps included. */
  raw() {
    return Object.fromEntries(Object.entries(this.data).map(([c, m]) => [c, structuredClone([...(m as Map<string, unknown>).entries()])]));
  }
}
