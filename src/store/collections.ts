// Collection names and every index, declared in one place and created at start-up (ensureIndexes).
// Indexes stay within what FerretDB v1 and MongoDB both support: plain and unique compound keys only
// (no TTL, sparse or partial indexes: docs/decisions/0002-local-stack.md).
import { type Db, type IndexDescription } from 'mongodb';
import { withRetries, type RetryOptions } from '../core/retry.ts';
import { storeUnavailable } from './errors.ts';

export const COLLECTIONS = {
  account: 'ec_account',
  waba: 'ec_waba',
  apiKey: 'ec_api_key',
  thread: 'ec_thread',
  message: 'ec_message',
  contact: 'ec_contact',
  contactAlias: 'ec_contact_alias',
  /** Review flags a person cleared through the API (the contact document itself belongs to the actors). */
  reviewClear: 'ec_review_clear',
  template: 'ec_template',
  wabaState: 'ec_waba_state',
  broadcast: 'ec_broadcast',
  broadcastRecipient: 'ec_broadcast_recipient',
  /** Saved lists of recipients for broadcasts (src/store/audiences.ts). */
  audience: 'ec_audience',
  endpoint: 'ec_endpoint',
  delivery: 'ec_delivery',
  endpointStat: 'ec_endpoint_stat',
  endpointNotice: 'ec_endpoint_notice',
  endpointRate: 'ec_endpoint_rate',
  /** Business phone numbers connected through Embedded Signup (src/store/connections.ts). */
  phoneNumber: 'ec_phone_number',
  /** Sends through the Graph API by Idempotency-Key (src/store/sends.ts). */
  send: 'ec_send',
} as const;

export const INDEXES: Readonly<Record<keyof typeof COLLECTIONS, readonly IndexDescription[]>> = {
  account: [],
  waba: [{ key: { account_id: 1 }, name: 'by_account' }],
  apiKey: [
    { key: { key_hash: 1 }, name: 'by_hash', unique: true },
    { key: { account_id: 1 }, name: 'by_account' },
  ],
  // A contact's threads are found through the ids the contact keeps (ec_contact.thread_ids), not by query.
  // by_former_id: an id merged into another document still resolves (issue 14, rule 6); read only on a miss by _id.
  thread: [
    { key: { waba_id: 1, last_message_at: -1 }, name: 'by_waba_recent' },
    { key: { waba_id: 1, former_ids: 1 }, name: 'by_former_id' },
  ],
  // Unique per WABA + wamid through _id itself (msg_ + hash of both): a second unique index would only cost
  // writes, which FerretDB v1 makes expensive per secondary index.
  message: [{ key: { thread_id: 1, timestamp: 1 }, name: 'by_thread_time' }],
  contact: [
    { key: { waba_id: 1, aliases: 1 }, name: 'by_alias' },
    { key: { waba_id: 1, former_ids: 1 }, name: 'by_former_id' },
  ],
  contactAlias: [],
  reviewClear: [],
  template: [
    { key: { waba_id: 1, template_id: 1 }, name: 'by_template_id' },
    { key: { waba_id: 1, name: 1, language: 1 }, name: 'by_name' }, // a send names its template so
  ],
  wabaState: [],
  broadcast: [{ key: { account_id: 1, created_at: -1 }, name: 'by_account' }],
  broadcastRecipient: [
    { key: { waba_id: 1, status: 1 }, name: 'by_waba_status' },
    { key: { broadcast_id: 1 }, name: 'by_broadcast' },
    { key: { broadcast_id: 1, status: 1, delivery_status: 1 }, name: 'by_broadcast_state' }, // the counts
    { key: { status: 1, attempt_at: 1 }, name: 'by_status_attempt' }, // the in-doubt sweep
  ],
  audience: [{ key: { account_id: 1 }, name: 'by_account' }],
  endpoint: [
    { key: { account_id: 1, enabled: 1 }, name: 'by_account' },
    { key: { key_id: 1 }, name: 'by_key' },
  ],
  delivery: [
    { key: { endpoint_id: 1, created_at: -1 }, name: 'by_endpoint_recent' },
    { key: { status: 1, changed_at: 1 }, name: 'by_status_changed' }, // the retention sweep (src/delivery/retention.ts)
  ],
  endpointStat: [
    { key: { endpoint_id: 1, bucket: 1 }, name: 'by_endpoint_bucket' },
    { key: { bucket: 1 }, name: 'by_bucket' },
  ],
  endpointNotice: [
    { key: { key_id: 1, at: -1 }, name: 'by_key_recent' },
    { key: { at: 1 }, name: 'by_at' },
  ],
  endpointRate: [{ key: { window: 1 }, name: 'by_window' }],
  phoneNumber: [{ key: { account_id: 1 }, name: 'by_account' }],
  send: [],
};

export async function ensureIndexes(db: Db): Promise<void> {
  for (const [name, indexes] of Object.entries(INDEXES) as [keyof typeof COLLECTIONS, IndexDescription[]][]) {
    // One index per command: FerretDB v1.24 crashes the connection on a multi-index createIndexes whose
    // indexes already exist (docs/ferretdb-gaps.md). MongoDB accepts both forms.
    for (const index of indexes)
      await withRetries(
        () =>
          db
            .collection(COLLECTIONS[name])
            .createIndexes([index])
            .catch((err: unknown) => {
              throw storeUnavailable(err) ?? err;
            }),
        INDEX_RETRY,
      );
  }
}

/** One index creation, retried when a call times out: a store busy with other DDL (FerretDB serialises it; many
 *  databases created at once) or a large collection can take longer than one call's deadline (MONGODB_TIMEOUT_MS);
 *  the build goes on on the server and createIndexes is idempotent, so the call is made again before start-up gives up.
 *  Retried: what storeUnavailable maps to EC_STORE_UNAVAILABLE (a timeout, no server, a full pool). */
const INDEX_RETRY: RetryOptions = {
  attempts: 4,
  delayMs: (attempt) => 500 * attempt,
};

/** MongoDB's duplicate-key error: a unique index already holds the key. */
export const isDuplicateKey = (err: unknown): boolean => (err as { code?: number }).code === 11000;
