// Visibility probes of the end-to-end stage: after a webhook POST is answered 200, how long until a REST poller sees
// its effect. Inbound probes (one new contact per POST on the probe phone number) are found with one thread-list
// poll per tick; status probes (a sample of wamids) with GET /api/notification/{wamid}, at most `maxStatusPolls` per tick.
import { Pool } from 'undici';
import { sleep } from '../lib.ts';

type Pending = { answeredAt: number; sentAtWall: number };
/** Latencies in ms (lost probes included, censored at the drain's end), lost counts, polls made and their total time. */
export type ProbeSample = { thread: number[]; status: number[]; lostThread: number; lostStatus: number; polls: number; pollMs: number };

export function createProber(o: { url: string; key: string; probePhoneId: string; pollMs: number; maxStatusPolls: number }) {
  const pool = new Pool(o.url, { connections: o.maxStatusPolls + 2, keepAliveTimeout: 60_000 });
  const headers = { authorization: `Bearer ${o.key}` };
  const threads = new Map<string, Pending>();
  const statuses = new Map<string, Pending>();
  let sample: ProbeSample = { thread: [], status: [], lostThread: 0, lostStatus: 0, polls: 0, pollMs: 0 };
  let stopped = false;

  async function get(path: string): Promise<{ status: number; json: unknown }> {
    const res = await pool.request({ method: 'GET', path, headers });
    const text = await res.body.text();
    return { status: res.statusCode, json: res.statusCode === 200 ? JSON.parse(text) : null };
  }

  async function pollThreads(): Promise<void> {
    if (threads.size === 0) return;
    // Only the probe phone's threads changed since shortly before the oldest pending probe was sent.
    const oldest = Math.min(...[...threads.values()].map((p) => p.sentAtWall));
    const base = `/api/thread/list?phone_number_id=${o.probePhoneId}&updated_since=${new Date(oldest - 2000).toISOString()}&limit=100`;
    let cursor: string | null = null;
    for (let page = 0; page < 5 && threads.size > 0; page++) {
      const res = await get(cursor ? `${base}&cursor=${encodeURIComponent(cursor)}` : base);
      const seenAt = performance.now();
      const body = res.json as { data: { contact: { wa_id: string | null } }[]; next_cursor: string | null } | null;
      if (!body) return;
      for (const t of body.data) {
        const p = t.contact.wa_id ? threads.get(t.contact.wa_id) : undefined;
        if (p) {
          sample.thread.push(Math.max(0, seenAt - p.answeredAt));
          threads.delete(t.contact.wa_id!);
        }
      }
      cursor = body.next_cursor;
      if (!cursor) return;
    }
  }

  async function pollStatuses(): Promise<void> {
    const due = [...statuses.entries()].slice(0, o.maxStatusPolls);
    await Promise.all(
      due.map(async ([wamid, p]) => {
        const res = await get(`/api/notification/${encodeURIComponent(wamid)}`);
        if (res.status === 200) {
          sample.status.push(Math.max(0, performance.now() - p.answeredAt));
          statuses.delete(wamid);
        }
      }),
    );
  }

  const loop = (async () => {
    while (!stopped) {
      const start = performance.now();
      if (threads.size > 0 || statuses.size > 0) {
        await Promise.all([pollThreads(), pollStatuses()]).catch((err: unknown) =>
          process.stderr.write(`probe poll failed: ${String(err)}\n`),
        );
        sample.polls++;
        sample.pollMs += performance.now() - start;
      }
      await sleep(Math.max(0, o.pollMs - (performance.now() - start)));
    }
  })();

  return {
    /** A POST answered 200 at `answeredAt` (performance.now()), sent at `sentAtWall` (Date.now()). */
    add(kind: 'thread' | 'status', id: string, answeredAt: number, sentAtWall: number) {
      (kind === 'thread' ? threads : statuses).set(id, { answeredAt, sentAtWall });
    },
    /**
     * Waits until every probe is seen or `timeoutMs` passed, then hands over the sample. A probe still unseen counts
     * as lost, with the time it has waited so far as its latency (censored: the true latency is longer).
     */
    async drain(timeoutMs: number): Promise<ProbeSample> {
      const deadline = performance.now() + timeoutMs;
      while ((threads.size > 0 || statuses.size > 0) && performance.now() < deadline) await sleep(o.pollMs);
      const now = performance.now();
      for (const p of threads.values()) sample.thread.push(now - p.answeredAt);
      for (const p of statuses.values()) sample.status.push(now - p.answeredAt);
      const out = { ...sample, lostThread: threads.size, lostStatus: statuses.size };
      threads.clear();
      statuses.clear();
      sample = { thread: [], status: [], lostThread: 0, lostStatus: 0, polls: 0, pollMs: 0 };
      return out;
    },
    async stop() {
      stopped = true;
      await loop;
      await pool.close();
    },
  };
}
