// Servers under test as child processes, so the load generator never shares an event loop with them: EchoCue
// (`node src/cli/main.ts serve --role ...` with the stage's config as environment) and the bare Koa baseline.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Config } from '../../src/config/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type ServerProcess = {
  url: string;
  pid: number;
  running(): boolean;
  output(): string;
  stop(): Promise<void>;
  kill(): Promise<void>;
};

/** A port that was free a moment ago (the child binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The environment that makes `echocue serve` use exactly this Config (the stage's topic prefix and database). */
export function configEnv(config: Config, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    KAFKA_TOPIC_PREFIX: config.kafka.topicPrefix,
    KAFKA_PARTITIONS: String(config.kafka.partitions),
    KAFKA_REPLICATION_FACTOR: String(config.kafka.replicationFactor),
    MONGODB_URI: config.mongo.uri,
    SCHEMA_REGISTRY_URL: config.registry.url,
    META_APP_SECRET: config.meta.appSecrets.join(','),
    META_VERIFY_TOKEN: config.meta.verifyToken,
    MASTER_KEY: config.secrets.masterKeys.map((k) => k.toString('base64')).join(','),
    INGEST_ACK_TIMEOUT_MS: String(config.ingest.ackTimeoutMs),
    KAFKA_CLIENT_ID: config.kafka.clientId,
    API_RATE_LIMIT: String(config.api.rateLimit.points),
    API_RATE_WINDOW_SECONDS: String(config.api.rateLimit.windowSeconds),
    DELIVERY_DELAY_SCALE: String(config.delivery.delayScale),
    DELIVERY_TIMEOUT_MS: String(config.delivery.timeoutMs),
    DELIVERY_ALLOW_CIDRS: config.delivery.allowCidrs.join(','),
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
    METRICS_PORT: String(config.metrics.port),
    ...extra,
  };
}

function spawnServer(args: string[], env: Record<string, string>, port: number, name: string): ServerProcess {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    running,
    output: () => `${name} (pid ${child.pid}): ${stderr.trim() || 'no output on stderr'}`,
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
    /** SIGKILL: no shutdown at all, as a crash. */
    async kill() {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Waits until GET /healthz answers 200 from this child (its pid in the answer: a port picked free a moment ago may
 *  have been taken by another process, whose answer must not pass for this one's); fails with the child's stderr
 *  when it exits or never answers. */
async function healthy(server: ServerProcess, timeoutMs = 60_000): Promise<ServerProcess> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && server.running()) {
    try {
      const res = await fetch(`${server.url}/healthz`);
      if (res.ok && ((await res.json()) as { pid?: number }).pid === server.pid) return server;
    } catch {
      /* not listening yet */
    }
    await sleep(200);
  }
  await server.stop();
  throw new Error(`server did not become healthy within ${timeoutMs} ms: ${server.output()}`);
}

/** EchoCue with the given roles on the stage's config, in its own Node process. */
export async function startEchoCue(
  config: Config,
  roles: string,
  extraEnv: Record<string, string> = {},
  fixedPort?: number,
): Promise<ServerProcess> {
  // A port picked free can be taken before the child binds it (EC_LISTEN_FAILED): then another one, a few times.
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await freePort());
    try {
      return await healthy(spawnServer(['src/cli/main.ts', 'serve', '--role', roles], configEnv(config, extraEnv), port, 'echocue'));
    } catch (err) {
      if (fixedPort !== undefined || attempt >= 3 || !String((err as Error).message).includes('EC_LISTEN_FAILED')) throw err;
    }
  }
}

/** The bare Koa baseline (bench/load/bare-koa.ts), in its own Node process. */
export async function startBareKoa(): Promise<ServerProcess> {
  const port = await freePort();
  return healthy(spawnServer(['bench/load/bare-koa.ts'], {}, port, 'bare-koa'));
}
