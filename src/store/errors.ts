// Store failures that mean "the store did not answer" (network, server selection, a pool or socket past its
// deadline: src/store/client.ts) become EC_STORE_UNAVAILABLE, so callers answer 503 and retry instead of 500.
import { MongoNetworkError, MongoServerSelectionError, MongoTopologyClosedError, MongoOperationTimeoutError, MongoError } from 'mongodb';
import { AppError } from '../core/errors.ts';

export function storeUnavailable(err: unknown): AppError | null {
  const unanswered =
    err instanceof MongoNetworkError || // includes MongoNetworkTimeoutError (socketTimeoutMS)
    err instanceof MongoServerSelectionError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoOperationTimeoutError ||
    (err instanceof MongoError && /WaitQueueTimeout|PoolCleared/.test(err.name));
  return unanswered ? new AppError('EC_STORE_UNAVAILABLE', 'the store did not answer in time', { cause: err }) : null;
}
