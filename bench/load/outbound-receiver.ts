// A lean webhook receiver on 127.0.0.1 for the outbound and memory benches: it reads each POST whole, answers at once
// with the status `answer(eventId, attempt)` picks, and keeps only what the figures need (arrival time, event id,
// attempt number, status). test/helpers/receiver.ts keeps every header and body, which would cost the bench
// process more than the thing measured at thousands of requests.
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

export type Arrival = { at: number; eventId: string; attempt: number; status: number; path: string };

/** The first arrival of each (event id, attempt), and how many arrived again (an attempt sent twice). */
export type ArrivalIndex = { first: Map<string, Arrival>; repeats: number };
export type Answer = (eventId: string, attempt: number, path: string) => number;

export type BenchReceiver = Awaited<ReturnType<typeof startBenchReceiver>>;

export async function startBenchReceiver(opts: { answer?: Answer } = {}) {
  let answer: Answer = opts.answer ?? (() => 200);
  const arrivals: Arrival[] = [];
  const index: ArrivalIndex = { first: new Map(), repeats: 0 };
  let onArrival: (a: Arrival) => void = () => {};
  const server: Server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const at = Date.now();
    req.on('data', () => {});
    req.on('end', () => {
      const eventId = String(req.headers['x-echocue-event-id'] ?? '');
      const attempt = Number(req.headers['x-echocue-attempt'] ?? 0);
      const path = (req.url ?? '/').split('?')[0]!;
      const status = answer(eventId, attempt, path);
      const a: Arrival = { at, eventId, attempt, status, path };
      arrivals.push(a);
      const k = `${eventId}|${attempt}`;
      if (index.first.has(k)) index.repeats++;
      else index.first.set(k, a);
      onArrival(a);
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': '2' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    base,
    arrivals,
    index,
    /** First arrivals of attempt `attempt` of events whose id starts with `prefix`. */
    firsts(prefix: string, attempt: number): Arrival[] {
      const out: Arrival[] = [];
      for (const a of index.first.values()) if (a.attempt === attempt && a.eventId.startsWith(prefix)) out.push(a);
      return out;
    },
    /** Arrivals (repeats included) of events whose id starts with `prefix`. */
    countOf(prefix: string): number {
      let n = 0;
      for (const a of arrivals) if (a.eventId.startsWith(prefix)) n++;
      return n;
    },
    setAnswer(fn: Answer) {
      answer = fn;
    },
    onArrival(fn: (a: Arrival) => void) {
      onArrival = fn;
    },
    /** Resolves true once `done()` holds (checked every 200 ms), false after `timeoutMs`. */
    until(done: () => boolean, timeoutMs: number): Promise<boolean> {
      return new Promise((resolve) => {
        const started = Date.now();
        const check = () => {
          if (done()) finish(true);
          else if (Date.now() - started >= timeoutMs) finish(false);
        };
        const tick = setInterval(check, 200);
        const finish = (ok: boolean) => {
          clearInterval(tick);
          resolve(ok);
        };
        check();
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
