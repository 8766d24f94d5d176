// `echocue replay [--from TIME] --into DB [--diff-only] [--json]`: the clients and the steps (issue 17,
// docs/decisions/0018-replay.md). The replay itself is src/cli/replay.ts; the store side src/store/replay-target.ts.
import { type Config } from '../config/index.ts';
import { AppError } from '../core/errors.ts';
import { type Logger } from '../core/log.ts';
import { createSecretBox } from '../core/secret-box.ts';
import { topicNames } from '../events/topics.ts';
import { createAccountStore } from '../store/accounts.ts';
import { createActorStore } from '../store/actor-store.ts';
import { createMongoClient } from '../store/client.ts';
import { ensureIndexes } from '../store/collections.ts';
import {
  compareCollection,
  copyTenancy,
  nonEmptyCollections,
  REPLAYED_COLLECTIONS,
  replayedCounts,
  STORE_STAMPS,
} from '../store/replay-target.ts';
import { eventSerdeOf, kafkaEventsOf } from './kafka.ts';
import { type Progress } from './progress.ts';
import { databaseOf, hasDifference, replayInto, replayTopics, sameDatabase, stopPoint, targetOf, type ReplayReport } from './replay.ts';

export type ReplayCommandOptions = Readonly<{
  /** --into: a database name on the live server, or a MongoDB URI. */
  into: string;
  /** --from: only raw bodies accepted at or after this time (default: the beginning of the raw topic). */
  from: Date | null;
  /** --diff-only: compare an earlier replay's database again, without replaying (it need not be fresh). */
  diffOnly: boolean;
}>;

async function connected(client: ReturnType<typeof createMongoClient>, what: string) {
  try {
    await client.connect();
  } catch (err) {
    throw new AppError('EC_STORE_UNAVAILABLE', `cannot connect to ${what}: ${(err as Error).message}`, { cause: err });
  }
  return client;
}

export async function replayCommand(config: Config, opts: ReplayCommandOptions, log: Logger, progress: Progress): Promise<ReplayReport> {
  const target = targetOf(opts.into, config.mongo.uri);
  // Never into the live database: the replay writes without fences against the live actors' writes.
  if (sameDatabase(target.uri, config.mongo.uri))
    throw new AppError('EC_USAGE', `--into names the live database (${databaseOf(config.mongo.uri)}); replay into a fresh one`);
  const live = await connected(createMongoClient(config.mongo), 'the live database (MONGODB_URI)');
  const other = target.sameServer ? null : await connected(createMongoClient({ ...config.mongo, uri: target.uri }), `--into ${target.uri}`);
  const liveDb = live.db();
  const targetDb = (other ?? live).db(databaseOf(target.uri));
  try {
    let counts: ReplayReport['counts'] = null;
    let tenancyCopied: Record<string, number> = {};
    if (!opts.diffOnly) {
      const held = await nonEmptyCollections(targetDb);
      if (held.length > 0)
        throw new AppError(
          'EC_REPLAY_TARGET_NOT_EMPTY',
          `database ${databaseOf(target.uri)} is not empty (${held.join(', ')}); replay into a fresh database, or drop it first`,
        );
      tenancyCopied = await copyTenancy(liveDb, targetDb);
      await ensureIndexes(targetDb);
      const topics = topicNames(config.kafka.topicPrefix);
      const events = kafkaEventsOf(config, log);
      try {
        const replayed = await replayTopics(events, topics);
        // Where it stops: the end of the log now, so a system producing meanwhile does not keep it running.
        const stop = await stopPoint(events, replayed);
        const owners = await createAccountStore(liveDb, createSecretBox(config.secrets.masterKeys)).allWabaOwners();
        counts = await replayInto(
          {
            events,
            serde: await eventSerdeOf(config, topics),
            topics,
            prefix: config.kafka.topicPrefix,
            store: createActorStore(targetDb, { settleMs: config.api.changeSettleMs }),
            accountOf: (w) => owners.get(w) ?? null,
            log,
            progress,
          },
          { topics: replayed, stop, from: opts.from },
        );
      } finally {
        await events.close();
      }
    }
    const replayedOnly = opts.from !== null;
    progress.start('compare', (await replayedCounts(liveDb)) + (await replayedCounts(targetDb)));
    const collections = [];
    try {
      for (const name of REPLAYED_COLLECTIONS)
        collections.push(await compareCollection(liveDb, targetDb, name, { replayedOnly, onDocument: (n) => progress.increment(n) }));
    } finally {
      progress.stop();
    }
    return {
      live: databaseOf(config.mongo.uri),
      replay: databaseOf(target.uri),
      from: opts.from?.toISOString() ?? null,
      compared: replayedOnly ? 'documents the replay wrote' : 'all documents',
      ignoredFields: STORE_STAMPS,
      tenancyCopied,
      counts,
      collections,
      difference: hasDifference(collections),
    };
  } finally {
    await other?.close();
    await live.close();
  }
}
