// Logs by default carry no phone number and no message text, and every request's lines name its request id
// (issue 17). Ingest, actors and API run at LOG_LEVEL=debug (the most they say) into a captured destination; every
// Meta fixture is posted (texts, captions, contacts cards, statuses, number changes), a refused POST too, and API
// reads with a phone number in the path, found and not found. The captured text is then searched for each phone
// number, message text and wamid (which encodes the phone number) of the fixtures.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { createLogger } from '../../src/core/log.ts';
import { fixtures, testEnv, type TestEnv } from '../helpers/env.ts';
import { postFixture, postWebhook } from '../helpers/http.ts';
import { waitForActors } from '../../harness/topics.ts';

const ADMIN = 'admin-token-for-log-tests';
const WABA = '104719385562013';

const PHONE_KEYS = new Set(['wa_id', 'display_phone_number', 'from', 'recipient_id', 'phone', 'message_template_button_phone_number']);
const TEXT_KEYS = new Set(['body', 'caption', 'text', 'first_name', 'last_name', 'formatted_name', 'email', 'address']);

/** Every string of the fixtures under a phone or text key (long enough not to match by chance), and every wamid. */
function secretsOf(bodies: readonly Buffer[]): { phones: Set<string>; texts: Set<string>; wamids: Set<string> } {
  const out = { phones: new Set<string>(), texts: new Set<string>(), wamids: new Set<string>() };
  const walk = (v: unknown, key: string) => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v !== null && typeof v === 'object') Object.entries(v).forEach(([k, x]) => walk(x, k));
    else if (typeof v === 'string') {
      if (v.startsWith('wamid.')) out.wamids.add(v);
      else if (PHONE_KEYS.has(key) && /\d{6,}/.test(v)) out.phones.add(v);
      else if (TEXT_KEYS.has(key) && v.length >= 8) out.texts.add(v);
    }
  };
  for (const b of bodies) walk(JSON.parse(b.toString('utf8')), '');
  return out;
}

describe('logs > no phone number or message text by default; request ids on every request line', () => {
  let env: TestEnv;
  let system: RunningSystem;
  const lines: string[] = [];
  const logText = () => lines.join('');

  beforeAll(async () => {
    env = testEnv({ ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'debug' });
    const log = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log });
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    await env?.cleanup();
  });

  test(
    'every fixture posted and applied, API reads by wa_id: none of their phone numbers, texts or wamids is logged',
    { timeout: 180_000 },
    async () => {
      const admin = async (path: string, body?: unknown) =>
        (await (
          await fetch(`${system.url}/api/admin${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
            body: JSON.stringify(body ?? {}),
          })
        ).json()) as Record<string, any>;
      const acc = await admin('/accounts', { name: 'Log clinic' });
      await admin(`/accounts/${acc['id']}/wabas`, { waba_id: WABA });
      const key = (await admin(`/accounts/${acc['id']}/keys`))['key'] as string;
      expect(key).toMatch(/\S/);

      const all = fixtures();
      for (const f of all) expect((await postFixture(system.url, f)).status, f.file).toBe(200);
      // Refused: the error middleware's line (a bad signature over a body full of phone numbers).
      expect((await postWebhook(system.url, all[0]!.body, { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` })).status).toBe(401);
      await waitForActors(env.config);

      const { phones, texts, wamids } = secretsOf(all.map((f) => f.body));
      expect(phones.size).toBeGreaterThan(3);
      expect(texts.size).toBeGreaterThan(10);
      // The API with a phone number in the path: a contact found, one not found (404 names it to the caller).
      const get = (path: string) => fetch(`${system.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      const wa = [...phones][0]!;
      expect([200, 404]).toContain((await get(`/api/contact/${wa}`)).status);
      expect((await get('/api/contact/15550000000199')).status).toBe(404);
      expect((await get(`/api/whatsapp/window?phone_number_id=112356789045671&contact=${wa}`)).status).toBeLessThan(500);

      // The logs said something (debug: requests, batches) and none of it is a phone number, text or wamid.
      const text = logText();
      expect(text).toMatch(/"msg":"applied batch"/);
      expect(text).toMatch(/"msg":"webhook accepted"/);
      const leaked = [...phones, '15550000000199', ...texts, ...wamids].filter(
        (s) => text.includes(s) || text.includes(JSON.stringify(s).slice(1, -1)),
      );
      expect(leaked).toEqual([]);
    },
  );

  test('a request id is answered in X-Request-Id and names the lines of that request; one that is not a sane token is replaced', async () => {
    const sent = await postFixture(system.url, fixtures()[0]!);
    const generated = sent.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);

    const mine = 'lb-7f3a9c.0001';
    const own = await fetch(`${system.url}/api/thread/list`, { headers: { 'x-request-id': mine } });
    expect(own.status).toBe(401);
    expect(own.headers.get('x-request-id')).toBe(mine);

    const insane = 'call me "maybe" 15550199001';
    const replaced = await fetch(`${system.url}/api/thread/list`, { headers: { 'x-request-id': insane } });
    expect(replaced.headers.get('x-request-id')).not.toBe(insane);

    const byId = (id: string) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['requestId'] === id);
    expect(byId(generated!).map((l) => l['msg'])).toEqual(expect.arrayContaining(['webhook accepted', 'request']));
    expect(byId(mine).map((l) => l['msg'])).toEqual(expect.arrayContaining(['request refused: EC_UNAUTHENTICATED', 'request']));
    expect(byId(mine).find((l) => l['msg'] === 'request')).toMatchObject({ method: 'GET', route: '/api/thread/list', status: 401 });
    expect(byId(replaced.headers.get('x-request-id')!)).not.toEqual([]);
    expect(logText()).not.toContain('call me');
  });
});
