// A real `echocue serve --role ...` process on a test's services, for tests that kill it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { FIXTURE_SECRET, waitFor, type TestEnv } from './env.ts';
import { ROOT } from './services.ts';

/** Log lines kept per child (LOG_LEVEL=warn by default: warnings and errors), printed if it exits on its own with a failure. */
const KEPT_LINES = 2000;
const runFile = promisify(execFile);

export function serveProcess(
  env: TestEnv,
  role: string,
  extraEnv: Record<string, string> = {},
  opts: { captureStderr?: boolean } = {},
): ChildProcess {
  const child = spawn(process.execPath, [`${ROOT}src/cli/main.ts`, 'serve', '--role', role], {
    env: {
      PATH: process.env['PATH'] ?? '',
      KAFKA_BROKERS: env.config.kafka.brokers.join(','),
      MONGODB_URI: env.config.mongo.uri,
      SCHEMA_REGISTRY_URL: env.config.registry.url,
      KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix,
      KAFKA_PARTITIONS: String(env.config.kafka.partitions),
      META_APP_SECRET: FIXTURE_SECRET,
      PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      // These children are the ones tests kill: a short session hands a killed member's partitions on within ~6 s
      // instead of the default 30 s (the wait that dominated the crash tests).
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', opts.captureStderr ? 'pipe' : 'inherit'],
  });
  // A child that fails on its own (a start-up step refused, a crash) would otherwise only show as a test waiting in
  // vain: its last log lines go to the test's stderr.
  const kept: string[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    kept.push(...lines.filter((l) => l.length > 0));
    kept.splice(0, Math.max(0, kept.length - KEPT_LINES));
  });
  logTails.set(child, kept);
  child.once('exit', (code, signal) => {
    if (signal === null && code !== 0)
      process.stderr.write(`echocue serve --role ${role} exited with code ${code}; its last log lines:\n${kept.join('\n')}\n`);
  });
  return child;
}

const logTails = new WeakMap<ChildProcess, string[]>();

/** The child's last log lines (warnings and errors), for a test's failure message. */
export const lastLogLines = (child: ChildProcess): string => (logTails.get(child) ?? []).join('\n') || '(none)';

/** Runs `fn`; if it fails, the error names the child's last log lines too. */
export async function explainedBy<T>(child: ChildProcess, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new Error(`${(err as Error).message}\nthe serve process's last log lines:\n${lastLogLines(child)}`, { cause: err });
  }
}

export const exited = (p: ChildProcess) =>
  new Promise<void>((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : p.once('exit', () => resolve())));

/** Runs the `echocue` command (bin/echocue.js) on a test's services to its end: its exit code and output. */
export async function runEchocue(
  env: TestEnv,
  args: readonly string[],
  opts: { timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await runFile(process.execPath, [`${ROOT}bin/echocue.js`, ...args], {
      env: {
        PATH: process.env['PATH'] ?? '',
        KAFKA_BROKERS: env.config.kafka.brokers.join(','),
        KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix,
        SCHEMA_REGISTRY_URL: env.config.registry.url,
        MONGODB_URI: env.config.mongo.uri,
      },
      timeout: opts.timeoutMs ?? 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Waits until GET /healthz at `url` answers 200 from `child` itself (the pid in its answer): a port picked free a
 *  moment ago may have been taken by another process, whose answer must not pass for this one's. */
export async function healthzOf(child: ChildProcess, url: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    async () => {
      try {
        const res = await fetch(`${url}/healthz`);
        return res.ok && ((await res.json()) as { pid?: number }).pid === child.pid ? true : undefined;
      } catch {
        return undefined; // not listening yet
      }
    },
    timeoutMs,
    `the EchoCue process (pid ${child.pid}) to answer ${url}/healthz`,
  );
}
