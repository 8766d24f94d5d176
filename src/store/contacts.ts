// Reads of ec_contact for the REST API: by EchoCue id, or by a wa_id or BSUID through the alias index.
import { type Db } from 'mongodb';
import { COLLECTIONS } from './collections.ts';
import { aliasDocId, userAlias, waAlias } from './doc-ids.ts';
import { type ContactDoc } from './docs.ts';
import { firstById } from './scope.ts';

export function createContactReads(db: Db) {
  const contacts = db.collection<ContactDoc>(COLLECTIONS.contact);
  const aliases = db.collection<{ _id: string; contact_id: string }>(COLLECTIONS.contactAlias);
  return {
    /** `id` is an EchoCue contact id (con_...), a wa_id or a business-scoped user id. With several WABAs the
     *  same person is one contact per WABA: the most recently changed one is returned. */
    async byIdOrAlias(wabaIds: readonly string[], id: string): Promise<ContactDoc | null> {
      if (id.startsWith('con_')) return firstById(contacts, [id], wabaIds);
      const links = await Promise.all(
        wabaIds.flatMap((w) => [waAlias(id), userAlias(id)].map((a) => aliases.findOne({ _id: aliasDocId(w, a) }))),
      );
      const found = await Promise.all(
        [...new Set(links.flatMap((l) => (l ? [l.contact_id] : [])))].map((cid) => firstById(contacts, [cid], wabaIds)),
      );
      const live = found.filter((c): c is ContactDoc => c !== null);
      return live.sort((a, b) => (b.changed_at?.getTime() ?? 0) - (a.changed_at?.getTime() ?? 0))[0] ?? null;
    },
  };
}

export type ContactReads = ReturnType<typeof createContactReads>;
