// Fuzz suite (issue 16, "Bad input"), short version: a real `echocue serve --role ingest,actors,api` process takes
// signed but odd webhook bodies (test/fuzz/webhook-inputs.ts), refused signatures, and odd REST calls on every
// documented operation (test/fuzz/rest-inputs.ts). It must never crash or answer 5xx; every answer is a documented
// status with a documented body (the OpenAPI checker); a 4xx to Meta writes nothing (the raw topic holds exactly the
// bodies answered 200); the actors drain everything the ingest accepted (no event stuck in a retry loop); memory
// stays bounded. FUZZ_WEBHOOK_INPUTS and FUZZ_REST_CALLS set the counts (`make fuzz` runs a long version).
import { type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../harness/load/processes.ts';
import { createTenant } from '../../harness/load/tenant.ts';
import { topicNames } from '../../src/events/topics.ts';
import { inLanes } from '../../src/core/lanes.ts';
import { fixtures, testEnv, type TestEnv } from '../helpers/env.ts';
import { postFixture, postWebhook } from '../helpers/http.ts';
import { readTopic } from '../../harness/kafka.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';
import { exited, explainedBy, lastLogLines, serveProcess, healthzOf } from '../helpers/process.ts';
import { waitForActors } from '../../harness/topics.ts';
import { operationsOf, restCalls } from '../fuzz/rest-inputs.ts';
import { badSignatures, webhookInputs } from '../fuzz/webhook-inputs.ts';

const ADMIN = 'admin-token-for-the-fuzz-suite';
const WABA_A = '104719385562013';
const WABA_B = '500000000000777';
const WEBHOOK_INPUTS = Number(process.env['FUZZ_WEBHOOK_INPUTS'] ?? 250);
const REST_CALLS = Number(process.env['FUZZ_REST_CALLS'] ?? 300);
/** Resident memory the process may reach (it holds a 3 MiB body at most a few at a time). */
const RSS_LIMIT_BYTES = 1.5 * 1024 ** 3;

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

describe('fuzz: odd input never crashes the process, never answers 5xx, never writes half', () => {
  let env: TestEnv;
  let child: ChildProcess;
  let url = '';
  let api: OpenApiChecker;
  const keys = { a: '', b: '' };
  const accepted: Buffer[] = [];
  let peakRss = 0;
  const sampleRss = () => {
    peakRss = Math.max(peakRss, rssOf(child.pid!));
  };

  beforeAll(async () => {
    env = testEnv();
    const port = await freePort();
    child = serveProcess(env, 'ingest,actors,api', {
      PORT: String(port),
      ADMIN_TOKEN: ADMIN,
      API_RATE_LIMIT: '1000000',
      LOG_LEVEL: 'warn',
    });
    url = `http://127.0.0.1:${port}`;
    await healthzOf(child, url);
    keys.a = (await createTenant(url, ADMIN, [WABA_A])).key;
    keys.b = (await createTenant(url, ADMIN, [WABA_B])).key;
    api = await openApiChecker(url);
    // Real data first, so odd calls meet real documents.
    for (const f of fixtures()) {
      expect((await postFixture(url, f)).status).toBe(200);
      accepted.push(f.body);
    }
    await waitForActors(env.config, 120_000);
  }, 240_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await exited(child);
    }
    await env?.cleanup();
  });

  test(
    `${WEBHOOK_INPUTS} signed odd bodies: 200 (kept, raw when odd) or a clear 4xx, never a 5xx Meta would retry forever`,
    { timeout: 600_000 },
    async () => {
      const inputs = webhookInputs(WEBHOOK_INPUTS);
      const answers = new Map<number, number>();
      const wrong: string[] = [];
      await inLanes(inputs, 4, async (input) => {
        const res = await postWebhook(url, input.body, input.headers);
        answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
        if (res.status === 200) accepted.push(input.body);
        else if (![400, 413].includes(res.status) || typeof res.json?.['error']?.code !== 'string')
          wrong.push(`${input.name}: ${res.status} ${res.text.slice(0, 200)}`);
      });
      sampleRss();
      console.log(
        `fuzz: ${inputs.length} signed odd webhook bodies: ${[...answers]
          .sort()
          .map(([s, n]) => `${n} x ${s}`)
          .join(', ')}`,
      );
      expect(wrong, lastLogLines(child)).toEqual([]);
      expect(child.exitCode).toBeNull();
    },
  );

  test('refused signatures: all 401, nothing written', async () => {
    const body = fixtures()[0]!.body;
    for (const s of badSignatures(body)) {
      const res = await postWebhook(url, body, s.headers);
      expect([s.name, res.status, res.json?.['error']?.code]).toEqual([
        s.name,
        401,
        expect.stringMatching(/^EC_SIGNATURE_(MISSING|INVALID)$/),
      ]);
    }
  });

  test(
    `${REST_CALLS} odd REST calls on every documented operation: documented statuses and bodies, never data of another tenant, never 5xx`,
    { timeout: 600_000 },
    async () => {
      const list = await api.call('GET', `${url}/api/thread/list?limit=100`, { key: keys.a });
      const known = [
        ...list.json.data.flatMap((t: { id: string; contact: { id: string; wa_id: string | null } }) => [
          t.id,
          t.contact.id,
          t.contact.wa_id ?? '',
        ]),
        ...(await api.call('GET', `${url}/api/template/list?limit=100`, { key: keys.a })).json.data.map((t: { id: string }) => t.id),
      ].filter(Boolean);
      const calls = restCalls(operationsOf(api.doc as never), REST_CALLS, known);
      const wrong: string[] = [];
      const statuses = new Map<number, number>();
      await inLanes(calls, 4, async (c) => {
        const qs = new URLSearchParams(c.query).toString();
        const key = { key: keys.a, other: keys.b, none: undefined, garbage: 'ec_live_not-a-key', admin: ADMIN }[c.auth];
        try {
          const res = await api.call(c.method, `${url}${c.path}${qs ? `?${qs}` : ''}`, {
            ...(key ? { key } : {}),
            ...(c.body === undefined ? {} : { body: c.body }),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500) wrong.push(`${c.name}: ${res.status} ${res.text.slice(0, 200)}`);
          // Another tenant's ids are never answered with data (tenant B owns no WhatsApp data at all).
          if (c.auth === 'other' && c.method === 'GET' && res.status === 200 && JSON.stringify(res.json).includes(WABA_A))
            wrong.push(`${c.name}: tenant B read tenant A's data`);
        } catch (err) {
          wrong.push(`${c.name} (${c.auth}, query ${qs.slice(0, 80)}): ${(err as Error).message.slice(0, 300)}`);
        }
      });
      sampleRss();
      console.log(
        `fuzz: ${calls.length} odd REST calls over ${new Set(calls.map((c) => c.name.split(' ')[0])).size} operations: ${[...statuses]
          .sort()
          .map(([s, n]) => `${n} x ${s}`)
          .join(', ')}`,
      );
      expect(wrong, lastLogLines(child)).toEqual([]);
    },
  );

  test('a U+0000 in a path parameter, a query parameter or a body field is a 400 naming it (it was a 500 from the store)', async () => {
    const cases: [string, string, unknown, string][] = [
      ['GET', '/api/contact/a%00b', undefined, 'id'],
      ['GET', '/api/thread/list?cursor=%00', undefined, 'cursor'],
      ['POST', '/api/webhooks/deliveries/%00/replay', undefined, 'id'],
      ['POST', '/api/webhooks/endpoints', { url: 'https://example.com/\u0000', events: ['message.inbound'] }, 'url'],
    ];
    for (const [method, path, body, parameter] of cases) {
      const res = await api.call(method, `${url}${path}`, { key: keys.a, ...(body === undefined ? {} : { body }) });
      expect([path, res.status, res.json.error.code, res.json.error.details?.parameter]).toEqual([path, 400, 'EC_BAD_REQUEST', parameter]);
    }
  });

  test(
    'afterwards: alive and ready, memory bounded, the actors drained, the raw topic holds exactly the bodies answered 200',
    { timeout: 300_000 },
    async () => {
      expect(child.exitCode).toBeNull();
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      await explainedBy(child, () => waitForActors(env.config, 240_000));
      sampleRss();
      console.log(`fuzz: peak resident memory ${Math.round(peakRss / 1024 ** 2)} MiB`);
      expect(peakRss).toBeLessThan(RSS_LIMIT_BYTES);
      const raw = await readTopic(env.config, topicNames(env.config.kafka.topicPrefix).raw);
      const key = (b: Buffer) => b.toString('base64');
      const want = new Map<string, number>();
      for (const b of accepted) want.set(key(b), (want.get(key(b)) ?? 0) + 1);
      const got = new Map<string, number>();
      for (const r of raw) got.set(key(r.value), (got.get(key(r.value)) ?? 0) + 1);
      expect(raw.length).toBe(accepted.length);
      expect([...got].filter(([k, n]) => want.get(k) !== n)).toEqual([]);
    },
  );
});
