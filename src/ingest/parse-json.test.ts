import { describe, expect, test } from 'vitest';
import { parseJsonLossless } from './parse-json.ts';

describe('ingest > JSON parsing', () => {
  test('integers beyond 2^53 stay exact (as their text); others stay numbers', () => {
    expect(parseJsonLossless('{"id":1513749260318847123,"n":12}')).toEqual({ id: '1513749260318847123', n: 12 });
  });

  test('U+0000 becomes U+FFFD in strings and keys, which no store refuses (found by the fuzz suite)', () => {
    expect(parseJsonLossless('{"text":{"body":"a\\u0000b"},"k\\u0000":["\\u0000"]}')).toEqual({
      text: { body: 'a\uFFFDb' },
      'k\uFFFD': ['\uFFFD'],
    });
    // Both at once, and an escaped backslash before "u0000" is text, not a NUL.
    expect(parseJsonLossless('{"id":1513749260318847123,"t":"\\u0000","u":"\\\\u0000"}')).toEqual({
      id: '1513749260318847123',
      t: '\uFFFD',
      u: '\\u0000',
    });
  });

  test('anything else parses as JSON.parse does', () => {
    for (const text of ['{"a":[1,2,{"b":null}]}', '"x"', '[]', '{"__proto__":{"x":1}}'])
      expect(parseJsonLossless(text)).toEqual(JSON.parse(text));
  });
});
