// Issue 16, defect 7: stopping `echocue serve` (SIGTERM -> RunningSystem.stop) lets a webhook POST in flight finish
// and answers it, instead of resetting its connection; a request that never finishes is cut at SHUTDOWN_TIMEOUT_MS.
import { request } from 'node:http';
import { describe, expect, test } from 'vitest';
import { startSystem } from '../../src/cli/system.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { FIXTURE_SECRET, fixture, testEnv } from '../helpers/env.ts';
import { readAllEvents } from '../../harness/topics.ts';

/** A POST whose body is sent in two halves, the second only when `rest()` is called. */
function slowPost(url: string, body: Buffer, headers: Record<string, string>) {
  const u = new URL('/v1/whatsapp/webhook', url);
  let answered!: (r: { status: number } | { error: string }) => void;
  const result = new Promise<{ status: number } | { error: string }>((resolve) => (answered = resolve));
  const req = request(
    {
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(body.length) },
    },
    (res) => {
      res.resume();
      res.on('end', () => answered({ status: res.statusCode ?? 0 }));
    },
  );
  req.on('error', (err) => answered({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
  const half = Math.floor(body.length / 2);
  req.write(body.subarray(0, half));
  return { result, rest: () => req.end(body.subarray(half)) };
}

describe('cli > graceful shutdown', () => {
  test(
    'a webhook POST in flight when the system stops is finished and answered 200, and its events are on Kafka',
    { timeout: 60_000 },
    async () => {
      const env = testEnv();
      try {
        const system = await startSystem({ config: env.config, roles: ['ingest'], log: env.log });
        const f = fixture('messages.text.json');
        const post = slowPost(system.url, f.body, { 'x-hub-signature-256': f.signature });
        await new Promise((r) => setTimeout(r, 200));
        const stopped = system.stop();
        await new Promise((r) => setTimeout(r, 200));
        post.rest();
        expect(await post.result).toEqual({ status: 200 });
        await stopped;
        expect((await readAllEvents(env.config)).map((e) => e.eventType)).toContain('message.inbound');
      } finally {
        await env.cleanup();
      }
    },
  );

  test(
    'a request that never finishes is cut once SHUTDOWN_TIMEOUT_MS has passed, and the stop completes',
    { timeout: 60_000 },
    async () => {
      const env = testEnv({ SHUTDOWN_TIMEOUT_MS: '500' });
      try {
        const system = await startSystem({ config: env.config, roles: ['ingest'], log: env.log });
        const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
        const post = slowPost(system.url, body, { 'x-hub-signature-256': signBody(body, FIXTURE_SECRET) });
        await new Promise((r) => setTimeout(r, 200));
        await system.stop();
        expect(await post.result).toMatchObject({ error: expect.stringMatching(/ECONNRESET|socket hang up/) });
      } finally {
        await env.cleanup();
      }
    },
  );
});
