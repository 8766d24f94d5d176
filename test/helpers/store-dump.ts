// The actors' documents of a database, for comparing two runs of the same events: sorted by _id, without the two
// fields that are not functions of the events (changed_at, the store's write time; _v, how often it was written).
import { MongoClient } from 'mongodb';

export const ACTOR_COLLECTION_NAMES = ['ec_message', 'ec_thread', 'ec_contact', 'ec_template', 'ec_waba_state'] as const;

/** `withStamps`: keep changed_at and _v too (a redelivery must not move even those). */
export async function actorDocuments(uri: string, opts: { withStamps?: boolean } = {}): Promise<Record<string, unknown[]>> {
  const mongo = new MongoClient(uri);
  await mongo.connect();
  try {
    const out: Record<string, unknown[]> = {};
    for (const c of ACTOR_COLLECTION_NAMES) {
      const docs = await mongo.db().collection(c).find().sort({ _id: 1 }).toArray();
      out[c] = opts.withStamps ? docs : docs.map(({ changed_at: _, _v: __, ...doc }) => doc);
    }
    return out;
  } finally {
    await mongo.close();
  }
}
