// Reads of ec_message for the REST API: a thread's messages, and one message by EchoCue id or by wamid.
import { type Db, type Document } from 'mongodb';
import { COLLECTIONS } from './collections.ts';
import { messageIdOf } from './doc-ids.ts';
import { type MessageDoc } from './docs.ts';
import { findPage, type Page, type SortSpec } from './page.ts';
import { firstById } from './scope.ts';

export const MESSAGE_ORDERS = {
  /** Conversation order: oldest first, by Meta's timestamp. */
  chronological: [
    { field: 'timestamp', dir: 1 },
    { field: '_id', dir: 1 },
  ],
  changes: [
    { field: 'changed_at', dir: 1 },
    { field: '_id', dir: 1 },
  ],
} as const satisfies Record<string, SortSpec>;

export function createMessageReads(db: Db) {
  const messages = db.collection<MessageDoc>(COLLECTIONS.message);
  return {
    /** The messages of a thread the caller may read (the caller checks the thread first). */
    async listForThread(
      threadId: string,
      updatedSince: Date | null,
      order: keyof typeof MESSAGE_ORDERS,
      after: readonly unknown[] | null,
      limit: number,
    ): Promise<Page<MessageDoc>> {
      const filter: Document = { thread_id: threadId };
      if (updatedSince) filter['changed_at'] = { $gte: updatedSince };
      return findPage(messages, { filter, sort: MESSAGE_ORDERS[order], after, limit });
    },
    /** By EchoCue id (msg_...) or by Meta's wamid (looked up by _id in each of the caller's WABAs). */
    byIdOrWamid(wabaIds: readonly string[], id: string): Promise<MessageDoc | null> {
      const ids = id.startsWith('msg_') ? [id] : wabaIds.map((w) => messageIdOf(w, id));
      return firstById(messages, ids, wabaIds);
    },
  };
}

export type MessageReads = ReturnType<typeof createMessageReads>;
