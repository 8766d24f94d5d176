// Store failures that mean "the store did not answer" (network, server selection, a pool or socket past its
// deadline: src/store/client.ts) become EC_STORE_UNAVAILABLE, so callers answer 503 and retry instead of 500.
import {
  MongoBulkWriteError,
  MongoNetworkError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoOperationTimeoutError,
  MongoError,
} from 'mongodb';
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

/** MongoDB's codes for a document it will not take, whatever the retry: a bad value (2), too large (10334, 17419),
 *  nested too deep or invalid BSON (15, 22), a key it cannot hold (52 `$`-prefixed, 57 dotted, 17280 too long). */
const REFUSED_CODES: ReadonlySet<number> = new Set([2, 10334, 17419, 15, 22, 52, 57, 17280]);

/** A write the store answered by refusing the data itself (not a store that is down, busy or fenced): the same
 *  write fails on every retry. FerretDB over PostgreSQL reports PostgreSQL's data exceptions (SQLSTATE class 22,
 *  e.g. 22P05 "unsupported Unicode escape sequence" for U+0000) inside an internal error. Returns the reason. */
export function storeRefusedData(err: unknown): string | null {
  if (!(err instanceof MongoServerError || err instanceof MongoBulkWriteError)) return null;
  const code = typeof err.code === 'number' ? err.code : Number(err.code);
  const sqlstate = /SQLSTATE (22[0-9A-Z]{3})/.exec(err.message)?.[1];
  if (REFUSED_CODES.has(code) || sqlstate)
    return `the store refused the data (${sqlstate ? `SQLSTATE ${sqlstate}` : `code ${code}`}: ${err.message.slice(0, 200)})`;
  return null;
}
