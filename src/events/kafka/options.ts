// What every client of the Kafka implementation is made from (src/events/kafka/index.ts reads it once).
import { type Logger } from '../../core/log.ts';

export type ClientOptions = Readonly<{
  brokers: readonly string[];
  clientId: string;
  log: Logger;
  /** How long one request may wait for the broker's answer (KAFKA_REQUEST_TIMEOUT_MS, default 10000). */
  requestTimeoutMs: number;
  connectTimeoutMs: number;
}>;

/** Connection, request deadline and retries shared by the @platformatic/kafka clients (producer, admin): a request
 *  unanswered for `requestTimeoutMs` fails (and is retried), retries back off 100 ms, 200 ms, ... up to 2 s, as
 *  kafkajs's did, so a broker busy for a few seconds (a start under load) is waited for. */
export function platformaticOptions(opts: ClientOptions, clientId: string) {
  return {
    clientId,
    bootstrapBrokers: [...opts.brokers],
    connectTimeout: opts.connectTimeoutMs,
    requestTimeout: opts.requestTimeoutMs,
    timeout: opts.requestTimeoutMs,
    retries: RETRIES,
    retryDelay: (_client: unknown, _operation: string, attempt: number) => Math.min(2000, 100 * 2 ** Math.max(0, attempt - 1)),
  };
}

const RETRIES = 5;
