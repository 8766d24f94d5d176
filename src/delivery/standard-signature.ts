// Standard Webhooks signing (https://www.standardwebhooks.com, spec §"Signature scheme"), next to the product page's
// X-EchoCue-Signature: `webhook-id` (the event id, the same on every attempt and replay), `webhook-timestamp` (unix
// seconds of this attempt) and `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256 of
// "id.timestamp.body">`, one per live secret of the endpoint (during a rotation's overlap both the new and the old
// secrets sign). A secret is `whsec_` + base64 of 32 random bytes, the HMAC key being those bytes. Because the id
// and the timestamp are signed, a receiver can refuse a replayed request (a timestamp outside its tolerance, an id
// seen before). Pure apart from the random bytes of a new secret: tested without I/O, and against the
// `standardwebhooks` library in the e2e tests.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../core/errors.ts';

export const SECRET_PREFIX = 'whsec_';

export const STANDARD_HEADERS = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

/** Secrets are made where they are stored (src/store/webhooks.ts). */
export { newEndpointSecret } from '../store/webhooks.ts';

/** The HMAC key of a `whsec_` secret; EC_INTERNAL for anything else (a stored secret is always one). */
function keyOf(secret: string): Buffer {
  const key = secret.startsWith(SECRET_PREFIX) ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64') : Buffer.alloc(0);
  if (key.length < 24 || key.length > 64)
    throw new AppError('EC_INTERNAL', 'an endpoint signing secret is not a whsec_ key of 24 to 64 bytes');
  return key;
}

const signOne = (secret: string, content: string): string => `v1,${createHmac('sha256', keyOf(secret)).update(content).digest('base64')}`;

/** The three headers of one attempt, signed by every secret in `secrets` (newest first). Throws EC_INTERNAL when
 *  there is no secret, the id is empty or the time is not a valid Date. */
export function standardHeaders(input: { secrets: readonly string[]; id: string; timestamp: Date; body: string }): Record<string, string> {
  const { secrets, id, timestamp, body } = input;
  if (secrets.length === 0) throw new AppError('EC_INTERNAL', 'an endpoint has no signing secret');
  if (id === '' || /[\s.]/.test(id)) throw new AppError('EC_INTERNAL', `webhook-id ${JSON.stringify(id)} is empty or has a dot or space`);
  if (!(timestamp instanceof Date) || Number.isNaN(timestamp.getTime()))
    throw new AppError('EC_INTERNAL', 'webhook-timestamp is not a valid Date');
  const seconds = String(Math.floor(timestamp.getTime() / 1000));
  const content = `${id}.${seconds}.${body}`;
  return {
    [STANDARD_HEADERS.id]: id,
    [STANDARD_HEADERS.timestamp]: seconds,
    [STANDARD_HEADERS.signature]: secrets.map((s) => signOne(s, content)).join(' '),
  };
}

/**
 * Receiver side with node:crypto only (the README shows it): true when one of the `v1,` signatures in `signature`
 * matches `id.timestamp.body` under `secret` and the timestamp lies within `toleranceSec` of `now` (the spec's and
 * the libraries' default: 5 minutes). Pass the raw body bytes as received.
 */
export function verifyStandard(
  input: { body: string | Buffer; id: string | undefined; timestamp: string | undefined; signature: string | undefined; secret: string },
  opts: { now?: Date; toleranceSec?: number } = {},
): boolean {
  const { id, timestamp, signature, secret } = input;
  if (!id || !timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - Number(timestamp)) > (opts.toleranceSec ?? 300)) return false;
  const expected = Buffer.from(signOne(secret, `${id}.${timestamp}.${input.body.toString()}`));
  return signature.split(' ').some((candidate) => {
    const got = Buffer.from(candidate);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
