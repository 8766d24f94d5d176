// A real HTTP receiver on 127.0.0.1 for outbound webhook tests: each path answers by a script (a list of
// behaviours, the last one repeating), and every request is recorded with its arrival time, headers and body.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

export type Behaviour = { status: number; body?: string; headers?: Record<string, string> } | 'hang';
export type Received = { path: string; at: number; headers: IncomingMessage['headers']; body: string; answered: number | 'hang' };

export async function startReceiver() {
  const scripts = new Map<string, Behaviour[]>();
  const counts = new Map<string, number>();
  const received: Received[] = [];
  const hanging = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const n = counts.get(path) ?? 0;
      counts.set(path, n + 1);
      const script = scripts.get(path) ?? [{ status: 404 }];
      const b = script[Math.min(n, script.length - 1)]!;
      received.push({ path, at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered: b === 'hang' ? 'hang' : b.status });
      if (b === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(b.status, { 'content-type': 'text/plain', ...b.headers }).end(b.body ?? `answer ${b.status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    received,
    /** Sets what a path answers from now on (its request count starts over). */
    script(path: string, behaviours: Behaviour[]) {
      scripts.set(path, behaviours);
      counts.set(path, 0);
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
