// Reads of ec_thread for the REST API, always within the caller's WABAs.
import { type Db, type Document } from 'mongodb';
import { COLLECTIONS } from './collections.ts';
import { type ContactDoc, type ThreadDoc } from './docs.ts';
import { findPage, type Page, type SortSpec } from './page.ts';
import { byIdOrFormerId } from './scope.ts';

export const THREAD_ORDERS = {
  /** Inbox order: newest message first. */
  recent: [
    { field: 'last_message_at', dir: -1 },
    { field: '_id', dir: 1 },
  ],
  /** Change feed: oldest change first (with updated_since). */
  changes: [
    { field: 'changed_at', dir: 1 },
    { field: '_id', dir: 1 },
  ],
} as const satisfies Record<string, SortSpec>;

export type ThreadFilter = Readonly<{
  wabaIds: readonly string[];
  unread?: boolean | undefined;
  phoneNumberId?: string | undefined;
  updatedSince?: Date | null | undefined;
}>;

export function createThreadReads(db: Db) {
  const threads = db.collection<ThreadDoc>(COLLECTIONS.thread);
  return {
    async list(
      f: ThreadFilter,
      order: keyof typeof THREAD_ORDERS,
      after: readonly unknown[] | null,
      limit: number,
    ): Promise<Page<ThreadDoc>> {
      if (f.wabaIds.length === 0) return { items: [], more: false };
      const filter: Document = { waba_id: { $in: [...f.wabaIds] } };
      if (f.unread !== undefined) filter['unread_count'] = f.unread ? { $gt: 0 } : 0;
      if (f.phoneNumberId !== undefined) filter['phone_number_id'] = f.phoneNumberId;
      if (f.updatedSince) filter['changed_at'] = { $gte: f.updatedSince };
      return findPage(threads, { filter, sort: THREAD_ORDERS[order], after, limit });
    },
    /** A thread by its id or by a former id (a thread merged into it). */
    get(wabaIds: readonly string[], id: string): Promise<ThreadDoc | null> {
      return byIdOrFormerId(threads, id, wabaIds);
    },
    /** The contact's thread on a business phone number, by the thread ids the contact keeps. */
    async ofContact(contact: ContactDoc, phoneNumberId: string): Promise<ThreadDoc | null> {
      const found = await Promise.all(contact.thread_ids.map((id) => threads.findOne({ _id: id })));
      return found.find((t) => t !== null && t.waba_id === contact.waba_id && t.phone_number_id === phoneNumberId) ?? null;
    },
  };
}

export type ThreadReads = ReturnType<typeof createThreadReads>;
