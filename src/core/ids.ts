// Deterministic and random identifiers.
import { createHash, randomBytes } from 'node:crypto';

/** Nesting up to which canonicalJson recurses; deeper values (only hostile or broken bodies) take the iterative path. */
const RECURSION_LIMIT = 256;

/** JSON with object keys sorted, so the same value always has the same text whatever Meta's key order. A signed body
 *  nested thousands of levels deep must still get its ids, not a RangeError that answers Meta 500 on every retry:
 *  past RECURSION_LIMIT levels the value is written with an explicit stack instead (the same text, slower). */
export function canonicalJson(value: unknown): string {
  const text = shallow(value, 0);
  return text ?? iterative(value);
}

/** The recursive writer (the hot path: ingest hashes every Meta item); undefined when the value is too deep. */
function shallow(v: unknown, depth: number): string | undefined {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? '';
  if (depth >= RECURSION_LIMIT) return undefined;
  let out: string;
  if (Array.isArray(v)) {
    out = '[';
    for (let i = 0; i < v.length; i++) {
      const item = shallow(v[i], depth + 1);
      if (item === undefined) return undefined;
      out += i > 0 ? `,${item}` : item;
    }
    return `${out}]`;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  out = '{';
  let first = true;
  for (const k of keys) {
    if (o[k] === undefined) continue;
    const item = shallow(o[k], depth + 1);
    if (item === undefined) return undefined;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${item}`;
    first = false;
  }
  return `${out}}`;
}

/** The same text as `shallow`, with an explicit stack: any depth. */
function iterative(value: unknown): string {
  const out: string[] = [];
  // Each entry is a value still to write, or text to emit as it is.
  const todo: ({ v: unknown } | string)[] = [{ v: value }];
  while (todo.length > 0) {
    const next = todo.pop()!;
    if (typeof next === 'string') {
      out.push(next);
      continue;
    }
    const v = next.v;
    if (v === null || typeof v !== 'object') {
      out.push(JSON.stringify(v) ?? '');
      continue;
    }
    if (Array.isArray(v)) {
      todo.push(']');
      for (let i = v.length - 1; i >= 0; i--) {
        todo.push({ v: v[i] });
        if (i > 0) todo.push(',');
      }
      todo.push('[');
      continue;
    }
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined);
    todo.push('}');
    for (let i = keys.length - 1; i >= 0; i--) {
      todo.push({ v: o[keys[i]!] });
      todo.push(`${JSON.stringify(keys[i])}:`);
      if (i > 0) todo.push(',');
    }
    todo.push('{');
  }
  return out.join('');
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
