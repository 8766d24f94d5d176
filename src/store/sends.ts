// Sends through the Graph API by Idempotency-Key (ec_send): one document per account and key, written before the
// call to Meta and settled after it, so the same key never sends twice. States: sending (a call is with Meta, or its
// process died mid-call), accepted (Meta answered with a wamid; the answer is kept and given again), refused (Meta
// said no; the error is kept and given again), retry (nothing reached Meta: the next call with the key sends),
// unknown (the request may have reached Meta and no answer came: never sent again).
import { createHash } from 'node:crypto';
import { type Db } from 'mongodb';
import { AppError } from '../core/errors.ts';
import { COLLECTIONS, isDuplicateKey } from './collections.ts';

export type SendState = 'sending' | 'accepted' | 'refused' | 'retry' | 'unknown';

export type SendDoc = {
  _id: string;
  account_id: string;
  idempotency_key: string;
  /** SHA-256 of what was asked (thread and message): the same key with another request is refused. */
  request_hash: string;
  state: SendState;
  thread_id: string;
  wamid: string | null;
  /** accepted: the sent event's fields (JSON), to write it again when a retried call finds it accepted. */
  sent: string | null;
  /** refused: the error answered. */
  error: { code: string; message: string; details: Record<string, unknown> | null } | null;
  created_at: Date;
  updated_at: Date;
};

export const requestHash = (request: unknown): string => createHash('sha256').update(JSON.stringify(request)).digest('hex');

export function createSendStore(db: Db) {
  const sends = db.collection<SendDoc>(COLLECTIONS.send);
  const idOf = (accountId: string, key: string) => `${accountId}|${key}`;
  return {
    get(accountId: string, key: string): Promise<SendDoc | null> {
      return sends.findOne({ _id: idOf(accountId, key) });
    },
    /** Starts a send under the key: `started` when this call owns it now (new, or after a `retry`); else the stored
     *  send, for the caller to answer from. The same key with another request is EC_CONFLICT. */
    async begin(
      input: { accountId: string; key: string; requestHash: string; threadId: string },
      now: Date,
    ): Promise<{ started: true; doc: SendDoc } | { started: false; doc: SendDoc }> {
      const doc: SendDoc = {
        _id: idOf(input.accountId, input.key),
        account_id: input.accountId,
        idempotency_key: input.key,
        request_hash: input.requestHash,
        state: 'sending',
        thread_id: input.threadId,
        wamid: null,
        sent: null,
        error: null,
        created_at: now,
        updated_at: now,
      };
      try {
        await sends.insertOne(doc);
        return { started: true, doc };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const existing = await sends.findOne({ _id: doc._id });
      if (!existing) throw new AppError('EC_STORE_UNAVAILABLE', 'a send vanished while it was read; try again');
      if (existing.request_hash !== input.requestHash)
        throw new AppError('EC_CONFLICT', `Idempotency-Key "${input.key}" was used for another request; use a new key for a new message`, {
          details: { reason: 'idempotency_key_reused', parameter: 'Idempotency-Key' },
        });
      if (existing.state === 'retry') {
        const taken = await sends.findOneAndUpdate(
          { _id: doc._id, state: 'retry' },
          { $set: { state: 'sending', updated_at: now } },
          { returnDocument: 'after' },
        );
        if (taken) return { started: true, doc: taken };
        return { started: false, doc: (await sends.findOne({ _id: doc._id }))! };
      }
      return { started: false, doc: existing };
    },
    async accepted(id: string, wamid: string, sent: string, now: Date): Promise<void> {
      await sends.updateOne({ _id: id }, { $set: { state: 'accepted', wamid, sent, updated_at: now } });
    },
    async settle(id: string, state: 'refused' | 'retry' | 'unknown', error: SendDoc['error'], now: Date): Promise<void> {
      await sends.updateOne({ _id: id }, { $set: { state, error, updated_at: now } });
    },
  };
}

export type SendStore = ReturnType<typeof createSendStore>;
