// The bytes EchoCue POSTs to a customer's webhook URL and the headers that sign them. Pure: no I/O, no clock.
// The signature is `sha256=<hex HMAC-SHA256(raw body)>` because that is what the product page promises (the GitHub
// X-Hub-Signature-256 shape). It covers the body only: the event id, timestamp and attempt headers are NOT signed,
// see ../shared/docs/outbound-webhooks.md §0.1 for the replay-protection trade-off.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../core/errors.ts';

import { CATEGORIES, type Category } from '../events/outbound.ts';

export { CATEGORIES, type Category };

/** What a receiver parses from the body; `data` is whatever JSON `data` serialised to. `version` is there from
 *  payload version 2 on (src/views/webhook-events.ts), `test` on test events only. */
export type Envelope = { id: string; type: Category; version?: number; created_at: string; test?: true; data: unknown };

const isCategory = (value: unknown): value is Category => (CATEGORIES as readonly unknown[]).includes(value);

function encodingError(message: string, cause?: unknown): AppError {
  return new AppError('EC_EVENT_ENCODING', message, cause === undefined ? {} : { cause });
}

const isValidDate = (d: unknown): d is Date => d instanceof Date && !Number.isNaN(d.getTime());

/**
 * Builds the envelope and its exact wire bytes (compact JSON, keys in the order id, type, version, created_at, test,
 * data; version only from 2 on, test only on test events).
 * `envelope` is parsed back from `body`, so it is exactly what the receiver sees (a Date in `data` is already a string).
 * Throws EC_EVENT_ENCODING for an unknown category, an invalid date, an empty id or `data` JSON cannot carry.
 */
export function buildEnvelope(input: {
  id: string;
  category: Category;
  createdAt: Date;
  data: unknown;
  version?: number;
  test?: boolean;
}): {
  body: string;
  envelope: Envelope;
} {
  const { id, category, createdAt, data } = input;
  const version = input.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 1) throw encodingError(`webhook envelope version ${version} is not a positive integer`);
  if (typeof id !== 'string' || id === '') throw encodingError('webhook envelope id must be a non-empty string');
  if (!isCategory(category))
    throw encodingError(`webhook envelope category ${JSON.stringify(category)} is not one of ${CATEGORIES.join(', ')}`);
  if (!isValidDate(createdAt)) throw encodingError('webhook envelope createdAt is not a valid Date');
  let body: string | undefined;
  try {
    body = JSON.stringify({
      id,
      type: category,
      ...(version > 1 ? { version } : {}),
      created_at: createdAt.toISOString(),
      ...(input.test ? { test: true } : {}),
      data,
    });
  } catch (cause) {
    throw encodingError(`webhook envelope data for ${id} is not JSON-serialisable`, cause); // BigInt, cycles
  }
  // JSON.stringify silently drops a key whose value is undefined or a function: the receiver would get no `data`.
  const envelope = JSON.parse(body) as Envelope;
  if (!('data' in envelope)) throw encodingError(`webhook envelope data for ${id} serialises to nothing`);
  return { body, envelope };
}

/** The header promised on the product page; receivers check it with verifySignature. */
export const SIGNATURE_HEADER = 'X-EchoCue-Signature';

const sign = (body: string | Buffer, secret: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * Headers for one attempt. The signature is over the raw `body` bytes only; re-create the headers on every attempt
 * (the attempt number and timestamp change, the event id does not). The secret never appears in the result.
 */
export function signatureHeaders(input: {
  body: string;
  secret: string;
  eventId: string;
  timestamp: Date;
  attempt: number;
}): Record<string, string> {
  const { body, secret, eventId, timestamp, attempt } = input;
  if (typeof secret !== 'string' || secret === '') throw new AppError('EC_INTERNAL', 'webhook signing secret is empty');
  if (typeof eventId !== 'string' || eventId === '') throw new AppError('EC_INTERNAL', 'webhook event id is empty');
  if (!isValidDate(timestamp)) throw new AppError('EC_INTERNAL', 'webhook timestamp is not a valid Date');
  if (!Number.isSafeInteger(attempt) || attempt < 1)
    throw new AppError('EC_INTERNAL', `webhook attempt ${attempt} is not a positive integer`);
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'EchoCue-Webhooks/1',
    [SIGNATURE_HEADER]: sign(body, secret),
    'X-EchoCue-Event-Id': eventId,
    'X-EchoCue-Timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'X-EchoCue-Attempt': String(attempt),
  };
}

/**
 * Receiver side, published in the README: does `header` (X-EchoCue-Signature) match the raw request body?
 * Pass the raw bytes as received, not re-serialised JSON. Constant-time; only node:crypto.
 */
export function verifySignature(body: string | Buffer, header: string | undefined, secret: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const received = Buffer.from(header ?? '');
  return received.length === expected.length && timingSafeEqual(received, expected);
}
