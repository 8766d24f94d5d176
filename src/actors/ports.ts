// What the actors need from the store. src/store/actor-store.ts implements it on MongoDB; unit and property
// tests use a small in-memory implementation (harness/memory-actor-store.ts).
import { type ActorDocs, type ContactDoc, type RecipientDelivery } from '../store/docs.ts';

export type { ActorDocs };
export type ActorCollection = keyof ActorDocs;
/** Every actor collection, once: the compiler refuses this list when it misses one of ActorDocs' collections. */
export const ACTOR_COLLECTIONS = ['message', 'contact', 'thread', 'template', 'waba_state'] as const satisfies readonly ActorCollection[];
const everyCollectionListed: Exclude<ActorCollection, (typeof ACTOR_COLLECTIONS)[number]> extends never ? true : never = true;
void everyCollectionListed;

/** One value per actor collection, each made fresh by `make`. */
export const perCollection = <T>(make: () => T): { [C in ActorCollection]: T } =>
  Object.fromEntries(ACTOR_COLLECTIONS.map((c) => [c, make()])) as { [C in ActorCollection]: T };

/** Everything one batch changes, written together at its end. */
export type WriteSet = {
  /** Whole documents (each has one writer: its WABA's actor), in collection order above: those the batch
   *  created (inserted; one that exists after all, from a crashed earlier attempt, is replaced) and those it
   *  loaded and changed (replaced). */
  inserts: { [C in ActorCollection]: ActorDocs[C][] };
  replaces: { [C in ActorCollection]: ActorDocs[C][] };
  deletes: { [C in ActorCollection]: string[] };
  /** Messages moved from one thread to another (contacts that turned out to be one person). */
  repointMessages: { from: string; to: string }[];
  /** Pending broadcast recipients to skip after an opt-out; `marketingOnly`: only those of marketing broadcasts. */
  skipRecipients: { wabaId: string; aliases: string[]; reason: string; at: Date; marketingOnly: boolean }[];
  /** The delivery state of broadcast messages EchoCue sent, for their recipients (named by the message's
   *  biz_opaque_callback_data): the message's wamid and derived state after the batch, the newest last. */
  recipientDeliveries: RecipientDelivery[];
  /** The version (`_v`) each replaced or deleted document had when the batch read it (0: written before versions
   *  existed). A write applies only while the store still holds that version: the fence that keeps a member that
   *  lost its partition mid-batch from overwriting what the new owner wrote. Inserts are fenced by the _id itself. */
  versions: { [C in ActorCollection]: Map<string, number> };
};

/** What a commit wrote: the version each written document has now (for the actor's state cache). */
export type Committed = { changedAt: Date; versions: { [C in ActorCollection]: Map<string, number> } };

export interface ActorStore {
  load<C extends ActorCollection>(c: C, ids: readonly string[]): Promise<ActorDocs[C][]>;
  /** Contacts of a WABA holding any of the aliases. */
  contactsByAliases(wabaId: string, aliases: readonly string[]): Promise<ContactDoc[]>;
  /** Writes the batch; returns the changed_at it stamped on the documents (src/store/docs.ts StoreStamped) and their
   *  new versions. Rejects with EC_STORE_CONFLICT when a document's version is no longer the one read (another
   *  member wrote it): the batch is then retried from a fresh read. */
  commit(w: WriteSet): Promise<Committed>;
}
