// Load for the memory bench: signed Meta webhook POSTs with unique inbound messages (so every one becomes a new
// message, thread update and delivery downstream), and REST GETs a poller makes. Sent with one undici Pool each.
import { Pool } from 'undici';
import { signBody } from '../../src/ingest/verify-signature.ts';

/** An inbound text message as Meta sends it (shape of shared/fixtures/meta/messages.text.json), made unique by `i`. */
export function inboundBody(i: number, waba: string, contacts: number): Buffer {
  const waId = `1555${String(2_000_000 + (i % contacts))}`;
  const body = {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: waba,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550142277', phone_number_id: `1123567890${waba.slice(-5)}` },
              contacts: [{ profile: { name: `Bench contact ${i % contacts}` }, wa_id: waId }],
              messages: [
                {
                  from: waId,
                  id: `wamid.HBgLMTU1NTAxOTkwMDEVAgASGBQwMTMwMUI0MDkwNTZBRUYxMThFNAB${String(i).padStart(10, '0')}=`,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  type: 'text',
                  text: { body: `Hi! Do you have any openings for a cleaning next week? (${i})` },
                },
              ],
            },
          },
        ],
      },
    ],
  };
  return Buffer.from(JSON.stringify(body));
}

export type LoadResult = { sent: number; ok: number; statuses: Record<string, number>; ms: number };

async function run(n: number, concurrency: number, deadline: number, one: (i: number) => Promise<number>): Promise<LoadResult> {
  const t0 = performance.now();
  const statuses: Record<string, number> = {};
  let next = 0;
  let ok = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n && Date.now() < deadline) {
        const i = next++;
        let status: number | string;
        try {
          status = await one(i);
        } catch (err) {
          status = (err as { code?: string }).code ?? 'error';
        }
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 200 || status === 304) ok++;
      }
    }),
  );
  return { sent: Object.values(statuses).reduce((a, b) => a + b, 0), ok, statuses, ms: performance.now() - t0 };
}

/** POSTs `n` unique signed messages to ingest, `concurrency` at a time, until done or `deadline` (ms since epoch). */
export async function postMessages(
  url: string,
  opts: { n: number; concurrency: number; deadline: number; secret: string; wabas: readonly string[]; contacts: number },
): Promise<LoadResult> {
  const pool = new Pool(url, { connections: opts.concurrency });
  try {
    return await run(opts.n, opts.concurrency, opts.deadline, async (i) => {
      const body = inboundBody(i, opts.wabas[i % opts.wabas.length]!, opts.contacts);
      const res = await pool.request({
        path: '/v1/whatsapp/webhook',
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, opts.secret) },
      });
      await res.body.dump();
      return res.statusCode;
    });
  } finally {
    await pool.close();
  }
}

/** GETs what a poller reads (thread lists, a thread's messages, contacts, windows), until `deadline`. */
export async function pollApi(url: string, opts: { key: string; concurrency: number; deadline: number }): Promise<LoadResult> {
  const pool = new Pool(url, { connections: opts.concurrency });
  const headers = { authorization: `Bearer ${opts.key}` };
  const get = async (path: string) => {
    const res = await pool.request({ path, method: 'GET', headers });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      json:
        res.statusCode === 200
          ? (JSON.parse(text) as { data?: { id: string; phone_number_id?: string; contact?: { id: string; wa_id: string | null } }[] })
          : null,
    };
  };
  try {
    const first = await get('/api/thread/list?limit=100');
    const threads = first.json?.data ?? [];
    if (threads.length === 0) throw new Error(`the API listed no threads (status ${first.status}): nothing to poll`);
    const paths = (i: number): string => {
      const t = threads[i % threads.length]!;
      switch (i % 5) {
        case 0:
          return '/api/thread/list?limit=50';
        case 1:
          return `/api/thread/${encodeURIComponent(t.id)}/messages?limit=50`;
        case 2:
          return `/api/contact/${encodeURIComponent(t.contact!.id)}`;
        case 3:
          return `/api/whatsapp/window?phone_number_id=${encodeURIComponent(t.phone_number_id ?? '')}&contact=${encodeURIComponent(t.contact!.id)}`;
        default:
          return '/api/thread/list?updated_since=1970-01-01T00:00:00Z&limit=100';
      }
    };
    return await run(Number.MAX_SAFE_INTEGER, opts.concurrency, opts.deadline, async (i) => (await get(paths(i))).status);
  } finally {
    await pool.close();
  }
}
