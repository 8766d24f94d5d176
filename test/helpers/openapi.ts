// Checks real responses against the served OpenAPI document: each call is matched to its operation and its body
// validated (ajv, JSON Schema 2020-12, the dialect of OpenAPI 3.1) against the documented schema for its status.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { compileErrors, validate } from '@readme/openapi-parser';
import { ContractError } from './contract-error.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

type Doc = {
  paths: Record<
    string,
    Record<string, { operationId: string; tags?: string[]; responses: Record<string, { content?: Record<string, unknown> }> }>
  >;
};

export type ApiResponse = { status: number; json: any; headers: Headers; text: string };

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export async function openApiChecker(baseUrl: string) {
  const doc = (await (await fetch(`${baseUrl}/api/openapi.json`)).json()) as Doc;
  const result = await validate(structuredClone(doc) as never);
  if (!result.valid) throw new ContractError(`the OpenAPI document is invalid:\n${compileErrors(result)}`);
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc as object, 'openapi.json');
  const templates = Object.keys(doc.paths)
    .map((t) => ({ t, re: new RegExp(`^${t.replace(/\{\w+\}/g, '[^/]+')}$`), params: (t.match(/\{/g) ?? []).length }))
    .sort((a, b) => a.params - b.params);
  /** operationId -> statuses seen */
  const seen = new Map<string, Set<number>>();

  function check(method: string, path: string, res: ApiResponse): void {
    const m = templates.find((x) => x.re.test(path));
    if (!m) throw new ContractError(`${method} ${path} is not in the OpenAPI document`);
    const op = doc.paths[m.t]![method.toLowerCase()];
    if (!op) throw new ContractError(`${method} ${m.t} is not in the OpenAPI document`);
    const documented = op.responses[String(res.status)];
    if (!documented) throw new ContractError(`${op.operationId} answered ${res.status}, which the OpenAPI document does not list`);
    if (!documented.content) {
      if (res.text !== '') throw new ContractError(`${op.operationId} ${res.status} has a body the document does not describe`);
    } else {
      const ref = `openapi.json#/${pointer('paths', m.t, method.toLowerCase(), 'responses', String(res.status), 'content', 'application/json', 'schema')}`;
      const v = ajv.getSchema(ref);
      if (!v) throw new ContractError(`no schema at ${ref}`);
      if (!v(res.json))
        throw new ContractError(
          `${op.operationId} ${res.status} does not match the document: ${ajv.errorsText(v.errors)}\n${JSON.stringify(res.json).slice(0, 500)}`,
        );
    }
    // Seen only once the answer matched the document (issue 19: it was counted before its body was checked).
    if (!seen.has(op.operationId)) seen.set(op.operationId, new Set());
    seen.get(op.operationId)!.add(res.status);
  }

  return {
    doc,
    seen,
    /** A request through fetch, checked against the document. */
    async call(
      method: string,
      url: string,
      opts: { key?: string; headers?: Record<string, string>; body?: unknown } = {},
    ): Promise<ApiResponse> {
      const headers: Record<string, string> = { ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}), ...opts.headers };
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
      const text = await res.text();
      const out: ApiResponse = { status: res.status, text, json: text ? JSON.parse(text) : undefined, headers: res.headers };
      check(method, new URL(url).pathname, out);
      return out;
    },
    operations: (): { operationId: string; method: string; path: string; tag: string }[] =>
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ operationId: op.operationId, method, path, tag: op.tags?.[0] ?? '' })),
      ),
  };
}

export type OpenApiChecker = Awaited<ReturnType<typeof openApiChecker>>;
