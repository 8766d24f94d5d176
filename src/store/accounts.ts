// Accounts (tenants), the WABAs they own, and their API keys (stored only as SHA-256 hashes).
import { createHash, randomBytes } from 'node:crypto';
import { type Db } from 'mongodb';
import { randomId } from '../core/ids.ts';
import { COLLECTIONS } from './collections.ts';

export type AccountDoc = { _id: string; name: string; created_at: Date };
export type WabaDoc = { _id: string; account_id: string; linked_at: Date };
export type ApiKeyDoc = { _id: string; account_id: string; key_hash: string; prefix: string; created_at: Date; revoked_at: Date | null };

const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export function createAccountStore(db: Db) {
  const accounts = db.collection<AccountDoc>(COLLECTIONS.account);
  const wabas = db.collection<WabaDoc>(COLLECTIONS.waba);
  const keys = db.collection<ApiKeyDoc>(COLLECTIONS.apiKey);
  return {
    async createAccount(name: string, now: Date): Promise<AccountDoc> {
      const doc: AccountDoc = { _id: randomId('acc'), name, created_at: now };
      await accounts.insertOne(doc);
      return doc;
    },
    async getAccount(id: string): Promise<AccountDoc | null> {
      return accounts.findOne({ _id: id });
    },
    /** Links a WABA to an account; a WABA belongs to one account, so relinking moves it. */
    async linkWaba(wabaId: string, accountId: string, now: Date): Promise<WabaDoc> {
      const doc: WabaDoc = { _id: wabaId, account_id: accountId, linked_at: now };
      await wabas.replaceOne({ _id: wabaId }, doc, { upsert: true });
      return doc;
    },
    async wabasOf(accountId: string): Promise<string[]> {
      return (await wabas.find({ account_id: accountId }).project<{ _id: string }>({ _id: 1 }).toArray()).map((w) => w._id);
    },
    async allWabaOwners(): Promise<Map<string, string>> {
      return new Map((await wabas.find().toArray()).map((w) => [w._id, w.account_id]));
    },
    /** Creates a key; the plain key is returned once and never stored. */
    async createApiKey(accountId: string, now: Date): Promise<{ id: string; key: string }> {
      const id = randomId('key', 9);
      const key = `eck_${randomBytes(24).toString('base64url')}`;
      await keys.insertOne({ _id: id, account_id: accountId, key_hash: hashKey(key), prefix: key.slice(0, 8), created_at: now, revoked_at: null });
      return { id, key };
    },
    /** The account's keys, newest first (hashes and prefixes only; a key is never shown again). */
    async listApiKeys(accountId: string): Promise<ApiKeyDoc[]> {
      return keys.find({ account_id: accountId }).sort({ created_at: -1, _id: 1 }).toArray();
    },
    /** Revokes a key of the account; false when the account has no such key. Takes effect on the next request. */
    async revokeApiKey(accountId: string, keyId: string, now: Date): Promise<boolean> {
      const res = await keys.updateOne({ _id: keyId, account_id: accountId, revoked_at: null }, { $set: { revoked_at: now } });
      return res.matchedCount === 1 || (await keys.countDocuments({ _id: keyId, account_id: accountId })) === 1;
    },
    /** The account a live key belongs to, or null for an unknown or revoked key (read on every request, no cache). */
    async accountForKey(key: string): Promise<string | null> {
      const doc = await keys.findOne({ key_hash: hashKey(key) });
      return doc && doc.revoked_at === null ? doc.account_id : null;
    },
  };
}

export type AccountStore = ReturnType<typeof createAccountStore>;
