// Keyset pagination: a page is "the next `limit` documents after this sort key", never an offset, so documents
// inserted or removed elsewhere in the order cannot shift a page. A document whose own sort key changes during a
// pass moves: ahead of the cursor it is not seen in that pass (inbox order), behind it it is seen again with its
// new state (change order, which is why pollers sync with updated_since: docs/decisions/0007-rest-api.md).
import { type Collection, type Document, type Filter } from 'mongodb';

/** A sort order; the last field must be _id (unique), which makes the order total and the key exact. */
export type SortSpec = readonly { field: string; dir: 1 | -1 }[];

export type PageRequest = Readonly<{
  filter: Filter<Document>;
  sort: SortSpec;
  /** The sort key of the last document already returned, or null for the first page. */
  after: readonly unknown[] | null;
  limit: number;
}>;

export type Page<T> = { items: T[]; more: boolean };

const get = (doc: Document, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v as Document | null)?.[k], doc);

/** A document's key in the order: the values a cursor resumes from. */
export const sortKeyOf = (doc: Document, sort: SortSpec): unknown[] => sort.map((s) => get(doc, s.field) ?? null);

/** "Strictly after this key" as a filter. MongoDB sorts null before every value, and a range operator never
 *  matches null (type bracketing), so null keys get their own clauses. */
export function afterFilter(sort: SortSpec, after: readonly unknown[]): Filter<Document> {
  if (after.length !== sort.length) throw new Error('sort key does not match the order');
  const clauses: Filter<Document>[] = [];
  sort.forEach((s, i) => {
    const equalBefore = Object.fromEntries(sort.slice(0, i).map((p, j) => [p.field, after[j] ?? null]));
    const v = after[i] ?? null;
    const beyond: Filter<Document>[] =
      s.dir === 1
        ? v === null
          ? [{ [s.field]: { $ne: null } }]
          : [{ [s.field]: { $gt: v } }]
        : v === null
          ? []
          : [{ [s.field]: { $lt: v } }, { [s.field]: null }];
    for (const b of beyond) clauses.push({ ...equalBefore, ...b });
  });
  return clauses.length === 0 ? { _id: { $in: [] } } : { $or: clauses };
}

export async function findPage<T extends Document>(col: Collection<T>, req: PageRequest): Promise<Page<T>> {
  if (req.sort[req.sort.length - 1]?.field !== '_id') throw new Error('a page order must end with _id');
  const filter = req.after === null ? req.filter : { $and: [req.filter, afterFilter(req.sort, req.after)] };
  const docs = (await col
    .find(filter as Filter<T>)
    .sort(Object.fromEntries(req.sort.map((s) => [s.field, s.dir])))
    .limit(req.limit + 1)
    .toArray()) as T[];
  return { items: docs.slice(0, req.limit), more: docs.length > req.limit };
}
