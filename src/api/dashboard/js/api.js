// The REST API client: the API key of this tab, one call to the API, and the API's errors.
// The key lives in sessionStorage (this tab only), never in the URL or localStorage.

const KEY_STORAGE = 'echocue.apiKey';

export const apiKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE),
  set: (key) => sessionStorage.setItem(KEY_STORAGE, key),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The path of a webhooks resource; each part is URL-encoded. */
export const apiPath = (...parts) => `/api/webhooks/${parts.map(encodeURIComponent).join('/')}`;

/** One call to the REST API with the key of this tab; API errors become ApiError with the API's message. */
export async function api(method, url, body) {
  const headers = { authorization: `Bearer ${apiKey.get() ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: reported below */
  }
  if (!res.ok) {
    const err = json?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP ${res.status}`, err?.message ?? `${res.status} ${res.statusText}`);
  }
  return json;
}
