// A real `echocue serve --role ...` process on a test's services, for tests that kill it.
import { spawn, type ChildProcess } from 'node:child_process';
import { FIXTURE_SECRET, type TestEnv } from './env.ts';
import { ROOT } from './services.ts';

export function serveProcess(env: TestEnv, role: string, extraEnv: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [`${ROOT}src/cli/main.ts`, 'serve', '--role', role], {
    env: {
      PATH: process.env['PATH'] ?? '',
      KAFKA_BROKERS: env.config.kafka.brokers.join(','),
      MONGODB_URI: env.config.mongo.uri,
      SCHEMA_REGISTRY_URL: env.config.registry.url,
      KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix,
      KAFKA_PARTITIONS: String(env.config.kafka.partitions),
      META_APP_SECRET: FIXTURE_SECRET,
      PORT: '0',
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export const exited = (p: ChildProcess) =>
  new Promise<void>((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : p.once('exit', () => resolve())));
