// The one place a MongoDB client is made: a bounded pool and a deadline on every call, so a store that stops
// answering gives clear errors (and retries by the callers) instead of requests that wait forever.
import { MongoClient } from 'mongodb';
import { type Config } from '../config/index.ts';

export function createMongoClient(mongo: Config['mongo']): MongoClient {
  return new MongoClient(mongo.uri, {
    maxPoolSize: mongo.maxPoolSize,
    // Waiting for a pooled connection, and an open connection that says nothing, both end at the deadline.
    waitQueueTimeoutMS: mongo.timeoutMs,
    socketTimeoutMS: mongo.timeoutMs,
    connectTimeoutMS: Math.min(mongo.timeoutMs, 10_000),
    serverSelectionTimeoutMS: Math.min(mongo.timeoutMs, 10_000),
  });
}
