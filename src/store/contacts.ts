// Reads of ec_contact for the REST API: by EchoCue id, or by a wa_id or BSUID through the alias index; and the one
// thing the API records about a contact, a person clearing its review flag (ec_review_clear, keyed by the flagging
// event, so the actors keep sole ownership of the contact document).
import { type Db } from 'mongodb';
import { COLLECTIONS } from './collections.ts';
import { aliasDocId, userAlias, waAlias } from './doc-ids.ts';
import { type ContactDoc } from './docs.ts';
import { byIdOrFormerId, firstById } from './scope.ts';

export function createContactReads(db: Db) {
  const contacts = db.collection<ContactDoc>(COLLECTIONS.contact);
  const aliases = db.collection<{ _id: string; contact_id: string }>(COLLECTIONS.contactAlias);
  const cleared = db.collection<{ _id: string; waba_id: string; event_id: string; cleared_at: Date }>(COLLECTIONS.reviewClear);
  async function allByIdOrAlias(wabaIds: readonly string[], id: string): Promise<ContactDoc[]> {
    if (id.startsWith('con_')) {
      const c = await byIdOrFormerId(contacts, id, wabaIds);
      return c ? [c] : [];
    }
    const links = await Promise.all(
      wabaIds.flatMap((w) => [waAlias(id), userAlias(id)].map((a) => aliases.findOne({ _id: aliasDocId(w, a) }))),
    );
    const found = await Promise.all(
      [...new Set(links.flatMap((l) => (l ? [l.contact_id] : [])))].map((cid) => firstById(contacts, [cid], wabaIds)),
    );
    const live = found.filter((c): c is ContactDoc => c !== null);
    return live.sort((a, b) => (b.changed_at?.getTime() ?? 0) - (a.changed_at?.getTime() ?? 0));
  }
  const clearId = (c: ContactDoc) => (c.needs_review ? `${c.waba_id}|${c.needs_review.event_id}` : null);
  return {
    /** The opt-outs of many people at once, by wa_id, across the WABAs (a person is one contact per WABA): for each
     *  wa_id that any of them holds, the earliest stop of everything and of marketing (null: none). */
    async optOutsByWaId(
      wabaIds: readonly string[],
      waIds: readonly string[],
    ): Promise<Map<string, { all: { at: Date; wabaId: string } | null; marketing: { at: Date; wabaId: string } | null }>> {
      const out = new Map<string, { all: { at: Date; wabaId: string } | null; marketing: { at: Date; wabaId: string } | null }>();
      const wanted = new Set(waIds);
      for (let i = 0; i < waIds.length; i += 500) {
        const found = await contacts
          .find({
            waba_id: { $in: [...wabaIds] },
            aliases: { $in: waIds.slice(i, i + 500).map(waAlias) },
            $or: [{ opted_out_at: { $ne: null } }, { marketing_opted_out_at: { $ne: null } }],
          })
          .project<Pick<ContactDoc, 'waba_id' | 'aliases' | 'opted_out_at' | 'marketing_opted_out_at'>>({
            waba_id: 1,
            aliases: 1,
            opted_out_at: 1,
            marketing_opted_out_at: 1,
          })
          .toArray();
        for (const c of found) {
          for (const a of c.aliases) {
            const wa = a.startsWith('wa:') ? a.slice(3) : null;
            if (wa === null || !wanted.has(wa)) continue;
            const prev = out.get(wa) ?? { all: null, marketing: null };
            const earliest = (p: { at: Date; wabaId: string } | null, at: Date | null | undefined) =>
              at && (!p || at < p.at) ? { at, wabaId: c.waba_id } : p;
            out.set(wa, { all: earliest(prev.all, c.opted_out_at), marketing: earliest(prev.marketing, c.marketing_opted_out_at) });
          }
        }
      }
      return out;
    },
    /** Whether the contact's current review flag was cleared by a person (false when it has none). */
    async reviewCleared(c: ContactDoc): Promise<boolean> {
      const id = clearId(c);
      return id !== null && (await cleared.findOne({ _id: id })) !== null;
    },
    /** Clears the contact's current review flag; a newer flag (a later message) shows again. Idempotent. */
    async clearReview(c: ContactDoc, at: Date): Promise<void> {
      const id = clearId(c);
      if (id === null) return;
      await cleared.updateOne(
        { _id: id },
        { $setOnInsert: { waba_id: c.waba_id, event_id: c.needs_review!.event_id, cleared_at: at } },
        { upsert: true },
      );
    },
    /** Every contact `id` names within the WABAs (an EchoCue contact id, a wa_id or a business-scoped user id): with
     *  several WABAs the same person is one contact per WABA. Most recently changed first. */
    allByIdOrAlias,
    /** The most recently changed contact `id` names (see allByIdOrAlias). */
    async byIdOrAlias(wabaIds: readonly string[], id: string): Promise<ContactDoc | null> {
      return (await allByIdOrAlias(wabaIds, id))[0] ?? null;
    },
  };
}

export type ContactReads = ReturnType<typeof createContactReads>;
