// Deterministic and random identifiers.
import { createHash, randomBytes } from 'node:crypto';

/** JSON with object keys sorted, so the same value always has the same text whatever Meta's key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as Record<string, unknown>).sort();
  return `{${keys
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

/** A stable id for one Meta item: the same item delivered twice, in any POST, gets the same id. */
export function deterministicId(prefix: string, ...parts: unknown[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : canonicalJson(p)).update('\u0000');
  return `${prefix}_${h.digest('base64url').slice(0, 27)}`;
}

/** A random id with a type prefix, for things EchoCue creates itself (accounts, keys). */
export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}
