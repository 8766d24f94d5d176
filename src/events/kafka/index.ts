// The one implementation of the events port (src/events/port.ts) and the only code that imports a Kafka client:
// @platformatic/kafka for producing and admin, kafkajs for the two consumer-group runners
// (docs/decisions/0011-kafka-port.md).
import { type Events } from '../port.ts';
import { createEventsAdmin } from './admin.ts';
import { runBatchConsumer } from './batch-consumer.ts';
import { runDueConsumer } from './due-consumer.ts';
import { createKafkajs } from './kafkajs.ts';
import { type ClientOptions } from './options.ts';
import { createEventProducer } from './producer.ts';

export { silenceKafkajsTimeoutWarning } from './kafkajs.ts';

export type KafkaEventsOptions = Omit<ClientOptions, 'requestTimeoutMs' | 'connectTimeoutMs'> &
  Readonly<{
    requestTimeoutMs?: number;
    connectTimeoutMs?: number;
    /** The session timeout of every consumer group member that does not set its own (KAFKA_SESSION_TIMEOUT_MS). */
    sessionTimeoutMs?: number;
  }>;

export function createKafkaEvents(opts: KafkaEventsOptions): Events {
  const options: ClientOptions = {
    ...opts,
    requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
    connectTimeoutMs: opts.connectTimeoutMs ?? 3000,
  };
  const admin = createEventsAdmin(options);
  let kafkajs: ReturnType<typeof createKafkajs> | undefined;
  const consumerClient = () => (kafkajs ??= createKafkajs(options));
  /** A group's own session timeout, else KAFKA_SESSION_TIMEOUT_MS. */
  const withSession = <T extends { sessionTimeoutMs?: number | undefined }>(o: T): T => ({
    ...o,
    sessionTimeoutMs: o.sessionTimeoutMs ?? opts.sessionTimeoutMs,
  });
  return {
    admin,
    createProducer: () => createEventProducer(options),
    runBatchConsumer: (o) => runBatchConsumer(consumerClient(), withSession(o)),
    runDueConsumer: (o) => runDueConsumer(consumerClient(), withSession(o)),
    close: () => admin.close(),
  };
}
