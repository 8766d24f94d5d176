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
