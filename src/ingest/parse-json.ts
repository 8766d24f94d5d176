// JSON.parse that keeps integers beyond 2^53 exact: Meta's template ids are JSON numbers of 16 digits
// (docs/meta-webhooks.md §6), and a double would silently change one that exceeds 2^53. Such integers are
// returned as their decimal text, using the reviver's source text (ES2025 JSON.parse source access, Node >= 21).
const LONG_DIGITS = /\d{16,}/;

type ReviverContext = { source?: string };

function keepBigIntegers(this: unknown, _key: string, value: unknown, context?: ReviverContext): unknown {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) {
    return context.source;
  }
  return value;
}

/** U+0000 is replaced by U+FFFD in every string and key: MongoDB refuses it in keys, and FerretDB over PostgreSQL
 *  in strings too (jsonb: "unsupported Unicode escape sequence"), which failed the batch holding it on every retry
 *  and stalled its partition for good (found by test/e2e/fuzz.test.ts). The raw topic keeps the exact bytes. */
function withoutNul(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).some((k) => k.includes('\0'))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replaceAll('\0', '\uFFFD'), v]));
  }
  return value;
}

export function parseJsonLossless(text: string): unknown {
  // A NUL can only be in JSON text as the escape \u0000 (a raw control character is invalid JSON); both revivers
  // cost time on every value, so each only runs when the text can need it.
  const nul = text.includes('\\u0000');
  const big = LONG_DIGITS.test(text);
  if (!nul && !big) return JSON.parse(text);
  return JSON.parse(text, function (this: unknown, key: string, value: unknown, context?: ReviverContext) {
    const v = big ? keepBigIntegers.call(this, key, value, context) : value;
    return nul ? withoutNul(v) : v;
  } as (k: string, v: unknown) => unknown);
}

/** Whether a parsed JSON value nests arrays and objects deeper than `limit` levels. Iterative, so any depth is
 *  measured without overflowing the stack (JSON.parse itself handles any depth; JSON.stringify does not). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return false;
}
