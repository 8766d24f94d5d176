// The actors' MongoDB store on the real store: what a crash between its writes leaves behind is still found.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { createActorStore } from '../../src/store/actor-store.ts';
import { mergeContacts } from '../../src/actors/contact/reduce.ts';
import { emptyWriteSet } from '../../src/actors/session.ts';
import { testEnv, type TestEnv } from '../helpers/env.ts';

describe('store > actor store', () => {
  let env: TestEnv;
  let mongo: MongoClient;
  let db: Db;
  beforeAll(async () => {
    env = testEnv();
    mongo = new MongoClient(env.config.mongo.uri);
    await mongo.connect();
    db = mongo.db();
  });
  afterAll(async () => {
    await mongo?.close();
    await env?.cleanup();
  });

  test('a contact is found by any alias; an insert of a document that exists (a replayed batch) replaces it', async () => {
    const store = createActorStore(db);
    const c = mergeContacts('w1', [], ['wa:1', 'uid:US.1'], new Date(1000));
    await store.commit({ ...emptyWriteSet(), inserts: { ...emptyWriteSet().inserts, contact: [c] } });
    expect((await store.contactsByAliases('w1', ['uid:US.1'])).map((x) => x._id)).toEqual([c._id]);
    expect(await store.contactsByAliases('w2', ['uid:US.1'])).toEqual([]);
    const renamed = { ...c, name: 'replayed' };
    await store.commit({ ...emptyWriteSet(), inserts: { ...emptyWriteSet().inserts, contact: [renamed] } });
    expect(await store.load('contact', [c._id])).toMatchObject([{ name: 'replayed' }]);
  });

  test('after a crash between deleting merged-away contacts and updating the alias index, the merged contact is still found', async () => {
    const store = createActorStore(db);
    const old = mergeContacts('w3', [], ['wa:5'], new Date(1000));
    await store.commit({ ...emptyWriteSet(), inserts: { ...emptyWriteSet().inserts, contact: [old] } });
    // The merged contact is written and the old one deleted, but the alias index still names the old one.
    const merged = mergeContacts('w3', [old], ['uid:US.5'], new Date(2000));
    expect(merged._id).not.toBe(old._id);
    await db.collection('ec_contact').insertOne(merged as never);
    await db.collection('ec_contact').deleteOne({ _id: old._id as never });
    expect((await store.contactsByAliases('w3', ['wa:5'])).map((x) => x._id)).toEqual([merged._id]);
  });
});
