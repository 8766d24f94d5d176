// What the actors need from the store. src/store/actor-store.ts implements it on MongoDB; unit and property
// tests use a small in-memory implementation (test/helpers/memory-actor-store.ts).
import { type ActorDocs, type ContactDoc, type ThreadDoc } from '../store/docs.ts';

export type { ActorDocs };
export type ActorCollection = keyof ActorDocs;
export const ACTOR_COLLECTIONS: readonly ActorCollection[] = ['message', 'contact', 'thread', 'template', 'waba_state'];

/** Everything one batch changes, written together at its end. */
export type WriteSet = {
  /** Whole documents (each has one writer: its WABA's actor), in collection order above. */
  upserts: { [C in ActorCollection]: ActorDocs[C][] };
  deletes: { [C in ActorCollection]: string[] };
  /** Messages moved from one thread to another (contacts that turned out to be one person). */
  repointMessages: { from: string; to: string }[];
  /** Pending broadcast recipients of an opted-out contact become skipped. */
  skipRecipients: { wabaId: string; aliases: string[]; reason: string; at: Date }[];
};

export interface ActorStore {
  load<C extends ActorCollection>(c: C, ids: readonly string[]): Promise<ActorDocs[C][]>;
  contactsByAliases(wabaId: string, aliases: readonly string[]): Promise<ContactDoc[]>;
  threadsByContacts(contactIds: readonly string[]): Promise<ThreadDoc[]>;
  /** Unread inbound messages per thread (recounted, so a crash between writes never leaves a wrong count). */
  countUnread(threadIds: readonly string[]): Promise<Map<string, number>>;
  commit(w: WriteSet): Promise<void>;
}
