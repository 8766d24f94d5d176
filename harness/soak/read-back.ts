// Everything a poller can read about the scenario's entities through the REST API, with an API key: every page of
// the thread and template lists and of each thread's messages, each contact and notification by id, and the
// 24-hour window of each thread. A route answering anything but 200 is recorded as { status, body } so the
// comparison shows it.
import { inLanes } from '../../src/core/lanes.ts';

type View = Record<string, unknown>;

/** What the REST API shows of the scenario's entities (and, in test/soak/expected.ts, what it should show). */
export type EntityViews = {
  /** GET /api/thread/list, every page, in the API's order. */
  threads: View[];
  /** GET /api/thread/{id}/messages, every page, in the API's order. */
  messages: Map<string, View[]>;
  /** GET /api/contact/{id}. */
  contacts: Map<string, View>;
  /** GET /api/notification/{wamid}. */
  notifications: Map<string, View>;
  /** GET /api/template/list, every page, in the API's order. */
  templates: View[];
};

export type ApiState = EntityViews & {
  windows: Map<string, View>;
  /** Requests made. */
  requests: number;
};

/** Runs `fn` over `items` with at most `n` at once (src/core/lanes.ts), keeping the input order in the result. */
export async function inParallel<T, R>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  await inLanes(
    items.map((_, i) => i),
    n,
    async (i) => {
      out[i] = await fn(items[i]!, i);
    },
  );
  return out;
}

export function apiReader(baseUrl: string, key: string) {
  let requests = 0;
  async function get(path: string): Promise<{ status: number; json: Record<string, any> }> {
    requests++;
    const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    let json: Record<string, any>;
    try {
      json = JSON.parse(text) as Record<string, any>;
    } catch {
      json = { text };
    }
    return { status: res.status, json };
  }
  const one = async (path: string): Promise<View> => {
    const r = await get(path);
    return r.status === 200 ? r.json : { status: r.status, body: r.json };
  };
  /** Every item of a list, following next_cursor to the last page. */
  async function allPages(path: string): Promise<View[]> {
    const items: View[] = [];
    let cursor: string | null = null;
    do {
      const r = await get(`${path}${path.includes('?') ? '&' : '?'}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}: ${JSON.stringify(r.json)}`);
      items.push(...(r.json['data'] as View[]));
      cursor = r.json['next_cursor'] as string | null;
    } while (cursor);
    return items;
  }

  return {
    requests: () => requests,
    /** Reads the lists, then every thread's messages and window, the given contacts (by id, wa_id or BSUID, plus
     *  any a thread names) and notifications. */
    async read(want: { contactIds: Iterable<string>; wamids: Iterable<string> }): Promise<ApiState> {
      const threads = await allPages('/api/thread/list');
      const templates = await allPages('/api/template/list');
      const messages = new Map(
        await inParallel(threads, 8, async (t) => [t['id'] as string, await allPages(`/api/thread/${t['id']}/messages`)] as const),
      );
      const windows = new Map(
        await inParallel(threads, 8, async (t) => {
          const q = new URLSearchParams({ phone_number_id: String(t['phone_number_id']), contact: String((t['contact'] as View)['id']) });
          return [t['id'] as string, await one(`/api/whatsapp/window?${q}`)] as const;
        }),
      );
      const contactIds = [...new Set([...want.contactIds, ...threads.map((t) => (t['contact'] as View)['id'] as string)])];
      const contacts = new Map(
        await inParallel(contactIds, 8, async (id) => [id, await one(`/api/contact/${encodeURIComponent(id)}`)] as const),
      );
      const notifications = new Map(
        await inParallel([...want.wamids], 8, async (w) => [w, await one(`/api/notification/${encodeURIComponent(w)}`)] as const),
      );
      return { threads, messages, contacts, notifications, templates, windows, requests };
    },
  };
}
