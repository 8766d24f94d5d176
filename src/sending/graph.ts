// The I/O edge of the sending side: Meta's Graph API (Embedded Signup's code exchange, number registration, app
// subscription, message sends), over one undici Agent with a deadline per call. Every failure becomes an AppError
// naming the step: EC_GRAPH_UNAVAILABLE (retriable: no answer in time, a 5xx, a rate limit) or EC_GRAPH_REFUSED
// (Meta said no), with Meta's code and message in `details.meta_error`. Tokens travel in headers, never in a log or
// an error (the one query-string secret, debug_token's app token, is never part of a message).
import { Agent, request } from 'undici';
import { AppError } from '../core/errors.ts';

export type GraphConfig = Readonly<{ url: string; version: string; timeoutMs: number; appId: string | null; appSecret: string }>;

/** The steps that call the Graph API, as `details.step` names them. */
export type GraphStep = 'code_exchange' | 'verify_waba' | 'register_number' | 'subscribe_app' | 'send';

/** Meta's error envelope, as far as EchoCue reads it (docs/meta-webhooks.md §9). */
export type MetaGraphError = { code: number | null; subcode: number | null; type: string | null; message: string; details: string | null };

/** Meta's codes that mean "later": throttling (4, 17, 32, 613, 80007, 130429), the pair rate limit (131056),
 *  temporary or unknown errors (1, 2, 131000, 131016), maintenance (131057), registration throttling (133004). */
export const TRANSIENT_META_CODES: ReadonlySet<number> = new Set([
  1, 2, 4, 17, 32, 613, 80007, 130429, 131000, 131016, 131056, 131057, 133004,
]);
/** The rate-limit codes among them (a sender backs off on these). */
export const RATE_LIMIT_META_CODES: ReadonlySet<number> = new Set([4, 17, 32, 613, 80007, 130429, 131056]);

export type PhoneNumberInfo = { id: string; display_phone_number: string | null; verified_name: string | null };
export type SentMessage = { wamid: string; wa_id: string | null };

function metaErrorOf(body: unknown): MetaGraphError | null {
  const e = (body as { error?: Record<string, unknown> } | null)?.error;
  if (!e || typeof e !== 'object') return null;
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null);
  const data = e['error_data'] as { details?: unknown } | undefined;
  return {
    code: num(e['code']),
    subcode: num(e['error_subcode']),
    type: typeof e['type'] === 'string' ? e['type'] : null,
    message: typeof e['message'] === 'string' ? e['message'].slice(0, 500) : 'no message',
    details: typeof data?.details === 'string' ? data.details.slice(0, 500) : null,
  };
}

/** A failure with no answer where the request may have reached Meta (sent, then no answer in time): a send's outcome
 *  is then unknown, so it is never sent again blindly. A refused connection or a connect timeout reached nobody. */
const mayHaveArrived = (err: unknown): boolean => {
  const code = (err as { code?: string }).code ?? '';
  return !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code);
};

export function graphFailure(
  step: GraphStep,
  status: number | null,
  meta: MetaGraphError | null,
  opts: { cause?: unknown; mayHaveArrived?: boolean } = {},
): AppError {
  const transient = status === null || status >= 500 || status === 429 || (meta?.code != null && TRANSIENT_META_CODES.has(meta.code));
  const what = meta ? `Meta error ${meta.code ?? '?'}: ${meta.message}` : status === null ? 'no answer in time' : `HTTP ${status}`;
  return new AppError(transient ? 'EC_GRAPH_UNAVAILABLE' : 'EC_GRAPH_REFUSED', `Graph API step ${step} failed: ${what}`, {
    cause: opts.cause,
    details: {
      step,
      http_status: status,
      meta_error: meta,
      rate_limited: meta?.code != null && RATE_LIMIT_META_CODES.has(meta.code),
      outcome_unknown: opts.mayHaveArrived ?? false,
    },
  });
}

export function createGraphClient(config: GraphConfig) {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000, headersTimeout: config.timeoutMs, bodyTimeout: config.timeoutMs });
  const base = `${config.url}/${config.version}`;

  async function call<T>(
    step: GraphStep,
    method: 'GET' | 'POST',
    path: string,
    opts: { token?: string; query?: Record<string, string>; body?: unknown },
  ): Promise<T> {
    const url = `${base}/${path}${opts.query ? `?${new URLSearchParams(opts.query)}` : ''}`;
    let status: number;
    let parsed: unknown;
    try {
      const res = await request(url, {
        method,
        dispatcher: agent,
        signal: AbortSignal.timeout(config.timeoutMs),
        headers: {
          accept: 'application/json',
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      });
      status = res.statusCode;
      const text = await res.body.text();
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    } catch (err) {
      // The cause keeps the error's name and code only: its message may quote the URL, which may hold the app token.
      const cause = Object.assign(new Error((err as Error).name), { code: (err as { code?: string }).code });
      throw graphFailure(step, null, null, { cause, mayHaveArrived: mayHaveArrived(err) });
    }
    if (status >= 200 && status < 300 && parsed !== null && metaErrorOf(parsed) === null) return parsed as T;
    throw graphFailure(step, status, metaErrorOf(parsed));
  }

  const needAppId = (): string => {
    if (config.appId === null)
      throw new AppError('EC_SIGNUP_DISABLED', 'Embedded Signup needs META_APP_ID (the Meta app EchoCue signs up with)');
    return config.appId;
  };

  return {
    /** Embedded Signup's code for a business token (the code is single-use at Meta). */
    async exchangeCode(code: string): Promise<string> {
      const r = await call<{ access_token?: unknown }>('code_exchange', 'GET', 'oauth/access_token', {
        query: { client_id: needAppId(), client_secret: config.appSecret, code },
      });
      if (typeof r.access_token !== 'string' || r.access_token === '') throw graphFailure('code_exchange', 200, null);
      return r.access_token;
    },
    /** The WABAs the token was granted (debug_token's granular scopes): ownership of a WABA is proven by its being here. */
    async grantedWabas(token: string): Promise<string[]> {
      const r = await call<{ data?: { granular_scopes?: { scope?: string; target_ids?: string[] }[] } }>(
        'verify_waba',
        'GET',
        'debug_token',
        {
          query: { input_token: token, access_token: `${needAppId()}|${config.appSecret}` },
        },
      );
      const scopes = r.data?.granular_scopes ?? [];
      return [...new Set(scopes.filter((s) => s.scope?.startsWith('whatsapp_business')).flatMap((s) => s.target_ids ?? []))];
    },
    async phoneNumbers(wabaId: string, token: string): Promise<PhoneNumberInfo[]> {
      const r = await call<{ data?: { id: string; display_phone_number?: string; verified_name?: string }[] }>(
        'verify_waba',
        'GET',
        `${wabaId}/phone_numbers`,
        { token },
      );
      return (r.data ?? []).map((p) => ({
        id: String(p.id),
        display_phone_number: p.display_phone_number ?? null,
        verified_name: p.verified_name ?? null,
      }));
    },
    async registerNumber(phoneNumberId: string, pin: string, token: string): Promise<void> {
      await call('register_number', 'POST', `${phoneNumberId}/register`, { token, body: { messaging_product: 'whatsapp', pin } });
    },
    async subscribeApp(wabaId: string, token: string): Promise<void> {
      await call('subscribe_app', 'POST', `${wabaId}/subscribed_apps`, { token });
    },
    /** One message from a business number; Meta's answer names the message (wamid) and the user (wa_id). */
    async sendMessage(phoneNumberId: string, token: string, message: Record<string, unknown>): Promise<SentMessage> {
      const r = await call<{ messages?: { id?: string }[]; contacts?: { wa_id?: string }[] }>('send', 'POST', `${phoneNumberId}/messages`, {
        token,
        body: { messaging_product: 'whatsapp', recipient_type: 'individual', ...message },
      });
      const wamid = r.messages?.[0]?.id;
      if (typeof wamid !== 'string' || wamid === '') throw graphFailure('send', 200, null);
      return { wamid, wa_id: r.contacts?.[0]?.wa_id ?? null };
    },
    close: () => agent.close(),
  };
}

export type GraphClient = ReturnType<typeof createGraphClient>;
