// Small HTTP helpers over Node's fetch (undici) for tests against a running EchoCue.
import { type Fixture } from './env.ts';

export async function postWebhook(baseUrl: string, body: Buffer | string, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/v1/whatsapp/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  let json: unknown = undefined;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, text, json: json as Record<string, any> | undefined, headers: res.headers };
}

export const postFixture = (baseUrl: string, f: Fixture) => postWebhook(baseUrl, f.body, { 'x-hub-signature-256': f.signature });

export async function getJson(url: string, key?: string) {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, json: (await res.json()) as Record<string, any>, headers: res.headers };
}
