// The Kafka side as both entry points (`echocue serve` and `echocue create-topics`) build it from the Config: one
// place, so the command that creates the topics cannot create them differently from start-up.
import { type Config } from '../config/index.ts';
import { type Logger } from '../core/log.ts';
import { createKafkaEvents } from '../events/kafka/index.ts';
import { type Events, type TopicSettings } from '../events/port.ts';

export function kafkaEventsOf(config: Config, log: Logger): Events {
  return createKafkaEvents({
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    requestTimeoutMs: config.kafka.requestTimeoutMs,
    log,
  });
}

/** The settings of the topics EchoCue creates (KAFKA_PARTITIONS, KAFKA_REPLICATION_FACTOR, KAFKA_MIN_INSYNC_REPLICAS). */
export const topicSettingsOf = (config: Config): TopicSettings => ({
  partitions: config.kafka.partitions,
  replicationFactor: config.kafka.replicationFactor,
  minInsyncReplicas: config.kafka.minInsyncReplicas,
});
