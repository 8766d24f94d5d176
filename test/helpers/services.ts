// Where the tests find Kafka, the MongoDB-wire store and the schema registry. Three paths, one suite:
//  1. KAFKA_BROKERS + MONGODB_URI + SCHEMA_REGISTRY_URL set: those services.
//  2. a Docker engine answers: testcontainers (Kafka, MongoDB, Apicurio Registry images).
//  3. otherwise: the local stack of deploy/local/stack.sh (real Kafka, FerretDB, Apicurio without Docker).
// A missing service is a failure with a clear message, never a silent skip.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type Services = {
  KAFKA_BROKERS: string;
  MONGODB_URI: string;
  SCHEMA_REGISTRY_URL: string;
  via: 'env' | 'testcontainers' | 'local-stack';
};

export type Started = { services: Services; stop(): Promise<void> };

function fromEnv(): Services | null {
  const { KAFKA_BROKERS, MONGODB_URI, SCHEMA_REGISTRY_URL } = process.env;
  if (KAFKA_BROKERS && MONGODB_URI && SCHEMA_REGISTRY_URL) return { KAFKA_BROKERS, MONGODB_URI, SCHEMA_REGISTRY_URL, via: 'env' };
  return null;
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function withTestcontainers(): Promise<Started> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { MongoDBContainer } = await import('@testcontainers/mongodb');
  const [kafka, mongo, registry] = await Promise.all([
    // Confluent Platform 8.0 is Apache Kafka 4.0 (7.9 was 3.9): the suite's brokers are Kafka 4 in KRaft mode.
    new KafkaContainer('confluentinc/cp-kafka:8.0.0').withKraft().start(),
    new MongoDBContainer('mongo:8.0').start(),
    new GenericContainer('apicurio/apicurio-registry:3.3.3')
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
      .start(),
  ]);
  return {
    services: {
      KAFKA_BROKERS: `${kafka.getHost()}:${kafka.getMappedPort(9093)}`,
      MONGODB_URI: `${mongo.getConnectionString()}/echocue?directConnection=true`,
      SCHEMA_REGISTRY_URL: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
      via: 'testcontainers',
    },
    async stop() {
      await Promise.all([kafka.stop(), mongo.stop(), registry.stop()]);
    },
  };
}

async function withLocalStack(): Promise<Started> {
  const stack = join(ROOT, 'deploy/local/stack.sh');
  const dir = mkdtempSync(join(tmpdir(), 'echocue-test-'));
  const record = join(dir, 'started');
  let out: string;
  try {
    ({ stdout: out } = await run(stack, ['up', '--record', record], { maxBuffer: 16 * 1024 * 1024 }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`the local stack (deploy/local/stack.sh up) did not start:\n${e.stderr ?? e.message}`);
  }
  const env = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  return {
    services: {
      KAFKA_BROKERS: env['KAFKA_BROKERS']!,
      MONGODB_URI: env['MONGODB_URI']!,
      SCHEMA_REGISTRY_URL: env['SCHEMA_REGISTRY_URL']!,
      via: 'local-stack',
    },
    async stop() {
      // Stops only what this run started: a stack the developer had up stays up.
      await run(stack, ['down', '--only', record]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startServices(): Promise<Started> {
  const env = fromEnv();
  if (env) return { services: env, stop: async () => undefined };
  if (await dockerAnswers()) return withTestcontainers();
  return withLocalStack();
}

export const readFixture = (name: string): Buffer => readFileSync(join(ROOT, '../shared/fixtures/meta', name));
