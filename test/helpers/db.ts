// A fresh test database for a describe block: registers its beforeAll/afterAll, answers the Db once connected.
import { afterAll, beforeAll } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { testEnv, type TestEnv } from './env.ts';

export function useTestDb(): { db: () => Db; env: () => TestEnv } {
  let env: TestEnv | undefined;
  let mongo: MongoClient | undefined;
  let db: Db | undefined;
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
  return { db: () => db!, env: () => env! };
}
