// A real HTTP receiver on 127.0.0.1 for outbound webhook tests: each path answers by a script (a list of
// behaviours, the last one repeating), and every request is recorded with its arrival time, headers and body.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

export type Behaviour = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | 'hang';
/** A script, or a choice of script by the request body (then run per event, like `perEvent`). */
export type Script = Behaviour[] | ((body: string) => Behaviour[]);
export type Received = {
  path: string;
  at: number;
  /** Arrival order among every request and hang-up this receiver saw (from 1). */
  seq: number;
  /** When the sender closed the connection before the answer was written: the order of that event (like `seq`). */
  hungUp: number | null;
  headers: IncomingMessage['headers'];
  body: string;
  answered: number | 'hang';
};

export async function startReceiver() {
  const scripts = new Map<string, Script>();
  /** Paths whose script runs per event (X-EchoCue-Event-Id) instead of per path. */
  const perEvent = new Set<string>();
  /** Requests received and not answered yet. */
  const pending = new Set<Received>();
  let onRequest: (r: Received) => void = () => {};
  const counts = new Map<string, number>();
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  let tick = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const counter = perEvent.has(path) ? `${path}|${String(req.headers['x-echocue-event-id'])}` : path;
      const n = counts.get(counter) ?? 0;
      counts.set(counter, n + 1);
      const body = Buffer.concat(chunks).toString('utf8');
      const chosen = scripts.get(path) ?? [{ status: 404 }];
      const script = typeof chosen === 'function' ? chosen(body) : chosen;
      const b = script[Math.min(n, script.length - 1)]!;
      const r: Received = {
        path,
        at: Date.now(),
        seq: ++tick,
        hungUp: null,
        headers: req.headers,
        body,
        answered: b === 'hang' ? 'hang' : b.status,
      };
      received.push(r);
      pending.add(r);
      res.once('close', () => {
        if (!res.writableEnded) r.hungUp = ++tick;
      });
      onRequest(r);
      if (b === 'hang') {
        hanging.add(res);
        return;
      }
      setTimeout(() => {
        pending.delete(r);
        if (!res.destroyed) res.writeHead(b.status, { 'content-type': 'text/plain', ...b.headers }).end(b.body ?? `answer ${b.status}`);
      }, b.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    received,
    /** Sets what a path answers from now on (its request count starts over). A function picks each event's
     *  script from its body, counting requests per event. */
    script(path: string, behaviours: Script, opts: { perEvent?: boolean } = {}) {
      scripts.set(path, behaviours);
      counts.set(path, 0);
      if (opts.perEvent || typeof behaviours === 'function') perEvent.add(path);
    },
    /** Requests that arrived but were not answered yet. */
    pending: () => [...pending],
    onRequest(fn: (r: Received) => void) {
      onRequest = fn;
    },
    at: (path: string) => received.filter((r) => r.path === path),
    async close() {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
