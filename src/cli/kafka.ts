// The Kafka side as every entry point (`echocue serve`, `create-topics`, `tail`) builds it from the Config: one
// place, so the command that creates the topics cannot create them differently from start-up.
import { type Config } from '../config/index.ts';
import { type Logger } from '../core/log.ts';
import { createKafkaEvents } from '../events/kafka/index.ts';
import { type Events, type TopicSettings } from '../events/port.ts';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { schemasByTopic } from '../events/avro-schemas.ts';
import { createEventSerde, type EventSerde } from '../events/serde.ts';
import { type Topics } from '../events/topics.ts';

export function kafkaEventsOf(config: Config, log: Logger): Events {
  return createKafkaEvents({
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    requestTimeoutMs: config.kafka.requestTimeoutMs,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    log,
  });
}

/** The settings of the topics EchoCue creates (KAFKA_PARTITIONS, KAFKA_REPLICATION_FACTOR, KAFKA_MIN_INSYNC_REPLICAS). */
export const topicSettingsOf = (config: Config): TopicSettings => ({
  partitions: config.kafka.partitions,
  replicationFactor: config.kafka.replicationFactor,
  minInsyncReplicas: config.kafka.minInsyncReplicas,
});

/** The Avro serde over the schema registry (SCHEMA_REGISTRY_URL); registers EchoCue's schemas (idempotent). */
export function eventSerdeOf(config: Config, topics: Topics): Promise<EventSerde> {
  const registry = new SchemaRegistryClient({ baseURLs: [config.registry.url], maxRetries: 2, retriesWaitMs: 200 });
  return createEventSerde(registry, schemasByTopic(topics));
}
