// Odd REST calls, generated from the served OpenAPI document (issue 16, "Bad input"): every operation with path
// parameters that are malformed ids, other tenants' ids and operator-shaped strings; documented and undocumented
// query parameters with odd values; arbitrary JSON bodies; and every kind of credential. Deterministic for a seed.
import fc from 'fast-check';

export type RestCall = {
  name: string;
  method: string;
  path: string;
  query: [string, string][];
  body: unknown;
  auth: 'key' | 'other' | 'none' | 'garbage' | 'admin';
};

type Operation = { operationId: string; method: string; path: string; parameters: { name: string; in: string }[]; hasBody: boolean };

/** Strings that have broken lookups, queries and parsers elsewhere. */
export const NASTY = [
  '{"$ne":null}',
  '{"$gt":""}',
  '$where',
  'this.a==1',
  "'; DROP TABLE x; --",
  '../../etc/passwd',
  '%2e%2e%2f',
  'con_',
  'thr_',
  'msg_',
  'tpl_',
  'bc_',
  'x'.repeat(5000),
  '💥🔥',
  '\u0000',
  ' ',
  '-1',
  '0',
  '1e999',
  'NaN',
  'true',
  '[]',
  '{}',
  'null',
  '2026-13-45T99:99:99Z',
  '1781600000',
  '__proto__',
  'constructor',
  'wamid.HBgLMTU1NTAxOTkwMDEVAgASGBQwMTMwMUI0MDkwNTZBRUYxMThFNAA=',
];

/** The operations of an OpenAPI 3.1 document. */
export function operationsOf(doc: {
  paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[]; requestBody?: unknown }>>;
}): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      operationId: op.operationId,
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      hasBody: op.requestBody !== undefined,
    })),
  );
}

/** `count` calls spread over the operations, the same for the same seed. `known`: real ids the calls may use too
 *  (a real id with an odd query, or another tenant's id). */
export function restCalls(ops: readonly Operation[], count: number, known: readonly string[], seed = 20261202): RestCall[] {
  const value = fc.oneof(
    fc.constantFrom(...NASTY),
    fc.constantFrom(...(known.length ? known : ['none'])),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
  );
  const call = fc.constantFrom(...ops).chain((op) =>
    fc
      .record({
        params: fc.array(value, { minLength: 8, maxLength: 8 }),
        query: fc.oneof(
          fc.constant([] as [string, string][]),
          fc.array(
            fc.tuple(
              fc.oneof(
                fc.constantFrom(...op.parameters.filter((p) => p.in === 'query').map((p) => p.name), 'limit', 'cursor', 'updated_since'),
                fc.constantFrom('updated_since[$gt]', '__proto__', 'x', 'limit[]'),
              ),
              value,
            ),
            { maxLength: 4 },
          ),
        ),
        body: fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.constant(undefined),
          fc.record(
            { up_to: value, url: value, name: value, waba_id: value, events: fc.array(value, { maxLength: 3 }) },
            { requiredKeys: [] },
          ),
        ),
        auth: fc.constantFrom<RestCall['auth']>('key', 'key', 'key', 'other', 'none', 'garbage', 'admin'),
      })
      .map(({ params, query, body, auth }) => {
        let i = 0;
        // "." and ".." stay segments of their own (a URL would resolve them away before sending).
        const segment = (v: string) => encodeURIComponent(v || 'x').replace(/^\.\.?$/, (dots) => dots.replaceAll('.', '%2E'));
        const path = op.path.replace(/\{\w+\}/g, () => segment(params[i++ % params.length]!));
        return {
          name: `${op.operationId} ${path.slice(0, 80)}`,
          method: op.method,
          path,
          query,
          body: op.hasBody || op.method !== 'GET' ? body : undefined,
          auth,
        };
      }),
  );
  return fc.sample(call, { numRuns: count, seed });
}
