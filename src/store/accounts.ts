// Accounts (tenants), the WABAs they own, and their API keys. A key is stored only as a SHA-256 hash; its signing
// secret (for outbound webhooks) is stored encrypted under the master key, so it can be revealed and rotated.
// The CLI and the admin API both go through these operations.
import { createHash, randomBytes } from 'node:crypto';
import { type Db } from 'mongodb';
import { AppError } from '../core/errors.ts';
import { randomId } from '../core/ids.ts';
import { type Sealed, type SecretBox } from '../core/secret-box.ts';
import { COLLECTIONS, isDuplicateKey } from './collections.ts';

export type AccountDoc = { _id: string; name: string; created_at: Date };
export type WabaDoc = { _id: string; account_id: string; linked_at: Date };
export type ApiKeyDoc = {
  _id: string;
  account_id: string;
  key_hash: string;
  prefix: string;
  signing_secret: Sealed;
  created_at: Date;
  revoked_at: Date | null;
};

/** What a new key shows once: the key itself and its signing secret. */
export type NewApiKey = { id: string; account_id: string; key: string; signing_secret: string; prefix: string; created_at: Date };

const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');
export const WABA_ID = /^\d{5,20}$/;

export function createAccountStore(db: Db, secrets: SecretBox) {
  const accounts = db.collection<AccountDoc>(COLLECTIONS.account);
  const wabas = db.collection<WabaDoc>(COLLECTIONS.waba);
  const keys = db.collection<ApiKeyDoc>(COLLECTIONS.apiKey);

  async function accountOrThrow(id: string): Promise<AccountDoc> {
    const doc = await accounts.findOne({ _id: id });
    if (!doc) throw new AppError('EC_NOT_FOUND', `no account ${id}`);
    return doc;
  }

  return {
    async createAccount(name: string, now: Date): Promise<AccountDoc> {
      const trimmed = name.trim();
      if (trimmed.length === 0 || trimmed.length > 200)
        throw new AppError('EC_BAD_REQUEST', 'name must be 1 to 200 characters', { details: { parameter: 'name' } });
      const doc: AccountDoc = { _id: randomId('acc'), name: trimmed, created_at: now };
      await accounts.insertOne(doc);
      return doc;
    },
    getAccount(id: string): Promise<AccountDoc | null> {
      return accounts.findOne({ _id: id });
    },
    /** Links a WABA to an account; a WABA belongs to one account, so relinking moves it. */
    async linkWaba(wabaId: string, accountId: string, now: Date): Promise<WabaDoc> {
      if (!WABA_ID.test(wabaId))
        throw new AppError('EC_BAD_REQUEST', 'waba_id must be a WhatsApp Business Account id (5 to 20 digits)', {
          details: { parameter: 'waba_id' },
        });
      await accountOrThrow(accountId);
      const doc: WabaDoc = { _id: wabaId, account_id: accountId, linked_at: now };
      await wabas.replaceOne({ _id: wabaId }, doc, { upsert: true });
      return doc;
    },
    /** Links a WABA to an account unless another account holds it (EC_CONFLICT then): Embedded Signup's last step,
     *  which never moves a WABA. Idempotent for the account that holds it. */
    async linkWabaIfFree(wabaId: string, accountId: string, now: Date): Promise<void> {
      await accountOrThrow(accountId);
      try {
        await wabas.updateOne({ _id: wabaId, account_id: accountId }, { $setOnInsert: { linked_at: now } }, { upsert: true });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        throw new AppError('EC_CONFLICT', `WABA ${wabaId} is linked to another account`, {
          details: { reason: 'waba_taken', parameter: 'waba_id' },
        });
      }
    },
    async wabasOf(accountId: string): Promise<string[]> {
      return (await wabas.find({ account_id: accountId }).project<{ _id: string }>({ _id: 1 }).toArray()).map((w) => w._id);
    },
    async ownerOf(wabaId: string): Promise<string | null> {
      return (await wabas.findOne({ _id: wabaId }))?.account_id ?? null;
    },
    /** A live key's signing secret, decrypted (outbound webhooks sign with it); null for a revoked or unknown key. */
    async liveSigningSecret(keyId: string): Promise<string | null> {
      const doc = await keys.findOne({ _id: keyId });
      return doc && doc.revoked_at === null ? secrets.open(doc.signing_secret, doc._id) : null;
    },
    async allWabaOwners(): Promise<Map<string, string>> {
      return new Map((await wabas.find().toArray()).map((w) => [w._id, w.account_id]));
    },
    /** Creates a key; the plain key and signing secret are returned once (the key is never stored). */
    async createApiKey(accountId: string, now: Date): Promise<NewApiKey> {
      await accountOrThrow(accountId);
      const id = randomId('key', 9);
      const key = `eck_${randomBytes(24).toString('base64url')}`;
      const signingSecret = `ecs_${randomBytes(32).toString('base64url')}`;
      const prefix = key.slice(0, 8);
      await keys.insertOne({
        _id: id,
        account_id: accountId,
        key_hash: hashKey(key),
        prefix,
        signing_secret: secrets.seal(signingSecret, id),
        created_at: now,
        revoked_at: null,
      });
      return { id, account_id: accountId, key, signing_secret: signingSecret, prefix, created_at: now };
    },
    /** The account's keys, newest first (prefixes only; a key is never shown again). */
    async listApiKeys(accountId: string): Promise<ApiKeyDoc[]> {
      await accountOrThrow(accountId);
      return keys.find({ account_id: accountId }).sort({ created_at: -1, _id: 1 }).toArray();
    },
    /** Revokes a key of the account (idempotent). Takes effect on the next request. */
    async revokeApiKey(accountId: string, keyId: string, now: Date): Promise<ApiKeyDoc> {
      await keys.updateOne({ _id: keyId, account_id: accountId, revoked_at: null }, { $set: { revoked_at: now } });
      const doc = await keys.findOne({ _id: keyId, account_id: accountId });
      if (!doc) throw new AppError('EC_NOT_FOUND', `account ${accountId} has no key ${keyId}`);
      return doc;
    },
    /** Replaces a key's signing secret (deliveries from now on are signed with the new one). */
    async rotateSigningSecret(keyId: string): Promise<string> {
      const secret = `ecs_${randomBytes(32).toString('base64url')}`;
      const res = await keys.updateOne({ _id: keyId }, { $set: { signing_secret: secrets.seal(secret, keyId) } });
      if (res.matchedCount !== 1) throw new AppError('EC_NOT_FOUND', `no key ${keyId}`);
      return secret;
    },
    /** The live key and its account, or null for an unknown or revoked key (read on every request, no cache). */
    async resolveKey(key: string): Promise<{ keyId: string; accountId: string } | null> {
      const doc = await keys.findOne({ key_hash: hashKey(key) });
      return doc && doc.revoked_at === null ? { keyId: doc._id, accountId: doc.account_id } : null;
    },
  };
}

export type AccountStore = ReturnType<typeof createAccountStore>;
