import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { canonicalJson, deterministicId } from './ids.ts';
import { parseJsonLossless } from '../ingest/parse-json.ts';

/** The first release's recursive form: event ids already on Kafka and in the store were made with it. */
function recursive(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(recursive).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${recursive(o[k])}`)
    .join(',')}}`;
}

describe('core > ids', () => {
  test("canonical JSON is exactly the first release's text for any JSON value (ids stay stable)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(v)).toBe(recursive(v));
      }),
      { numRuns: 500 },
    );
    const meta = parseJsonLossless('{"b":[1,{"z":12345678901234567890,"a":"x"}],"a":null,"c":{"": [] }}');
    expect(canonicalJson(meta)).toBe(recursive(meta));
  });

  test("values on both sides of the recursion limit get the same text as the first release's form", () => {
    for (const depth of [255, 256, 257, 300]) {
      const nested = parseJsonLossless(`${'{"b":2,"a":['.repeat(depth)}{"z":1,"y":"x"}${']}'.repeat(depth)}`);
      expect(canonicalJson(nested), `depth ${depth}`).toBe(recursive(nested));
    }
  });

  test('a value nested 100,000 levels deep gets an id (the recursive form threw RangeError)', () => {
    const deep = parseJsonLossless(`${'['.repeat(100_000)}{"k":1}${']'.repeat(100_000)}`);
    expect(() => recursive(deep)).toThrow(RangeError);
    expect(deterministicId('evt', deep)).toMatch(/^evt_[A-Za-z0-9_-]{27}$/);
    expect(deterministicId('evt', deep)).toBe(
      deterministicId('evt', parseJsonLossless(`${'['.repeat(100_000)}{"k":1}${']'.repeat(100_000)}`)),
    );
  });
});
