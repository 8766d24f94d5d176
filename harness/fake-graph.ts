// A fake of Meta's Graph API for tests and local trials: a real HTTP server on 127.0.0.1 shaped like Meta's answers
// (the OAuth code exchange, debug_token's granular scopes, a WABA's phone numbers, number registration, app
// subscription, message sends), with Meta's error envelope, its rate-limit codes, and the signed status webhooks Meta
// posts back (sent, delivered, read, or failed), retried like Meta until our ingest answers 200.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { signBody } from '../src/ingest/verify-signature.ts';

export type FakeGraphError = { status: number; code: number; message: string; subcode?: number; details?: string };
export type CallKind = 'code_exchange' | 'debug_token' | 'phone_numbers' | 'register' | 'subscribed_apps' | 'messages';
export type Business = { wabaId: string; phones: { id: string; display: string }[]; code: string; token: string };
export type SentRecord = { phoneNumberId: string; to: string; body: Record<string, any>; wamid: string; at: number };
/** What happens to a sent message: the statuses Meta then posts, in order (a failure names its code). */
export type StatusPlan = ({ status: 'sent' | 'delivered' | 'read' } | { status: 'failed'; code: number; title: string })[];

export const RATE_LIMIT: FakeGraphError = { status: 400, code: 130429, message: 'Rate limit hit' };
export const PAIR_RATE_LIMIT: FakeGraphError = { status: 400, code: 131056, message: '(Business, Consumer) pair rate limit hit' };
export const SERVER_ERROR: FakeGraphError = { status: 500, code: 131000, message: 'Something went wrong' };

export async function startFakeGraph(opts: {
  appId: string;
  appSecret: string;
  /** Where status webhooks go (our ingest), signed with appSecret; none: statuses are not posted. */
  webhookUrl?: string;
  /** Messages per second each phone number accepts before 130429 (Meta's throughput tier); default unlimited. */
  perSecond?: number;
  /** The port to listen on (default: any free one). */
  port?: number;
}) {
  const businesses: Business[] = [];
  const registered = new Map<string, string>(); // phone number id -> pin
  const subscribed = new Set<string>();
  const sent: SentRecord[] = [];
  const calls: { kind: CallKind; at: number }[] = [];
  const failures = new Map<CallKind, FakeGraphError[]>();
  const rate = new Map<string, { second: number; n: number }>();
  const posted: { wamid: string; status: string }[] = [];
  let planOf: (to: string, body: Record<string, any>) => StatusPlan = () => [{ status: 'sent' }, { status: 'delivered' }];
  let webhookUrl = opts.webhookUrl;
  const inFlight = new Set<Promise<void>>();
  let seq = 0;

  const reply = (res: ServerResponse, status: number, body: unknown): void =>
    void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const error = (res: ServerResponse, e: FakeGraphError): void =>
    reply(res, e.status, {
      error: {
        message: e.message,
        type: 'OAuthException',
        code: e.code,
        ...(e.subcode ? { error_subcode: e.subcode } : {}),
        error_data: { messaging_product: 'whatsapp', details: e.details ?? e.message },
        fbtrace_id: randomBytes(8).toString('base64url'),
      },
    });
  const byToken = (req: IncomingMessage) => {
    const auth = req.headers.authorization ?? '';
    return businesses.find((b) => `Bearer ${b.token}` === auth) ?? null;
  };

  /** Posts one status webhook to ingest, retried (1 s, 2 s, ...) until a 200 like Meta's backoff, shortened. */
  async function postStatus(business: Business, phoneId: string, record: SentRecord, step: StatusPlan[number]): Promise<void> {
    const seconds = Math.floor(Date.now() / 1000);
    const item: Record<string, unknown> = {
      id: record.wamid,
      status: step.status,
      timestamp: String(seconds),
      recipient_id: record.to,
      ...(record.body['biz_opaque_callback_data'] ? { biz_opaque_callback_data: record.body['biz_opaque_callback_data'] } : {}),
      ...(step.status === 'failed'
        ? { errors: [{ code: step.code, title: step.title, message: step.title, error_data: { details: step.title } }] }
        : {
            pricing: {
              billable: true,
              pricing_model: 'PMP',
              type: 'regular',
              category: record.body['type'] === 'template' ? 'marketing' : 'service',
            },
          }),
    };
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: business.wabaId,
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: {
                  display_phone_number: business.phones.find((p) => p.id === phoneId)?.display ?? '15550000000',
                  phone_number_id: phoneId,
                },
                statuses: [item],
              },
            },
          ],
        },
      ],
    });
    for (let attempt = 0; attempt < 30 && webhookUrl; attempt++) {
      try {
        const res = await fetch(webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, opts.appSecret) },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await res.body?.cancel();
        if (res.status === 200) {
          posted.push({ wamid: record.wamid, status: step.status });
          return;
        }
      } catch {
        /* retried */
      }
      await new Promise((r) => setTimeout(r, Math.min(1000 * (attempt + 1), 5000)));
    }
  }

  function track(p: Promise<void>) {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const parts = url.pathname.split('/').filter(Boolean); // [version, ...]
    const [, first, second] = parts;
    const kind: CallKind | null =
      first === 'oauth' && second === 'access_token'
        ? 'code_exchange'
        : first === 'debug_token'
          ? 'debug_token'
          : second === 'phone_numbers'
            ? 'phone_numbers'
            : second === 'register'
              ? 'register'
              : second === 'subscribed_apps'
                ? 'subscribed_apps'
                : second === 'messages'
                  ? 'messages'
                  : null;
    if (!kind || !/^v\d+\.\d+$/.test(parts[0] ?? ''))
      return error(res, { status: 400, code: 100, message: `Unknown path ${url.pathname}` });
    calls.push({ kind, at: Date.now() });
    const scripted = failures.get(kind);
    if (scripted && scripted.length > 0) return error(res, scripted.shift()!);
    const body = raw ? (JSON.parse(raw) as Record<string, any>) : {};

    if (kind === 'code_exchange') {
      if (url.searchParams.get('client_id') !== opts.appId || url.searchParams.get('client_secret') !== opts.appSecret)
        return error(res, { status: 400, code: 101, message: 'Error validating client secret.' });
      const b = businesses.find((x) => x.code === url.searchParams.get('code'));
      if (!b) return error(res, { status: 400, code: 100, subcode: 36009, message: 'This authorization code has been used.' });
      b.code = `used-${randomBytes(4).toString('hex')}`; // single use, as at Meta
      return reply(res, 200, { access_token: b.token, token_type: 'bearer' });
    }
    if (kind === 'debug_token') {
      if (url.searchParams.get('access_token') !== `${opts.appId}|${opts.appSecret}`)
        return error(res, { status: 400, code: 190, message: 'Invalid OAuth access token.' });
      const b = businesses.find((x) => x.token === url.searchParams.get('input_token'));
      if (!b) return error(res, { status: 400, code: 190, message: 'Invalid OAuth access token.' });
      const scopes = ['whatsapp_business_management', 'whatsapp_business_messaging'].map((scope) => ({ scope, target_ids: [b.wabaId] }));
      return reply(res, 200, { data: { app_id: opts.appId, type: 'SYSTEM_USER', is_valid: true, granular_scopes: scopes } });
    }
    const b = byToken(req);
    if (!b) return error(res, { status: 401, code: 190, message: 'Invalid OAuth access token.' });
    if (kind === 'phone_numbers') {
      if (first !== b.wabaId) return error(res, { status: 403, code: 200, message: 'Permissions error' });
      return reply(res, 200, {
        data: b.phones.map((p) => ({ id: p.id, display_phone_number: p.display, verified_name: 'Fake Business' })),
      });
    }
    if (kind === 'subscribed_apps') {
      if (first !== b.wabaId) return error(res, { status: 403, code: 200, message: 'Permissions error' });
      subscribed.add(first);
      return reply(res, 200, { success: true });
    }
    const phone = b.phones.find((p) => p.id === first);
    if (!phone)
      return error(res, {
        status: 400,
        code: 100,
        subcode: 33,
        message: `Unsupported post request. Object with ID '${first}' does not exist`,
      });
    if (kind === 'register') {
      if (!/^\d{6}$/.test(String(body['pin']))) return error(res, { status: 400, code: 100, message: 'Param pin must be 6 digits' });
      registered.set(phone.id, String(body['pin']));
      return reply(res, 200, { success: true });
    }
    // messages
    if (!registered.has(phone.id)) return error(res, { status: 400, code: 133010, message: 'Phone number not registered' });
    if (opts.perSecond) {
      const second = Math.floor(Date.now() / 1000);
      const r = rate.get(phone.id);
      const n = r && r.second === second ? r.n + 1 : 1;
      rate.set(phone.id, { second, n });
      if (n > opts.perSecond) return error(res, RATE_LIMIT);
    }
    const to = String(body['to'] ?? '');
    if (!/^\d{6,15}$/.test(to)) return error(res, { status: 400, code: 131009, message: 'Parameter value is not valid' });
    const record: SentRecord = {
      phoneNumberId: phone.id,
      to,
      body,
      wamid: `wamid.fake.${++seq}.${randomBytes(6).toString('hex')}`,
      at: Date.now(),
    };
    sent.push(record);
    reply(res, 200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: to, wa_id: to }],
      messages: [{ id: record.wamid, message_status: 'accepted' }],
    });
    const plan = planOf(to, body);
    track(
      (async () => {
        await new Promise((r) => setTimeout(r, 50));
        for (const step of plan) await postStatus(b, phone.id, record, step);
      })(),
    );
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: unknown) => {
        if (!res.headersSent) error(res, { status: 500, code: 1, message: `fake failed: ${(err as Error).message}` });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    /** The base URL to give EchoCue as META_GRAPH_URL. */
    url,
    /** A business that finished Meta's popup: its WABA, numbers and the one-time code the popup hands the browser. */
    addBusiness(wabaId: string, phones: { id: string; display: string }[]): Business {
      const b: Business = {
        wabaId,
        phones,
        code: `code-${randomBytes(8).toString('hex')}`,
        token: `EAAG${randomBytes(24).toString('hex')}`,
      };
      businesses.push(b);
      return b;
    },
    /** The next `times` calls of a kind answer `e` (then calls answer normally again). */
    fail(kind: CallKind, e: FakeGraphError, times = 1) {
      failures.set(kind, [...(failures.get(kind) ?? []), ...Array.from({ length: times }, () => e)]);
    },
    /** Which statuses Meta posts for each message sent from now on. */
    planStatuses(fn: (to: string, body: Record<string, any>) => StatusPlan) {
      planOf = fn;
    },
    setWebhookUrl(u: string) {
      webhookUrl = u;
    },
    isRegistered: (phoneId: string) => registered.has(phoneId),
    isSubscribed: (wabaId: string) => subscribed.has(wabaId),
    callsOf: (kind: CallKind) => calls.filter((c) => c.kind === kind).length,
    sent,
    posted,
    /** Waits until every status webhook planned so far was posted (answered 200) or given up. */
    async settle(): Promise<void> {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    async close(): Promise<void> {
      webhookUrl = undefined;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type FakeGraph = Awaited<ReturnType<typeof startFakeGraph>>;
