// The actors' documents of a database, for comparing two runs of the same events: sorted by _id, without the three
// fields that are not functions of the events alone (changed_at, the store's write time; _v, how often it was
// written; updated_at, when the content last changed as received: a redelivery leaves it, so after a crash it can
// keep the time of an earlier, partly written try: docs/decisions/0012-redelivery-changes-nothing.md).
import { MongoClient } from 'mongodb';
import { withCanonicalIds } from '../../harness/canonical-ids.ts';

export const ACTOR_COLLECTION_NAMES = ['ec_message', 'ec_thread', 'ec_contact', 'ec_template', 'ec_waba_state'] as const;

/** `withStamps`: keep changed_at, _v and updated_at too (a redelivery must not move even those), and the ids as
 *  stored; without it, contacts and threads are named by what they are (test/helpers/canonical-ids.ts: two runs of
 *  the same events in other orders may give them other ids). */
export async function actorDocuments(uri: string, opts: { withStamps?: boolean } = {}): Promise<Record<string, unknown[]>> {
  const mongo = new MongoClient(uri);
  await mongo.connect();
  try {
    const out: Record<string, unknown[]> = {};
    for (const c of ACTOR_COLLECTION_NAMES) {
      const docs = await mongo.db().collection(c).find().sort({ _id: 1 }).toArray();
      out[c] = opts.withStamps ? docs : docs.map(({ changed_at: _, _v: __, updated_at: ___, ...doc }) => doc);
    }
    return opts.withStamps ? out : withCanonicalIds(out);
  } finally {
    await mongo.close();
  }
}
