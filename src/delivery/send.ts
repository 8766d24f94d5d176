// The I/O edge of outbound webhooks: one POST to a customer's URL, reported as an AttemptOutcome and never thrown
// (only programmer errors throw). Rules from ../shared/docs/outbound-webhooks.md §5: one shared undici Agent, the SSRF
// guard's lookup on that Agent (every new connection re-resolves and re-vets, so DNS rebinding between the check and
// the connect is refused), a deadline over the whole exchange, no redirects followed, and a capped response read.
import { type Readable } from 'node:stream';
import { Agent } from 'undici';
import { systemClock, type Clock } from '../core/clock.ts';
import { AppError, isAppError } from '../core/errors.ts';
import { guardedLookup, resolveAndCheck, type GuardOptions, type Resolver, type VettedTarget } from './ssrf-guard.ts';

/** What came back before an exchange ended: the status, the first maxResponseBytes of the body as UTF-8 (a cut
 *  character becomes U+FFFD) and, on a 429 or 503 only, its Retry-After as ms (delta-seconds or HTTP-date, negative
 *  clamped to 0; null when absent or unparseable). */
type Received = { status_code: number; response_body: string; retry_after_ms: number | null; directive: DeliveryDirective | null };

/** What a receiver may ask in a `webhook-delivery` answer header of a failed attempt (Svix's, read on non-2xx
 *  answers only): `abort-message` stops the retries of this message, `disable` disables the endpoint (as a 410 does). */
export type DeliveryDirective = 'abort-message' | 'disable';
export const DIRECTIVE_HEADER = 'webhook-delivery';

function directiveOf(header: string | string[] | undefined): DeliveryDirective | null {
  const values = [header ?? []].flat().flatMap((v) => v.split(',').map((x) => x.trim().toLowerCase()));
  if (values.includes('disable')) return 'disable';
  if (values.includes('abort-message')) return 'abort-message';
  return null;
}

/** A 2xx and its body read (up to the cap) within timeoutMs. */
export type AttemptSuccess = Readonly<{
  ok: true;
  latency_ms: number;
  error: null;
  error_code: null;
  status_code: number;
  response_body: string;
  /** Retry-After is read on a 429 or 503 only. */
  retry_after_ms: null;
  directive: null;
}>;

/** A failure before any status arrived: nothing was received. */
type FailedUnanswered = Readonly<{
  ok: false;
  latency_ms: number;
  error: string;
  error_code: 'timeout' | 'connection' | 'ssrf_refused';
  status_code: null;
  response_body: null;
  retry_after_ms: null;
  directive: null;
}>;

/** A failure after a status arrived (not a 2xx, or its body failed or was too slow): what was received is kept. */
type FailedAnswered = Readonly<
  {
    ok: false;
    latency_ms: number;
    error: string;
    error_code: 'connection' | 'redirect' | 'http_status' | 'response_too_slow';
  } & Received
>;

export type AttemptFailure = FailedUnanswered | FailedAnswered;
export type AttemptErrorCode = AttemptFailure['error_code'];

/** How one POST ended. Every field is present in both (null where it does not apply): the stored attempt
 *  (AttemptDoc) keeps them all. */
export type AttemptOutcome = AttemptSuccess | AttemptFailure;

export type SenderOptions = {
  /** Budget for the whole exchange: DNS check, connect, request, response headers and the capped body read. */
  timeoutMs: number;
  /** CIDRs the SSRF guard lets through (and the only hosts `http:` may reach); `[]` in production. */
  allow: readonly string[];
  /** DNS resolver for the guard; default dns.lookup. Tests inject one. */
  resolve?: Resolver;
  /** How much of the response body to keep; the rest is never read. Default 20 * 1024. */
  maxResponseBytes?: number;
  /** Reads "now" for an HTTP-date Retry-After. Default the system clock. */
  clock?: Clock;
};

/** The port the delivery consumers depend on. */
export type HttpSender = {
  /** POSTs `body` with `headers` (no more, no redirects). Rejects only on programmer errors, e.g. after close(). */
  send(url: string, body: string, headers: Record<string, string>): Promise<AttemptOutcome>;
  /** Lets in-flight sends finish, then closes pooled connections. */
  close(): Promise<void>;
};

const DEFAULT_MAX_RESPONSE_BYTES = 20 * 1024;

// Errors that mean our code is wrong, not the receiver: rethrown so they are never retried (STYLE rule 5).
const PROGRAMMER_ERROR_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_INVALID_RETURN_VALUE',
]);
const isProgrammerError = (err: unknown): boolean =>
  err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || PROGRAMMER_ERROR_CODES.has(codeOf(err) ?? '');

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(describe).join('; '); // happy-eyeballs tries
  if (!(err instanceof Error)) return String(err);
  const code = codeOf(err);
  if (!err.message) return code ?? err.name;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

function checkOptions(opts: SenderOptions): number {
  const max = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isSafeInteger(opts.timeoutMs) || opts.timeoutMs <= 0) {
    throw new AppError('EC_CONFIG_INVALID', `webhook sender timeoutMs ${opts.timeoutMs} is not a positive integer`, {
      details: { parameter: 'timeoutMs' },
    });
  }
  if (!Number.isSafeInteger(max) || max < 0) {
    throw new AppError('EC_CONFIG_INVALID', `webhook sender maxResponseBytes ${max} is not a non-negative integer`, {
      details: { parameter: 'maxResponseBytes' },
    });
  }
  return max;
}

const HTTP_DATE = [
  /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/, // IMF-fixdate (RFC 9110 §5.6.7)
  /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/, // obsolete RFC 850
  /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/, // obsolete asctime, implicitly GMT
];

/** Retry-After (RFC 9110 §10.2.3) as ms from `now`; null when absent or unparseable. */
function parseRetryAfter(header: string | string[] | undefined, now: number): number | null {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return null;
  if (/^-?\d+$/.test(value)) {
    const ms = Number(value) * 1000;
    return Number.isFinite(ms) ? Math.max(0, ms) : null;
  }
  if (!HTTP_DATE.some((re) => re.test(value))) return null;
  const at = Date.parse(value.endsWith(' GMT') ? value : `${value} GMT`);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/** Waits for `p` unless `signal` aborts first (then rejects with its reason); `p` settling later is ignored. */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Reads at most `cap` bytes into one buffer of that size, then destroys the stream: the rest is never read. */
async function readCapped(body: Readable, cap: number): Promise<{ text: string; error: unknown }> {
  const buf = Buffer.alloc(cap);
  let size = 0;
  let error: unknown = null;
  try {
    if (cap > 0) {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.copy(buf, size, 0, Math.min(chunk.length, cap - size));
        if (size >= cap) break;
      }
    }
  } catch (err) {
    error = err;
  } finally {
    body.destroy(); // a receiver streaming forever must not hold the connection; no-op when already ended
  }
  return { text: buf.toString('utf8', 0, size), error };
}

export function createSender(opts: SenderOptions): HttpSender {
  const maxResponseBytes = checkOptions(opts);
  const { timeoutMs } = opts;
  const clock = opts.clock ?? systemClock;
  const guard: GuardOptions = { allow: opts.allow, ...(opts.resolve ? { resolve: opts.resolve } : {}) };
  // The lookup sits on the Agent, not per request: pooled sockets were vetted when they were opened.
  const agent = new Agent({
    connect: { lookup: guardedLookup(guard), timeout: timeoutMs },
    headersTimeout: timeoutMs, // backstops; the per-send deadline below is what normally fires
    bodyTimeout: timeoutMs,
  });

  /** A refusal from the guard, before or at connect time. DNS failures are connection errors (retriable), not refusals. */
  function guardFailure(err: AppError, hostname: string): Pick<FailedUnanswered, 'error' | 'error_code'> {
    if (err.details?.['reason'] !== 'unresolvable') return { error: err.message, error_code: 'ssrf_refused' };
    const code = codeOf(err.cause);
    return { error: `url host ${hostname} did not resolve to a usable address${code ? ` (${code})` : ''}`, error_code: 'connection' };
  }

  async function send(url: string, body: string, headers: Record<string, string>): Promise<AttemptOutcome> {
    const started = performance.now();
    const controller = new AbortController();
    const expired = new Error(`deadline of ${timeoutMs} ms passed`);
    const timer = setTimeout(() => controller.abort(expired), timeoutMs);
    const latency = () => Math.ceil(performance.now() - started); // up: timers may fire under a ms early on the monotonic clock
    const unanswered = (f: Pick<FailedUnanswered, 'error' | 'error_code'>): FailedUnanswered => ({
      ok: false,
      status_code: null,
      response_body: null,
      retry_after_ms: null,
      directive: null,
      ...f,
      latency_ms: latency(),
    });
    const answered = (r: Received, f: Pick<FailedAnswered, 'error' | 'error_code'>): FailedAnswered => ({
      ok: false,
      ...r,
      ...f,
      latency_ms: latency(),
    });
    const isGuardError = (err: unknown): err is AppError => isAppError(err) && err.details?.['parameter'] === 'url';

    try {
      let target: VettedTarget;
      try {
        target = await unlessAborted(resolveAndCheck(url, guard), controller.signal);
      } catch (err) {
        if (err === expired) return unanswered({ error: `no response within ${timeoutMs} ms (dns lookup)`, error_code: 'timeout' });
        if (isGuardError(err)) return unanswered(guardFailure(err, URL.parse(url)?.hostname ?? url));
        throw err;
      }

      let res: Awaited<ReturnType<Agent['request']>>;
      try {
        res = await agent.request({
          // The URL the guard parsed and vetted (WHATWG-normalised: 2130706433 is already 127.0.0.1), not the raw text.
          origin: target.url.origin,
          path: `${target.url.pathname}${target.url.search}`,
          method: 'POST',
          headers,
          body,
          signal: controller.signal,
          highWaterMark: Math.max(maxResponseBytes, 1),
        });
      } catch (err) {
        const code = codeOf(err);
        if (err === expired || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
          return unanswered({ error: `no response within ${timeoutMs} ms`, error_code: 'timeout' });
        }
        if (isGuardError(err)) return unanswered(guardFailure(err, target.hostname)); // DNS changed since the check
        if (isProgrammerError(err)) throw err;
        return unanswered({ error: describe(err), error_code: 'connection' });
      }

      const status = res.statusCode;
      const retry_after_ms = status === 429 || status === 503 ? parseRetryAfter(res.headers['retry-after'], clock.now().getTime()) : null;
      const read = await readCapped(res.body, maxResponseBytes);
      const ok = status >= 200 && status < 300;
      const directive = ok ? null : directiveOf(res.headers[DIRECTIVE_HEADER]);
      const received: Received = { status_code: status, response_body: read.text, retry_after_ms, directive };
      if (read.error !== null) {
        if (read.error === expired || codeOf(read.error) === 'UND_ERR_BODY_TIMEOUT') {
          return answered(received, {
            error: `HTTP ${status} but the body did not arrive within ${timeoutMs} ms`,
            error_code: 'response_too_slow',
          });
        }
        if (isProgrammerError(read.error)) throw read.error;
        return answered(received, { error: `HTTP ${status} but the body failed: ${describe(read.error)}`, error_code: 'connection' });
      }
      if (ok) {
        return { ok: true, ...received, retry_after_ms: null, directive: null, error: null, error_code: null, latency_ms: latency() }; // Retry-After: 429/503 only
      }
      if (status >= 300 && status < 400) {
        const location = [res.headers['location']].flat()[0];
        const to = location ? ` to ${location.slice(0, 200)}` : '';
        return answered(received, { error: `HTTP ${status} redirect${to} not followed; register the final URL`, error_code: 'redirect' });
      }
      return answered(received, { error: `HTTP ${status}`, error_code: 'http_status' });
    } finally {
      clearTimeout(timer);
    }
  }

  return { send, close: () => agent.close() };
}
