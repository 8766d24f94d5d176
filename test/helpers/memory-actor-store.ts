// A small in-memory ActorStore for unit and property tests of the actors' logic (never for end-to-end tests).
// It follows src/store/actor-store.ts: whole-document replaces, repoints, deletes, recipient skips.
import { type ActorCollection, type ActorDocs, type ActorStore, type WriteSet } from '../../src/actors/ports.ts';
import { type BroadcastRecipientDoc, type ContactDoc } from '../../src/store/docs.ts';

export class MemoryActorStore implements ActorStore {
  readonly data: { [C in ActorCollection]: Map<string, ActorDocs[C]> } = {
    message: new Map(), contact: new Map(), thread: new Map(), template: new Map(), waba_state: new Map(),
  };
  readonly recipients = new Map<string, BroadcastRecipientDoc>();

  async load<C extends ActorCollection>(c: C, ids: readonly string[]): Promise<ActorDocs[C][]> {
    const m = this.data[c] as Map<string, ActorDocs[C]>;
    return ids.flatMap((id) => (m.has(id) ? [structuredClone(m.get(id)!)] : []));
  }
  async contactsByAliases(wabaId: string, aliases: readonly string[]): Promise<ContactDoc[]> {
    return [...this.data.contact.values()].filter((c) => c.waba_id === wabaId && c.aliases.some((a) => aliases.includes(a))).map((c) => structuredClone(c));
  }
  async commit(w: WriteSet): Promise<Date> {
    for (const m of [...w.inserts.message, ...w.replaces.message]) this.data.message.set(m._id, structuredClone(m));
    for (const r of w.repointMessages) for (const m of this.data.message.values()) if (m.thread_id === r.from) m.thread_id = r.to;
    for (const c of ['contact', 'thread', 'template', 'waba_state'] as const) {
      for (const d of [...w.inserts[c], ...w.replaces[c]]) (this.data[c] as Map<string, unknown>).set(d._id, structuredClone(d));
    }
    for (const c of Object.keys(w.deletes) as ActorCollection[]) for (const id of w.deletes[c]) this.data[c].delete(id);
    for (const s of w.skipRecipients) {
      for (const r of this.recipients.values()) {
        const match = (r.wa_id !== null && s.aliases.includes(`wa:${r.wa_id}`)) || (r.user_id !== null && s.aliases.includes(`uid:${r.user_id}`));
        if (r.waba_id === s.wabaId && r.status === 'pending' && match) Object.assign(r, { status: 'skipped', skip_reason: s.reason, skipped_at: s.at });
      }
    }
    return new Date(0);
  }
  /** Every document, sorted, for comparing two runs. */
  snapshot() {
    return Object.fromEntries(
      Object.entries(this.data).map(([c, m]) => [c, [...(m as Map<string, { _id: string }>).values()].sort((a, b) => (a._id < b._id ? -1 : 1))]),
    );
  }
}
