// Saved audiences (ec_audience): a named list of recipients (wa_ids) an account broadcasts to again and again.
import { type Db } from 'mongodb';
import { randomId } from '../core/ids.ts';
import { COLLECTIONS } from './collections.ts';

export type AudienceDoc = { _id: string; account_id: string; name: string; wa_ids: string[]; created_at: Date };

export function createAudienceStore(db: Db) {
  const audiences = db.collection<AudienceDoc>(COLLECTIONS.audience);
  return {
    async create(accountId: string, name: string, waIds: readonly string[], now: Date): Promise<AudienceDoc> {
      const doc: AudienceDoc = { _id: randomId('aud'), account_id: accountId, name, wa_ids: [...waIds], created_at: now };
      await audiences.insertOne(doc);
      return doc;
    },
    get(accountId: string, id: string): Promise<AudienceDoc | null> {
      return audiences.findOne({ _id: id, account_id: accountId });
    },
  };
}

export type AudienceStore = ReturnType<typeof createAudienceStore>;
