// `echocue serve --role X` as child processes for the memory bench: the env built from a Config, the URL read from
// the start-up log line, RSS sampled from /proc/<pid>/status, Prometheus counters read from /metrics.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Config } from '../../src/config/index.ts';
import { configEnv } from '../../harness/load/processes.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** The environment that makes `loadConfig` give back `config` (with PORT=0), plus `extra`. */
export function envOf(config: Config, extra: Record<string, string> = {}): Record<string, string> {
  // LOG_LEVEL info: the "EchoCue is running" line carries the URL; nothing logs per request at info.
  return {
    PATH: process.env['PATH'] ?? '',
    ...configEnv(config, { HOST: config.http.host, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'info', ...extra }),
  };
}

export type Child = {
  role: string;
  proc: ChildProcess;
  pid: number;
  /** Resolves with the child's base URL once it is serving. */
  ready: Promise<string>;
  /** Resolves with the base URL of the child's metrics listener (METRICS_PORT) once it is serving. */
  metricsUrl: Promise<string>;
  /** The last lines it wrote to stderr (and non-JSON stdout), for error messages. */
  tail: string[];
  /** A full garbage collection in the child, through its inspector (V8's HeapProfiler.collectGarbage); no flag or
   *  hook in EchoCue's own code. Resolves once the child reports it done. */
  forceGc(): Promise<void>;
  stop(): Promise<void>;
};

export function serveChild(role: string, env: Record<string, string>): Child {
  // The inspector listens on a free loopback port; its address is printed on stderr ("Debugger listening on ws://...").
  const proc = spawn(process.execPath, ['--inspect=127.0.0.1:0', MAIN, 'serve', '--role', role], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let inspector: string | null = null;
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line.slice(0, 500));
    if (tail.length > 20) tail.shift();
  };
  let metricsResolve!: (u: string) => void;
  const metricsUrl = new Promise<string>((resolve) => (metricsResolve = resolve));
  const ready = new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string; metricsUrl?: string; level?: number };
          if (entry.msg === 'EchoCue is running' && entry.url) {
            if (entry.metricsUrl) metricsResolve(entry.metricsUrl);
            resolve(entry.url);
          }
          if ((entry.level ?? 0) >= 40) keep(line);
        } catch {
          keep(line);
        }
      }
    });
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        const ws = /Debugger listening on (ws:\/\/\S+)/.exec(line);
        if (ws) inspector = ws[1]!;
        else if (!line.startsWith('For help, see')) keep(line);
      }
    });
    proc.once('exit', (code, signal) =>
      reject(new Error(`echocue serve --role ${role} exited (${code ?? signal}) before serving: ${tail.join(' | ')}`)),
    );
  });
  ready.catch(() => undefined);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    role,
    proc,
    pid: proc.pid!,
    ready,
    metricsUrl,
    tail,
    async forceGc() {
      if (!inspector) throw new Error(`no inspector address from ${role}`);
      const ws = new WebSocket(inspector);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          ws.close();
          reject(new Error(`${role}: no answer to collectGarbage within 30 s`));
        }, 30_000);
        ws.onerror = () => {
          clearTimeout(timer);
          reject(new Error(`${role}: inspector connection failed`));
        };
        ws.onopen = () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
        ws.onmessage = (m) => {
          if ((JSON.parse(String(m.data)) as { id?: number }).id !== 1) return;
          clearTimeout(timer);
          ws.close();
          resolve();
        };
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** VmRSS and VmHWM (peak) of a process in bytes; null once it is gone. */
export function rssOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** The sum of a Prometheus counter over its labels, read from `${url}/metrics` (the child's metrics listener). */
export async function counterOf(url: string, name: string): Promise<number> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}
