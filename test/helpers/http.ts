// Small HTTP helpers over Node's fetch (undici) for tests against a running EchoCue.
import { signBody } from '../../src/ingest/verify-signature.ts';
import { FIXTURE_SECRET, type Fixture } from './env.ts';

export async function postWebhook(baseUrl: string, body: Buffer | string, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/v1/whatsapp/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, text, json: json as Record<string, any> | undefined, headers: res.headers };
}

/** POSTs a signed Meta body of one inbound text (the fixtures' phone number) from `from` with id `wamid`. */
export function postInboundText(baseUrl: string, m: { waba: string; from: string; wamid: string; timestamp: number; text: string }) {
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: m.waba,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550142277', phone_number_id: '112356789045671' },
              messages: [{ from: m.from, id: m.wamid, timestamp: String(m.timestamp), type: 'text', text: { body: m.text } }],
            },
          },
        ],
      },
    ],
  });
  return postWebhook(baseUrl, body, { 'x-hub-signature-256': signBody(body, FIXTURE_SECRET) });
}

export const postFixture = (baseUrl: string, f: Fixture) => postWebhook(baseUrl, f.body, { 'x-hub-signature-256': f.signature });

export async function getJson(url: string, key?: string) {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, json: (await res.json()) as Record<string, any>, headers: res.headers };
}
