// The store under more concurrency than its pool: many clients, each sending bulks of replaces (the actors' write
// shape) while indexes are created. FerretDB v1 holds a pooled connection per statement of an update until the
// command ends; without the local wrapper's admission limit (deploy/local/ferretdb/main.go) this waits forever, as
// `make run` did on the old SQLite store. Every bulk must finish and the store must still answer.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient } from 'mongodb';
import { services, uniqueName, withDatabase } from '../helpers/env.ts';

const CLIENTS = 48;
const BULK = 40;

describe('store > concurrency beyond the pool', () => {
  const uri = withDatabase(services().MONGODB_URI, uniqueName('conc'));
  const clients: MongoClient[] = [];
  beforeAll(async () => {
    for (let i = 0; i < CLIENTS; i++) clients.push(new MongoClient(uri, { maxPoolSize: 4, socketTimeoutMS: 120_000 }));
    await Promise.all(clients.map((c) => c.connect()));
    const seed = clients[0]!.db().collection<{ _id: string; n: number }>('docs');
    await seed.insertMany(Array.from({ length: CLIENTS * BULK }, (_, i) => ({ _id: `d${i}`, n: 0 })));
  });
  afterAll(async () => {
    await clients[0]
      ?.db()
      .dropDatabase()
      .catch(() => undefined);
    await Promise.all(clients.map((c) => c.close()));
  });

  test(
    `${CLIENTS} clients x 2 bulks of ${BULK} replaces at once, with index builds beside them: all finish, the store still answers`,
    { timeout: 180_000 },
    async () => {
      const round = (r: number) =>
        clients.map((c, i) =>
          c
            .db()
            .collection<{ _id: string; n: number }>('docs')
            .bulkWrite(
              Array.from({ length: BULK }, (_, j) => ({ replaceOne: { filter: { _id: `d${i * BULK + j}` }, replacement: { n: r } } })),
              { ordered: true },
            ),
        );
      const results = await Promise.all([
        ...round(1),
        ...round(2),
        ...clients.slice(0, 8).map((c, i) =>
          c
            .db()
            .collection(`other${i}`)
            .createIndexes([{ key: { a: 1 }, name: 'by_a' }]),
        ),
      ]);
      const matched = results.slice(0, CLIENTS * 2).map((r) => (r as { matchedCount: number }).matchedCount);
      expect(matched).toEqual(Array(CLIENTS * 2).fill(BULK));
      expect(await clients[0]!.db().command({ ping: 1 })).toMatchObject({ ok: 1 });
      expect(
        await clients[0]!
          .db()
          .collection('docs')
          .countDocuments({ n: { $gt: 0 } }),
      ).toBe(CLIENTS * BULK);
    },
  );
});
