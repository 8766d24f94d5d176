// Meta's GET verification handshake: hub.mode=subscribe and hub.verify_token equal to ours -> echo hub.challenge.
import { createHash, timingSafeEqual } from 'node:crypto';

export type HandshakeResult = { ok: true; challenge: string } | { ok: false; reason: string };

/** Compares digests so that the compare is constant-time whatever the lengths. */
function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

export function checkHandshake(query: Record<string, unknown>, verifyToken: string): HandshakeResult {
  const mode = query['hub.mode'];
  const token = query['hub.verify_token'];
  const challenge = query['hub.challenge'];
  if (mode !== 'subscribe') return { ok: false, reason: 'hub.mode must be "subscribe"' };
  if (typeof token !== 'string' || !sameSecret(token, verifyToken)) return { ok: false, reason: 'hub.verify_token does not match' };
  if (typeof challenge !== 'string' || challenge.length === 0 || challenge.length > 256) {
    return { ok: false, reason: 'hub.challenge must be a non-empty string of at most 256 characters' };
  }
  return { ok: true, challenge };
}
