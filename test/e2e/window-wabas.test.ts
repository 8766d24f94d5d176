// Issue 16, defect 5: an account with several WABAs, one person writing to a number of each. The window of the
// first WABA's number is that number's thread with the first WABA's contact, even when the person's contact on the
// other WABA changed since (the route took the contact changed last, across WABAs, and answered open: false).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../src/cli/system.ts';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { FIXTURE_SECRET, testEnv, type TestEnv } from '../helpers/env.ts';
import { postWebhook } from '../helpers/http.ts';
import { openApiChecker, type OpenApiChecker } from '../helpers/openapi.ts';
import { waitForActors } from '../../harness/topics.ts';

const ADMIN = 'admin-token-for-window-tests';
const PERSON = '15554100001';
const NUMBERS = { '100000000000991': '199999999999991', '100000000000992': '199999999999992' } as const;
const T0 = Math.floor(Date.now() / 1000) - 600; // ten minutes ago: inside the 24-hour window

const text = (waba: keyof typeof NUMBERS, n: number) =>
  JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: waba,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550149900', phone_number_id: NUMBERS[waba] },
              contacts: [{ wa_id: PERSON, profile: { name: 'Eva' } }],
              messages: [
                { from: PERSON, id: `wamid.window.${waba}.${n}`, timestamp: String(T0 + n), type: 'text', text: { body: `hello ${n}` } },
              ],
            },
          },
        ],
      },
    ],
  });

describe('api > window across WABAs', () => {
  let env: TestEnv;
  let system: RunningSystem;
  let api: OpenApiChecker;
  let key = '';
  const post = async (b: string) =>
    expect((await postWebhook(system.url, b, { 'x-hub-signature-256': signBody(b, FIXTURE_SECRET) })).status).toBe(200);

  beforeAll(async () => {
    env = testEnv({ ADMIN_TOKEN: ADMIN });
    system = await startSystem({ config: env.config, roles: ['ingest', 'actors', 'api'], log: env.log });
    api = await openApiChecker(system.url);
    const acc = await api.call('POST', `${system.url}/api/admin/accounts`, { key: ADMIN, body: { name: 'Two numbers' } });
    for (const waba of Object.keys(NUMBERS))
      await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/wabas`, { key: ADMIN, body: { waba_id: waba } });
    key = (await api.call('POST', `${system.url}/api/admin/accounts/${acc.json.id}/keys`, { key: ADMIN })).json.key;
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    await env?.cleanup();
  });

  test('each number answers with the contact of its own WABA, whichever changed last', async () => {
    await post(text('100000000000991', 1));
    await waitForActors(env.config);
    await post(text('100000000000992', 2)); // the other WABA's contact is now the one changed last
    await waitForActors(env.config);
    for (const [waba, number] of Object.entries(NUMBERS)) {
      const res = await api.call('GET', `${system.url}/api/whatsapp/window?phone_number_id=${number}&contact=${PERSON}`, { key });
      expect(res.status, waba).toBe(200);
      expect(res.json, waba).toMatchObject({
        phone_number_id: number,
        open: true,
        last_inbound_at: new Date((T0 + (waba.endsWith('1') ? 1 : 2)) * 1000).toISOString(),
      });
      expect(res.json.thread_id, waba).not.toBeNull();
    }
    // A number of neither WABA: closed, and no thread.
    const other = await api.call('GET', `${system.url}/api/whatsapp/window?phone_number_id=199999999999000&contact=${PERSON}`, { key });
    expect(other.json).toMatchObject({ open: false, thread_id: null });
  });
});
