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

export function parseJsonLossless(text: string): unknown {
  // The reviver costs time on every value, so it only runs when the text has a 16+ digit run at all.
  return LONG_DIGITS.test(text) ? JSON.parse(text, keepBigIntegers as (k: string, v: unknown) => unknown) : JSON.parse(text);
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
