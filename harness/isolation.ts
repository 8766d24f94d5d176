// What isolates one test or benchmark stage from the next on shared services: its own database (by name in the
// MongoDB URI) and its own topic prefix, both removed afterwards. Shared by test/helpers/env.ts and bench/.
// No vitest import here, so plain scripts can use it.
import { MongoClient } from 'mongodb';
import { type Config } from '../src/config/index.ts';
import { withEvents } from './kafka.ts';

/** The same MongoDB URI with another database name (query options kept). */
export function withDatabase(uri: string, db: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?([^?]*)(\?.*)?$/.exec(uri);
  if (!m) throw new Error(`cannot parse MONGODB_URI ${uri}`);
  return `${m[1]}/${db}${m[3] ?? ''}`;
}

/** Drops the config's database and deletes every topic of its prefix. */
export async function removeTopicsAndDatabase(config: Config): Promise<void> {
  const mongo = new MongoClient(config.mongo.uri);
  await mongo.connect();
  await mongo
    .db()
    .dropDatabase()
    .catch(() => undefined);
  await mongo.close();
  await withEvents(config, async (events) => {
    const mine = (await events.admin.listTopics()).filter((t) => t.startsWith(config.kafka.topicPrefix));
    await events.admin.deleteTopics(mine).catch(() => undefined);
  });
}
