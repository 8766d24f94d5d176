// One error hierarchy for the whole service: every error EchoCue raises on purpose is an AppError with a stable code
// from the table below. Callers decide from `code` and `retriable`, never from the message. The table is the one
// source of docs/errors.md (`make gen`; `make check` fails on a stale copy).

/** Where a code shows: answered over HTTP, reported when a process or a command stops (`echocue` exits with `exit`),
 *  or internal (a log line, a dead-letter header, a retried batch; never an answer). */
export type ErrorSurface = 'http' | 'start-up' | 'cli' | 'internal';

type CodeSpec = Readonly<{
  /** The HTTP status when the code is answered; for the other surfaces the status it would map to. */
  status: number;
  /** Whether the same call may succeed later unchanged: whatever retries (src/core/retry.ts, the actors' batches,
   *  the ingest's 503 that Meta retries) reads this. */
  retriable: boolean;
  surface: readonly ErrorSurface[];
  /** The exit status of `echocue` when the command stops on this code (1 unless given). */
  exit?: number;
  /** What the code means and what to do, for docs/errors.md. */
  meaning: string;
}>;

/** Every error code EchoCue raises. Add a code here (with its meaning), then run `make gen`. */
export const ERROR_CODES = {
  EC_CONFIG_INVALID: {
    status: 500,
    retriable: false,
    surface: ['start-up', 'cli'],
    exit: 2,
    meaning: 'a setting is wrong (the message names the variable and the rule it broke); nothing was started',
  },
  EC_USAGE: {
    status: 400,
    retriable: false,
    surface: ['cli'],
    exit: 2,
    meaning: '`echocue` was called with an unknown command, option or value; the message says which and shows the usage',
  },
  EC_REPLAY_TARGET_NOT_EMPTY: {
    status: 409,
    retriable: false,
    surface: ['cli'],
    exit: 2,
    meaning:
      '`echocue replay --into` names a database that already holds documents; nothing was written. Replay into a fresh database (or drop that one first)',
  },
  EC_LISTEN_FAILED: {
    status: 500,
    retriable: false,
    surface: ['start-up'],
    meaning: 'the HTTP listener could not bind HOST:PORT (in use, or not an address of this machine)',
  },
  EC_SIGNATURE_MISSING: { status: 401, retriable: false, surface: ['http'], meaning: 'no `X-Hub-Signature-256` header on a webhook POST' },
  EC_SIGNATURE_INVALID: {
    status: 401,
    retriable: false,
    surface: ['http'],
    meaning: '`X-Hub-Signature-256` is malformed or does not match the raw body under any configured app secret',
  },
  EC_VERIFY_TOKEN_INVALID: {
    status: 403,
    retriable: false,
    surface: ['http'],
    meaning: "the GET handshake's mode or verify token is wrong",
  },
  EC_BODY_TOO_LARGE: { status: 413, retriable: false, surface: ['http'], meaning: 'the body exceeds its limit (3 MiB for webhooks)' },
  EC_BODY_NOT_JSON: { status: 400, retriable: false, surface: ['http'], meaning: 'the body is not valid JSON' },
  EC_UNSUPPORTED_MEDIA_TYPE: { status: 415, retriable: false, surface: ['http'], meaning: '`Content-Type` is not `application/json`' },
  EC_KAFKA_UNAVAILABLE: {
    status: 503,
    retriable: true,
    surface: ['http', 'start-up', 'cli', 'internal'],
    meaning:
      'Kafka did not answer or acknowledge in time; the webhook POST is answered 503 so Meta retries it, start-up stops naming KAFKA_BROKERS',
  },
  EC_SCHEMA_REGISTRY_UNAVAILABLE: {
    status: 503,
    retriable: true,
    surface: ['http', 'start-up', 'internal'],
    meaning: 'the schema registry did not answer; retried like a Kafka outage',
  },
  EC_EVENT_ENCODING: {
    status: 500,
    retriable: false,
    surface: ['start-up', 'internal'],
    meaning: 'a value does not fit its Avro schema, or the registry refused a schema as incompatible with its history',
  },
  EC_EVENT_DECODING: {
    status: 500,
    retriable: false,
    surface: ['internal'],
    meaning: 'a record on a topic cannot be decoded with its schema (or has no value); it goes to the dead-letter topic with this code',
  },
  EC_EVENT_UNAPPLICABLE: {
    status: 500,
    retriable: false,
    surface: ['internal'],
    meaning:
      "an event decodes but cannot be applied to its entity (e.g. a required field empty); it goes to the dead-letter topic with this code, and the batch's other events apply",
  },
  EC_STORE_UNAVAILABLE: {
    status: 503,
    retriable: true,
    surface: ['http', 'start-up', 'cli', 'internal'],
    meaning:
      'MongoDB did not answer in time, or acknowledged fewer writes than it was sent: REST answers 503, the actors retry the batch, start-up stops naming MONGODB_URI',
  },
  EC_STORE_CONFLICT: {
    status: 409,
    retriable: true,
    surface: ['internal'],
    meaning:
      "an actor's write named a document version the store no longer holds: another member owns the partition now; the batch is dropped and retried from a fresh read (docs/decisions/0009-store.md)",
  },
  EC_STORE_REFUSED: {
    status: 500,
    retriable: false,
    surface: ['internal'],
    meaning:
      "the store refused an event's write for its data (MongoDB's bad value, too large, invalid key; PostgreSQL's data exceptions under FerretDB): the event goes to the dead-letter topic with this code instead of failing its partition on every retry",
  },
  EC_UNAUTHENTICATED: { status: 401, retriable: false, surface: ['http'], meaning: 'no API key, or an unknown or revoked one' },
  EC_NOT_FOUND: {
    status: 404,
    retriable: false,
    surface: ['http', 'cli'],
    meaning: "no such route or object (also for another tenant's object)",
  },
  EC_BAD_REQUEST: { status: 400, retriable: false, surface: ['http'], meaning: 'a parameter is wrong; `details.parameter` names it' },
  EC_RATE_LIMITED: {
    status: 429,
    retriable: true,
    surface: ['http'],
    meaning: "the API key's request budget is spent; `Retry-After` says when to come back",
  },
  EC_URL_REFUSED: {
    status: 400,
    retriable: false,
    surface: ['http'],
    meaning: 'a webhook URL is refused by the SSRF guard; `details.reason` says why (private, loopback, metadata, scheme, ...)',
  },
  EC_ADMIN_DISABLED: {
    status: 403,
    retriable: false,
    surface: ['http'],
    meaning: 'an admin route was called but no `ADMIN_TOKEN` is configured',
  },
  EC_CONFLICT: {
    status: 409,
    retriable: false,
    surface: ['http'],
    meaning:
      'the call conflicts with what is stored: a WABA linked to another account, an Idempotency-Key reused for another request, or a call with the same key still running; `details.reason` says which',
  },
  EC_SEND_REFUSED: {
    status: 422,
    retriable: false,
    surface: ['http'],
    meaning:
      'a message EchoCue will not send: the 24-hour window is closed (templates only), the contact opted out (of everything, or of marketing for a marketing template), the template is not approved, or the number is not connected; `details.reason` says which, nothing was sent',
  },
  EC_GRAPH_REFUSED: {
    status: 502,
    retriable: false,
    surface: ['http'],
    meaning:
      "Meta's Graph API refused a call; `details.step` names the step (code_exchange, verify_waba, register_number, subscribe_app, send) and `details.meta_error` Meta's code and message. Signup: fix the cause and call again, it resumes",
  },
  EC_GRAPH_UNAVAILABLE: {
    status: 503,
    retriable: true,
    surface: ['http'],
    meaning:
      "Meta's Graph API did not answer in time, answered 5xx, or hit a rate limit (4, 80007, 130429, 131056); `details.step` names the step. The same call may succeed later: signup resumes where it stopped, a send with the same Idempotency-Key is tried again",
  },
  EC_SIGNUP_DISABLED: {
    status: 403,
    retriable: false,
    surface: ['http'],
    meaning: 'Embedded Signup was called but no `META_APP_ID` is configured',
  },
  EC_METHOD_NOT_ALLOWED: { status: 405, retriable: false, surface: ['http'], meaning: 'the route exists, the method does not' },
  EC_INTERNAL: {
    status: 500,
    retriable: false,
    surface: ['http', 'start-up', 'cli', 'internal'],
    meaning: 'a bug: the answer says no more, the log has the cause',
  },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  /** Extra, non-secret facts for logs and 4xx bodies (e.g. which parameter was wrong). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; details?: Record<string, unknown>; retriable?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retriable = opts.retriable ?? ERROR_CODES[code].retriable;
    this.details = opts.details;
  }

  /** The exit status of `echocue` when a command stops on this error. */
  get exitCode(): number {
    const spec: CodeSpec = ERROR_CODES[this.code];
    return spec.exit ?? 1;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** Whether a failure may pass by itself if the same call is made again: only an AppError says so (each port maps its
 *  client's errors to one first); anything else is a bug or a refusal, retried by nobody. */
export const isRetriable = (e: unknown): boolean => isAppError(e) && e.retriable;
