// A loopback TCP proxy a test controls, standing between EchoCue and one service: `hang()` makes the service
// stop answering (connections stay open, nothing passes: the failure mode of a stuck store), `restore()` makes it
// answer again (connections from the hang are closed, as a restarted service would); `slow(ms)` holds back every
// answer by that long (each round trip through the proxy takes at least `ms`: a slow store). Loopback only.
import { createServer, connect, type Server, type Socket } from 'node:net';

export type TcpProxy = { port: number; hang(): void; restore(): void; slow(ms: number): void; close(): Promise<void> };

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let hanging = false;
  let delayMs = 0;
  const live = new Set<Socket>();
  const hung = new Set<Socket>();
  const server: Server = createServer((client) => {
    live.add(client);
    client.on('close', () => {
      live.delete(client);
      hung.delete(client);
    });
    client.on('error', () => undefined);
    if (hanging) {
      hung.add(client); // accepted, never answered
      client.on('data', () => undefined);
      return;
    }
    const upstream = connect(target.port, target.host);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    // While hanging, bytes are dropped in both directions (the connection looks alive and says nothing).
    client.on('data', (b) => {
      if (!hanging) upstream.write(b);
      else hung.add(client);
    });
    // Answers held back keep their order: timers of one delay fire in the order they were set, and a later
    // answer never goes out before one held back longer.
    let sendAt = 0;
    upstream.on('data', (b) => {
      if (hanging) return void hung.add(client);
      if (delayMs === 0 && sendAt <= Date.now()) return void client.write(b);
      sendAt = Math.max(sendAt, Date.now() + delayMs);
      setTimeout(() => {
        if (!hanging && !client.destroyed) client.write(b);
      }, sendAt - Date.now());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    hang() {
      hanging = true;
      for (const s of live) hung.add(s);
    },
    slow(ms: number) {
      delayMs = ms;
    },
    restore() {
      hanging = false;
      for (const s of hung) s.destroy();
      hung.clear();
    },
    async close() {
      for (const s of live) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
