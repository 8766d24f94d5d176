// Meta signs the exact request bytes: X-Hub-Signature-256: sha256=<hex HMAC-SHA256(raw body, app secret)>.
// Never re-serialise the JSON before hashing (docs/meta-webhooks.md §1.2). Several secrets may be valid at once
// during a rotation; each is tried with a constant-time compare.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck =
  { ok: true; secretIndex: number } | { ok: false; code: 'EC_SIGNATURE_MISSING' | 'EC_SIGNATURE_INVALID'; reason: string };

const HEADER_RE = /^sha256=([0-9a-fA-F]{64})$/;

export function verifySignature(raw: Buffer, header: string | undefined, secrets: readonly string[]): SignatureCheck {
  if (header === undefined || header.trim() === '') {
    return { ok: false, code: 'EC_SIGNATURE_MISSING', reason: 'X-Hub-Signature-256 header is missing' };
  }
  const m = HEADER_RE.exec(header.trim());
  if (!m) {
    return { ok: false, code: 'EC_SIGNATURE_INVALID', reason: 'X-Hub-Signature-256 must be "sha256=" followed by 64 hex digits' };
  }
  const given = Buffer.from(m[1]!.toLowerCase(), 'hex');
  for (let i = 0; i < secrets.length; i++) {
    const expected = createHmac('sha256', secrets[i]!).update(raw).digest();
    if (timingSafeEqual(expected, given)) return { ok: true, secretIndex: i };
  }
  return { ok: false, code: 'EC_SIGNATURE_INVALID', reason: 'X-Hub-Signature-256 does not match the body' };
}

/** Signs a body as Meta does (used by tests, the benchmark load generator and `echocue sign`). */
export function signBody(raw: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
}
