// The one place a MongoDB client is made: a bounded pool and a deadline on every call, so a store that stops
// answering gives clear errors (and retries by the callers) instead of requests that wait forever.
import { MongoClient, MongoServerError, type CommandStartedEvent } from 'mongodb';
import { type Config } from '../config/index.ts';
import { type Metrics } from '../core/metrics.ts';

/** `metrics`: every command's round trip and failure is counted (observeStoreCalls); without it none is. */
export function createMongoClient(mongo: Config['mongo'], opts: { metrics?: StoreCallMetrics } = {}): MongoClient {
  const client = new MongoClient(mongo.uri, {
    maxPoolSize: mongo.maxPoolSize,
    // Waiting for a pooled connection, and an open connection that says nothing, both end at the deadline.
    waitQueueTimeoutMS: mongo.timeoutMs,
    socketTimeoutMS: mongo.timeoutMs,
    connectTimeoutMS: Math.min(mongo.timeoutMs, 10_000),
    serverSelectionTimeoutMS: Math.min(mongo.timeoutMs, 10_000),
    monitorCommands: opts.metrics !== undefined,
  });
  if (opts.metrics) observeStoreCalls(client, opts.metrics);
  return client;
}

export type StoreCallMetrics = Pick<Metrics, 'storeCall' | 'storeErrors'>;

/** A command's collection: the value of its first key (find: 'ec_thread'), getMore's `collection`; '-' for commands
 *  on no collection (ping, endSessions). Collection names are EchoCue's fixed list, so the label stays small. */
function collectionOf(e: CommandStartedEvent): string {
  const target = e.commandName === 'getMore' ? e.command['collection'] : e.command[e.commandName];
  return typeof target === 'string' ? target : '-';
}

/** Driver error → a short, bounded label: the server's numeric code (11000), else the driver error's class name. */
const codeOf = (err: unknown): string =>
  err instanceof MongoServerError && err.code !== undefined ? String(err.code) : ((err as Error)?.name ?? 'Error');

/** Measures at the store port's edge: the driver's command events, so every module's calls (and the actors' bulk
 *  writes) are counted without wrapping each collection. docs/decisions/0017-metrics-and-logs.md. */
export function observeStoreCalls(client: MongoClient, metrics: StoreCallMetrics): void {
  const started = new Map<number, { collection: string; operation: string }>();
  const done = (requestId: number, operation: string) => {
    const labels = started.get(requestId) ?? { collection: '-', operation };
    started.delete(requestId);
    return labels;
  };
  client.on('commandStarted', (e) => {
    // A connection torn down mid-command may not report it; never let the map grow without bound.
    if (started.size > 10_000) started.clear();
    started.set(e.requestId, { collection: collectionOf(e), operation: e.commandName });
  });
  client.on('commandSucceeded', (e) => {
    const labels = done(e.requestId, e.commandName);
    metrics.storeCall.observe(labels, e.duration / 1000);
    // An unordered bulk write answers ok with the documents it refused (a duplicate key, a fenced version).
    const writeErrors = (e.reply as { writeErrors?: { code?: number }[] } | null)?.writeErrors;
    if (Array.isArray(writeErrors))
      for (const w of writeErrors) metrics.storeErrors.inc({ ...labels, code: String(w?.code ?? 'write_error') });
  });
  client.on('commandFailed', (e) => {
    const labels = done(e.requestId, e.commandName);
    metrics.storeCall.observe(labels, e.duration / 1000);
    metrics.storeErrors.inc({ ...labels, code: codeOf(e.failure) });
  });
}
