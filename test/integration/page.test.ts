// Keyset pages on the real store: walking any order page by page, at any page size, gives exactly the whole
// sorted collection, with null and repeated sort values (MongoDB sorts null first and never range-matches it).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient, type Collection } from 'mongodb';
import { findPage, sortKeyOf, type SortSpec } from '../../src/store/page.ts';
import { testEnv, type TestEnv } from '../helpers/env.ts';

type Doc = { _id: string; at: Date | null; name: string | null; group: string };

describe('store > keyset pages', () => {
  let env: TestEnv;
  let mongo: MongoClient;
  let col: Collection<Doc>;
  beforeAll(async () => {
    env = testEnv();
    mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
    col = mongo.db().collection<Doc>('page_test');
    const docs: Doc[] = Array.from({ length: 40 }, (_, i) => ({
      _id: `d${String((i * 17) % 40).padStart(2, '0')}`,
      at: i % 5 === 0 ? null : new Date(Date.UTC(2026, 0, 1 + (i % 7))),
      name: i % 6 === 0 ? null : `n${i % 4}`,
      group: i % 2 === 0 ? 'even' : 'odd',
    }));
    await col.insertMany(docs);
  });
  afterAll(async () => {
    await mongo?.close();
    await env?.cleanup();
  });

  const orders: [string, SortSpec][] = [
    [
      'at desc',
      [
        { field: 'at', dir: -1 },
        { field: '_id', dir: 1 },
      ],
    ],
    [
      'at asc',
      [
        { field: 'at', dir: 1 },
        { field: '_id', dir: 1 },
      ],
    ],
    [
      'name asc, at desc',
      [
        { field: 'name', dir: 1 },
        { field: 'at', dir: -1 },
        { field: '_id', dir: 1 },
      ],
    ],
  ];

  for (const [label, sort] of orders) {
    test(`${label}: every page size walks the whole filtered order exactly once`, async () => {
      const filter = { group: 'even' };
      const whole = (
        await col
          .find(filter)
          .sort(Object.fromEntries(sort.map((s) => [s.field, s.dir])))
          .toArray()
      ).map((d) => d._id);
      expect(whole).toHaveLength(20);
      for (const limit of [1, 3, 7, 20, 25]) {
        const seen: string[] = [];
        let after: unknown[] | null = null;
        for (let guard = 0; guard < 50; guard++) {
          const page = await findPage(col, { filter, sort, after, limit });
          seen.push(...page.items.map((d) => d._id));
          if (!page.more) break;
          after = sortKeyOf(page.items[page.items.length - 1]!, sort);
        }
        expect([limit, seen]).toEqual([limit, whole]);
      }
    });
  }
});
