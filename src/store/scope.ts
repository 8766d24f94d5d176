// Tenant scoping for reads: a document is visible only when its WABA belongs to the caller's account.
import { type Collection } from 'mongodb';

export const inScope = <T extends { waba_id: string }>(doc: T | null, wabaIds: readonly string[]): T | null =>
  doc !== null && wabaIds.includes(doc.waba_id) ? doc : null;

/** The first document found by _id among candidate ids (one per WABA of the caller), in the caller's scope. */
export async function firstById<T extends { _id: string; waba_id: string }>(
  col: Collection<T>,
  ids: readonly string[],
  wabaIds: readonly string[],
): Promise<T | null> {
  const found = await Promise.all([...new Set(ids)].map((id) => col.findOne({ _id: id } as never) as Promise<T | null>));
  return found.map((d) => inScope(d, wabaIds)).find((d) => d !== null) ?? null;
}

/** The document `id` names in the caller's scope: by _id, else the one that took it over as a former id (a contact
 *  or thread merged into another keeps resolving: issue 14, rule 6). The second lookup runs only on a miss. */
export async function byIdOrFormerId<T extends { _id: string; waba_id: string; former_ids?: string[] }>(
  col: Collection<T>,
  id: string,
  wabaIds: readonly string[],
): Promise<T | null> {
  if (wabaIds.length === 0) return null;
  const doc = inScope(await (col.findOne({ _id: id } as never) as Promise<T | null>), wabaIds);
  if (doc) return doc;
  return col.findOne({ waba_id: { $in: [...wabaIds] }, former_ids: id } as never) as Promise<T | null>;
}
