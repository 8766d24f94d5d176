// Lists: keyset pages behind an opaque cursor, and the watermark a poller passes back as updated_since.
//
// next_updated_since = min(newest changed_at returned by the pass, time of the pass's first page - settle time).
// The actors stamp changed_at when a commit starts, so a document can become visible a little after a reader
// has passed its position; the settle time (API_CHANGE_SETTLE_MS) bounds that and clock skew between processes,
// and the actor store keeps the bound by stamping a slow commit again (src/store/actor-store.ts, issue 16 defect 1);
// the next poll re-reads that margin. Quiet data gives a watermark that depends only on the data, so repeated polls
// get 304.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { canonicalJson } from '../core/ids.ts';
import { sortKeyOf, type Page, type SortSpec } from '../store/page.ts';

export const pageQuery = {
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 100' })
    .int('must be a whole number from 1 to 100')
    .min(1, 'must be from 1 to 100')
    .max(100, 'must be from 1 to 100')
    .default(50)
    .meta({ description: 'Page size, 1 to 100.' }),
  cursor: z
    .string()
    .min(1)
    .max(2000)
    .optional()
    .meta({ description: 'The `next_cursor` of the previous page; the other parameters must be unchanged.' }),
  updated_since: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-06-15T09:41:00Z' })
    .optional()
    .meta({
      description:
        "Only items changed at or after this time (ISO 8601), oldest change first. Pass the `next_updated_since` of your previous poll's last page.",
    }),
};

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({
    data: z.array(item),
    next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
    next_updated_since: z.iso.datetime().nullable().meta({
      description:
        'Pass as `updated_since` on your next poll (take it from the last page). Null when nothing was listed and no updated_since was given.',
    }),
  });

type Key = (string | number | boolean | null | { $d: number })[];
type CursorState = { v: 1; q: string; k: Key; m: number | null; r: number };

const encodeKey = (key: readonly unknown[]): Key =>
  key.map((v) => (v instanceof Date ? { $d: v.getTime() } : (v as string | number | boolean | null)));
const decodeKey = (key: Key): unknown[] => key.map((v) => (v !== null && typeof v === 'object' ? new Date(v.$d) : v));

const fingerprint = (query: unknown): string => createHash('sha256').update(canonicalJson(query)).digest('base64url').slice(0, 16);

const badCursor = () =>
  new AppError('EC_BAD_REQUEST', 'query parameter "cursor" is not a cursor of this list with these parameters; list again without it', {
    details: { parameter: 'cursor', in: 'query' },
  });

function decodeCursor(cursor: string, q: string, keyLength: number): CursorState {
  let state: CursorState;
  try {
    state = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorState;
  } catch {
    throw badCursor();
  }
  const finite = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && Math.abs(n) < 8.64e15; // a valid Date
  const keyPart = (v: unknown) =>
    v === null || ['string', 'number', 'boolean'].includes(typeof v) || (typeof v === 'object' && finite((v as { $d?: unknown }).$d));
  if (state?.v !== 1 || state.q !== q || !Array.isArray(state.k) || state.k.length !== keyLength || !state.k.every(keyPart))
    throw badCursor();
  if (!finite(state.r) || !(state.m === null || finite(state.m))) throw badCursor();
  return state;
}

export type ListResult<T> = { items: T[]; next_cursor: string | null; next_updated_since: string | null };

/** Reads one page of a list. `query` names everything that selects and orders the list (never the cursor or the
 *  limit): a cursor is only accepted back with the same query. */
export async function listPage<T extends object>(opts: {
  query: unknown;
  cursor: string | undefined;
  limit: number;
  updatedSince: Date | null;
  now: Date;
  /** How long a commit may take to become visible after its changed_at (API_CHANGE_SETTLE_MS). */
  settleMs: number;
  /** The sort key of an item, and how many values it has (a cursor's key must have as many). */
  keyOf: (item: NoInfer<T>) => unknown[];
  keyLength: number;
  fetch: (after: unknown[] | null, limit: number) => Promise<Page<T>>;
}): Promise<ListResult<T>> {
  const q = fingerprint(opts.query);
  const state = opts.cursor === undefined ? null : decodeCursor(opts.cursor, q, opts.keyLength);
  const page = await opts.fetch(state ? decodeKey(state.k) : null, opts.limit);
  const firstRead = state?.r ?? opts.now.getTime();
  const newest = Math.max(state?.m ?? -Infinity, ...page.items.map((i) => (i as { changed_at?: Date }).changed_at?.getTime() ?? -Infinity));
  const m = Number.isFinite(newest) ? newest : null;
  const watermark = m === null ? (opts.updatedSince?.getTime() ?? null) : Math.min(m, firstRead - opts.settleMs);
  const last = page.items[page.items.length - 1];
  const next: CursorState | null = page.more && last ? { v: 1, q, k: encodeKey(opts.keyOf(last)), m, r: firstRead } : null;
  return {
    items: page.items,
    next_cursor: next ? Buffer.from(JSON.stringify(next)).toString('base64url') : null,
    next_updated_since: watermark === null ? null : new Date(watermark).toISOString(),
  };
}

/** One poll of a list: its default order, or oldest change first when `updated_since` is given; a page of it in
 *  the response shape of listOf(). `scope` names what selects the list (account, thread, filters). */
export async function pollList<T extends object, O extends string, V>(opts: {
  op: string;
  scope: Readonly<Record<string, unknown>>;
  page: Readonly<{ cursor?: string | undefined; limit: number; updated_since?: string | undefined }>;
  orders: Readonly<Record<O | 'changes', SortSpec>>;
  defaultOrder: O;
  fetch: (order: O | 'changes', updatedSince: Date | null, after: unknown[] | null, limit: number) => Promise<Page<T>>;
  view: (item: T) => V;
  now: Date;
  settleMs: number;
}): Promise<{ data: V[]; next_cursor: string | null; next_updated_since: string | null }> {
  const updatedSince = opts.page.updated_since ? new Date(opts.page.updated_since) : null;
  const order: O | 'changes' = updatedSince ? 'changes' : opts.defaultOrder;
  const sort = opts.orders[order];
  const page = await listPage<T>({
    query: { op: opts.op, ...opts.scope, order, since: opts.page.updated_since ?? null },
    cursor: opts.page.cursor,
    limit: opts.page.limit,
    updatedSince,
    now: opts.now,
    settleMs: opts.settleMs,
    keyOf: (item) => sortKeyOf(item, sort),
    keyLength: sort.length,
    fetch: (after, limit) => opts.fetch(order, updatedSince, after, limit),
  });
  return { data: page.items.map(opts.view), next_cursor: page.next_cursor, next_updated_since: page.next_updated_since };
}
