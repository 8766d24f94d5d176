// One error base for the whole service. Callers decide from `code` and `retriable`, never from the message.

/** Every error code EchoCue raises. Documented in README.md ("Error codes"). */
export const ERROR_CODES = {
  EC_CONFIG_INVALID: { status: 500, retriable: false },
  EC_SIGNATURE_MISSING: { status: 401, retriable: false },
  EC_SIGNATURE_INVALID: { status: 401, retriable: false },
  EC_VERIFY_TOKEN_INVALID: { status: 403, retriable: false },
  EC_BODY_TOO_LARGE: { status: 413, retriable: false },
  EC_BODY_NOT_JSON: { status: 400, retriable: false },
  EC_UNSUPPORTED_MEDIA_TYPE: { status: 415, retriable: false },
  EC_KAFKA_UNAVAILABLE: { status: 503, retriable: true },
  EC_SCHEMA_REGISTRY_UNAVAILABLE: { status: 503, retriable: true },
  EC_EVENT_ENCODING: { status: 500, retriable: false },
  EC_EVENT_DECODING: { status: 500, retriable: false },
  EC_EVENT_UNAPPLICABLE: { status: 500, retriable: false },
  EC_STORE_UNAVAILABLE: { status: 503, retriable: true },
  EC_STORE_CONFLICT: { status: 409, retriable: true },
  EC_STORE_REFUSED: { status: 500, retriable: false },
  EC_UNAUTHENTICATED: { status: 401, retriable: false },
  EC_NOT_FOUND: { status: 404, retriable: false },
  EC_BAD_REQUEST: { status: 400, retriable: false },
  EC_RATE_LIMITED: { status: 429, retriable: true },
  EC_URL_REFUSED: { status: 400, retriable: false },
  EC_ADMIN_DISABLED: { status: 403, retriable: false },
  EC_METHOD_NOT_ALLOWED: { status: 405, retriable: false },
  EC_INTERNAL: { status: 500, retriable: false },
} as const satisfies Record<string, { status: number; retriable: boolean }>;

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
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
