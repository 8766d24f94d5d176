// The webhook sender against real HTTP servers on 127.0.0.1 (and a TCP probe on 127.0.0.2): what the receiver gets,
// how each failure is classified, the response cap, and the SSRF guard before and at connect time.
import { createHmac } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { buildEnvelope, signatureHeaders, verifySignature } from '../../src/delivery/envelope.ts';
import { createSender, type HttpSender } from '../../src/delivery/send.ts';
import { type Resolver } from '../../src/delivery/ssrf-guard.ts';

const ALLOW = ['127.0.0.1/32'];
const SECRET = 'whsec_integration-secret';
const TIMEOUT_MS = 300;

type Received = { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer };
type Receiver = {
  url: string;
  port: number;
  received: Received[];
  connections: number;
  /** Resolves when the socket of the first request closes (the sender hung up). */
  firstSocketClosed: Promise<void>;
  close(): Promise<void>;
};

const receivers: Receiver[] = [];

/** A real node:http server on 127.0.0.1:0 that records every request (raw body included), then calls `respond`. */
async function receiver(respond: (req: Received, res: ServerResponse) => void): Promise<Receiver> {
  let socketClosed!: () => void;
  const firstSocketClosed = new Promise<void>((resolve) => (socketClosed = resolve));
  const r = { received: [] as Received[], connections: 0 } as Receiver;
  const server = createServer((req: IncomingMessage, res) => {
    if (r.received.length === 0) req.socket.once('close', () => socketClosed());
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      r.received.push(got);
      respond(got, res);
    });
  });
  server.on('connection', () => r.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(r, {
    url: `http://127.0.0.1:${port}`,
    port,
    firstSocketClosed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  receivers.push(r);
  return r;
}

function signed(eventId = 'evt_send_1', attempt = 1) {
  const { body } = buildEnvelope({
    id: eventId,
    category: 'message.status',
    createdAt: new Date('2026-03-01T12:00:00Z'),
    data: { status: 'delivered', text: 'olá' },
  });
  return { body, headers: signatureHeaders({ body, secret: SECRET, eventId, timestamp: new Date(), attempt }) };
}

/** Counts undici requests and connect attempts towards `hostname` while `fn` runs (undici's diagnostics channels). */
async function undiciActivity<T>(hostname: string, fn: () => Promise<T>): Promise<{ result: T; requests: number; connects: number }> {
  let requests = 0;
  let connects = 0;
  const onRequest = (m: unknown) => {
    if (String((m as { request: { origin: unknown } }).request.origin).includes(hostname)) requests++;
  };
  const onConnect = (m: unknown) => {
    if ((m as { connectParams: { hostname: string } }).connectParams.hostname === hostname) connects++;
  };
  subscribe('undici:request:create', onRequest);
  subscribe('undici:client:beforeConnect', onConnect);
  try {
    return { result: await fn(), requests, connects };
  } finally {
    unsubscribe('undici:request:create', onRequest);
    unsubscribe('undici:client:beforeConnect', onConnect);
  }
}

describe('delivery > send', () => {
  let sender: HttpSender;
  beforeAll(() => {
    sender = createSender({ timeoutMs: TIMEOUT_MS, allow: ALLOW });
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  afterAll(async () => {
    await sender?.close();
  });

  test('a 2xx is a success, and the receiver gets the exact body and headers, verifiable by signature', async () => {
    const r = await receiver((_, res) => res.writeHead(202, { 'content-type': 'text/plain' }).end('thanks'));
    const { body, headers } = signed('evt_ok', 2);
    const out = await sender.send(`${r.url}/hooks/echocue?tenant=a%20b`, body, headers);

    expect(out).toEqual({
      ok: true,
      status_code: 202,
      latency_ms: expect.any(Number),
      error: null,
      error_code: null,
      response_body: 'thanks',
      retry_after_ms: null,
      directive: null,
    });
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(r.received).toHaveLength(1);
    const got = r.received[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/hooks/echocue?tenant=a%20b');
    expect(got.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(got.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'EchoCue-Webhooks/1',
      'content-length': String(Buffer.byteLength(body)),
      'x-echocue-event-id': 'evt_ok',
      'x-echocue-attempt': '2',
      'x-echocue-timestamp': headers['X-EchoCue-Timestamp'],
      'x-echocue-signature': headers['X-EchoCue-Signature'],
    });
    const signature = got.headers['x-echocue-signature'] as string;
    expect(verifySignature(got.body, signature, SECRET)).toBe(true);
    expect(signature).toBe(`sha256=${createHmac('sha256', SECRET).update(got.body).digest('hex')}`);
    expect(verifySignature(got.body, signature, 'another-secret')).toBe(false);
  });

  test('a 500 is an http_status failure with the status and body captured', async () => {
    const r = await receiver((_, res) => res.writeHead(500).end('{"error":"db down"}'));
    const { body, headers } = signed();
    const out = await sender.send(r.url, body, headers);
    expect(out).toMatchObject({
      ok: false,
      status_code: 500,
      error_code: 'http_status',
      error: 'HTTP 500',
      response_body: '{"error":"db down"}',
      retry_after_ms: null,
    });
  });

  test('responses read to their end leave connections pooled: five sends do not open five connections', async () => {
    const r = await receiver((_, res) => res.writeHead(200).end('ok'));
    const { body, headers } = signed();
    for (let i = 0; i < 5; i++) expect((await sender.send(r.url, body, headers)).ok).toBe(true);
    expect(r.received).toHaveLength(5);
    // Not exactly 1: undici hands the socket back a moment after the body ends, so a back-to-back send may open a second.
    expect(r.connections).toBeLessThan(5);
  });

  test('a 1 MB response body is captured as exactly its first 20 KB', async () => {
    const full = Buffer.from(Array.from({ length: (1024 * 1024) / 8 }, (_, i) => i.toString(16).padStart(8, '0')).join(''));
    expect(full.length).toBe(1024 * 1024);
    const r = await receiver((_, res) => res.writeHead(200, { 'content-length': full.length }).end(full));
    const { body, headers } = signed();
    const out = await sender.send(r.url, body, headers);
    expect(out.ok).toBe(true);
    expect(out.response_body).toHaveLength(20 * 1024);
    expect(out.response_body).toBe(full.subarray(0, 20 * 1024).toString('utf8'));
  });

  test('a receiver streaming forever does not hold the sender: 20 KB kept, then the connection is dropped', async () => {
    let written = 0;
    const r = await receiver((_, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(4096, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const { body, headers } = signed();
    const out = await sender.send(r.url, body, headers);
    expect(out).toMatchObject({ ok: true, status_code: 200, error_code: null, response_body: 'x'.repeat(20 * 1024) });
    await r.firstSocketClosed; // the test would time out if the sender kept the connection
    expect(written).toBeGreaterThan(0);
  });

  /** Answers `res` once `after` resolves, noting in `events`, in order, whether the sender hung up first. */
  function answerLater(res: ServerResponse, after: Promise<unknown>, answer: (res: ServerResponse) => void, events: string[]) {
    res.once('close', () => {
      if (!res.writableEnded) events.push('sender hung up');
    });
    return after.then(() => {
      if (res.destroyed) return void events.push('answer found the request gone');
      events.push('answered');
      answer(res);
    });
  }

  // No bound on elapsed time here (the project bans timing assertions): the deadline is shown by what the sender
  // made of an answer that came after it (never used) and of one that came well before it (used).
  test('a receiver that answers only after timeoutMs: a timeout, the request aborted, the late answer never used', async () => {
    const events: string[] = [];
    let answered!: Promise<void>;
    const r = await receiver((_, res) => {
      const late = new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS * 3));
      answered = answerLater(res, late, (x) => x.writeHead(200).end('too late'), events);
    });
    const { body, headers } = signed();
    const out = await sender.send(r.url, body, headers);
    expect(out).toMatchObject({ ok: false, status_code: null, error_code: 'timeout', response_body: null });
    expect(out.error).toContain(`${TIMEOUT_MS} ms`);
    expect(r.received).toHaveLength(1); // it did get the request
    await r.firstSocketClosed;
    await answered;
    expect(events).toEqual(['sender hung up', 'answer found the request gone']);
  });

  test('an answer that comes before timeoutMs is used: the deadline is not cut short', async () => {
    const patient = createSender({ timeoutMs: TIMEOUT_MS * 10, allow: ALLOW });
    try {
      const events: string[] = [];
      const r = await receiver((_, res) => {
        const soon = new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS));
        void answerLater(res, soon, (x) => x.writeHead(200).end('in time'), events);
      });
      const { body, headers } = signed();
      const out = await patient.send(r.url, body, headers);
      expect(out).toMatchObject({ ok: true, status_code: 200, error_code: null, response_body: 'in time' });
      expect(events).toEqual(['answered']);
    } finally {
      await patient.close();
    }
  });

  test('2xx headers followed by a body that stalls past timeoutMs is response_too_slow, keeping what arrived', async () => {
    const events: string[] = [];
    let rest!: Promise<void>;
    const r = await receiver((_, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      const late = new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS * 3));
      rest = answerLater(res, late, (x) => x.end(' and the rest'), events);
    });
    const { body, headers } = signed();
    const out = await sender.send(r.url, body, headers);
    expect(out).toMatchObject({ ok: false, status_code: 200, error_code: 'response_too_slow', response_body: 'partial' });
    await rest;
    expect(events).toEqual(['sender hung up', 'answer found the request gone']); // the rest of the body never read
  });

  test('a 302 is a redirect failure and its Location target receives nothing', async () => {
    const target = await receiver((_, res) => res.writeHead(200).end('should never be reached'));
    const r = await receiver((_, res) => res.writeHead(302, { location: `${target.url}/elsewhere` }).end());
    const { body, headers } = signed();
    const out = await sender.send(r.url, body, headers);
    expect(out).toMatchObject({ ok: false, status_code: 302, error_code: 'redirect', response_body: '' });
    expect(out.error).toContain(`${target.url}/elsewhere`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(target.connections).toBe(0);
    expect(target.received).toHaveLength(0);
  });

  test('a closed port is a connection failure', async () => {
    const r = await receiver(() => {});
    await r.close();
    const { body, headers } = signed();
    const out = await sender.send(r.url, body, headers);
    expect(out).toMatchObject({ ok: false, status_code: null, error_code: 'connection', response_body: null });
    expect(out.error).toContain('ECONNREFUSED');
  });

  test('a host whose DNS lookup fails is a connection failure, not a refusal', async () => {
    const resolve: Resolver = async (hostname) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    };
    const s = createSender({ timeoutMs: TIMEOUT_MS, allow: ALLOW, resolve });
    try {
      const out = await s.send('https://gone.example.test/hook', '{}', {});
      expect(out).toMatchObject({
        ok: false,
        error_code: 'connection',
        error: 'url host gone.example.test did not resolve to a usable address (ENOTFOUND)',
      });
    } finally {
      await s.close();
    }
  });

  test('webhook-delivery on a failure is read (abort-message, disable; case and list tolerant); ignored on a 2xx or when unknown', async () => {
    const answer = async (status: number, value: string | string[]) => {
      const r = await receiver((_, res) => res.writeHead(status, { 'webhook-delivery': value }).end());
      const { body, headers } = signed();
      return (await sender.send(r.url, body, headers)).directive;
    };
    expect(await answer(422, 'abort-message')).toBe('abort-message');
    expect(await answer(500, ' Abort-Message ')).toBe('abort-message');
    expect(await answer(410, 'disable')).toBe('disable');
    expect(await answer(500, 'abort-message, disable')).toBe('disable');
    expect(await answer(500, 'stop-please')).toBeNull();
    expect(await answer(200, 'abort-message')).toBeNull();
  });

  describe('Retry-After', () => {
    const NOW = new Date('2026-03-01T12:00:00Z');
    let fixed: HttpSender;
    beforeAll(() => {
      fixed = createSender({ timeoutMs: 2000, allow: ALLOW, clock: { now: () => NOW } });
    });
    afterAll(async () => {
      await fixed?.close();
    });

    async function retryAfter(status: number, value?: string): Promise<number | null> {
      const r = await receiver((_, res) => res.writeHead(status, value === undefined ? {} : { 'retry-after': value }).end());
      const { body, headers } = signed();
      const out = await fixed.send(r.url, body, headers);
      expect(out.status_code).toBe(status);
      return out.retry_after_ms;
    }

    test('429 with delta-seconds gives milliseconds', async () => {
      expect(await retryAfter(429, '7')).toBe(7000);
      expect(await retryAfter(429, '0')).toBe(0);
    });

    test('429 and 503 with an HTTP-date give the time until it (IMF-fixdate, RFC 850, asctime)', async () => {
      expect(await retryAfter(429, 'Sun, 01 Mar 2026 12:00:30 GMT')).toBe(30_000);
      expect(await retryAfter(503, 'Sunday, 01-Mar-26 12:02:00 GMT')).toBe(120_000);
      expect(await retryAfter(503, 'Sun Mar  1 12:00:05 2026')).toBe(5_000);
    });

    test('a date in the past or a negative delay clamps to 0', async () => {
      expect(await retryAfter(429, 'Sat, 28 Feb 2026 12:00:00 GMT')).toBe(0);
      expect(await retryAfter(503, '-5')).toBe(0);
    });

    test('null when absent, unparseable, or on any other status', async () => {
      expect(await retryAfter(429)).toBeNull();
      expect(await retryAfter(429, 'soon')).toBeNull();
      expect(await retryAfter(429, '1.5')).toBeNull();
      expect(await retryAfter(500, '7')).toBeNull();
      expect(await retryAfter(200, '7')).toBeNull();
    });
  });

  describe('SSRF guard', () => {
    test('a private IP literal is refused before any request or connection', async () => {
      const { result: out, requests, connects } = await undiciActivity('10.0.0.1', () => sender.send('https://10.0.0.1/hook', '{}', {}));
      expect(out).toMatchObject({ ok: false, status_code: null, error_code: 'ssrf_refused', response_body: null, retry_after_ms: null });
      expect(out.error).toBe('url host 10.0.0.1 is a private address (refused: server-side request forgery guard)');
      expect([requests, connects]).toEqual([0, 0]);
    });

    test('http://127.0.0.1 without an allow-list is refused and the server sees no connection', async () => {
      const r = await receiver((_, res) => res.writeHead(200).end());
      const strict = createSender({ timeoutMs: TIMEOUT_MS, allow: [] });
      try {
        const { result: out, requests, connects } = await undiciActivity('127.0.0.1', () => strict.send(r.url, '{}', {}));
        expect(out).toMatchObject({ ok: false, error_code: 'ssrf_refused' });
        expect(out.error).toContain('server-side request forgery guard');
        expect([requests, connects]).toEqual([0, 0]);
        expect(r.connections).toBe(0);
      } finally {
        await strict.close();
      }
    });

    /** A TCP listener on 127.0.0.2 that counts connections and hangs up at once. */
    async function probeOn127002(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
      let count = 0;
      const sockets: Socket[] = [];
      const server = createTcpServer((socket) => {
        count++;
        sockets.push(socket);
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
      return {
        port: (server.address() as AddressInfo).port,
        connections: () => count,
        close: () =>
          new Promise<void>((resolve) => {
            sockets.forEach((s) => s.destroy());
            server.close(() => resolve());
          }),
      };
    }

    /** Answers a public address for the first lookup (the pre-send check), 127.0.0.2 afterwards (the connect). */
    function rebinding(): Resolver & { calls: string[] } {
      const calls: string[] = [];
      const resolve = async (hostname: string) => {
        calls.push(hostname);
        return [{ address: calls.length === 1 ? '93.184.215.14' : '127.0.0.2', family: 4 }];
      };
      return Object.assign(resolve, { calls });
    }

    test('DNS that flips from a public IP to 127.0.0.2 between the check and the connect is refused at connect time', async () => {
      const probe = await probeOn127002();
      const resolve = rebinding();
      const s = createSender({ timeoutMs: 2000, allow: ALLOW, resolve });
      try {
        const out = await s.send(`https://rebind.example.test:${probe.port}/hook`, '{}', {});
        expect(out).toMatchObject({ ok: false, status_code: null, error_code: 'ssrf_refused', response_body: null });
        expect(out.error).toBe('url host rebind.example.test resolves to a loopback address (refused: server-side request forgery guard)'); // never the address
        expect(resolve.calls).toEqual(['rebind.example.test', 'rebind.example.test']); // checked, then re-checked at connect
        expect(probe.connections()).toBe(0);
      } finally {
        await s.close();
        await probe.close();
      }
    });

    test('control: with 127.0.0.2 allow-listed the same flip does connect, so the probe above would have seen it', async () => {
      const probe = await probeOn127002();
      const s = createSender({ timeoutMs: 2000, allow: ['127.0.0.2/32'], resolve: rebinding() });
      try {
        const out = await s.send(`https://rebind.example.test:${probe.port}/hook`, '{}', {});
        expect(out).toMatchObject({ ok: false, error_code: 'connection' }); // TLS to a socket that hangs up
        expect(probe.connections()).toBe(1);
      } finally {
        await s.close();
        await probe.close();
      }
    });
  });
});
