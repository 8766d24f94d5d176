// A Kafka broker of the test's own (same recipe as the local stack, other ports and data), for tests that stop
// and restart the broker without disturbing the shared one other test files use.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './services.ts';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** `advertisedPort`: the port the broker tells clients to connect to (a proxy the test puts in front of it). */
export async function startPrivateKafka(opts: { advertisedPort?: number } = {}) {
  const state = mkdtempSync(join(tmpdir(), 'echocue-kafka-'));
  const env = {
    ...process.env,
    ECHOCUE_STACK_STATE: state,
    ECHOCUE_LOCAL_KAFKA_PORT: String(await freePort()),
    ECHOCUE_LOCAL_KAFKA_CONTROLLER_PORT: String(await freePort()),
    ...(opts.advertisedPort ? { ECHOCUE_LOCAL_KAFKA_ADVERTISED_PORT: String(opts.advertisedPort) } : {}),
  };
  const stack = (...args: string[]) => run(join(ROOT, 'deploy/local/stack.sh'), args, { env, maxBuffer: 8 * 1024 * 1024 });
  const start = () => stack('up', 'kafka');
  const stop = () => stack('down', 'kafka');
  await start();
  return {
    brokers: `127.0.0.1:${env.ECHOCUE_LOCAL_KAFKA_PORT}`,
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(state, { recursive: true, force: true });
    },
  };
}
