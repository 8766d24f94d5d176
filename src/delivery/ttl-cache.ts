// A small read-through cache whose entries live `ttlMs`: getMany answers the hits and loads every miss of a batch
// with one call of the loader. Only what `keep` accepts is cached (the delivery side keeps live endpoints and keys
// only: a disabled, deleted or revoked answer is read again every time, so re-enabling takes effect at once).
// No I/O of its own; the clock is injected.
import { systemClock, type Clock } from '../core/clock.ts';

export type TtlCache<V> = {
  /** Values for `ids` (a missing id had nothing to load); misses loaded in one call of `load`. */
  getMany(ids: Iterable<string>, load: (missing: string[]) => Promise<Map<string, V>>): Promise<Map<string, V>>;
  delete(id: string): void;
  clear(): void;
};

export type TtlCacheOptions<V> = {
  ttlMs: number;
  /** Default the system clock. */
  clock?: Clock;
  /** Which loaded values to cache; default all. */
  keep?: (v: V) => boolean;
  /** Default 100 000. */
  maxEntries?: number;
};

export function createTtlCache<V>(opts: TtlCacheOptions<V>): TtlCache<V> {
  const clock = opts.clock ?? systemClock;
  const now = () => clock.now().getTime();
  const keep = opts.keep ?? (() => true);
  const max = opts.maxEntries ?? 100_000;
  const entries = new Map<string, { value: V; until: number }>();
  return {
    async getMany(ids, load) {
      const out = new Map<string, V>();
      const missing: string[] = [];
      const t = now();
      for (const id of new Set(ids)) {
        const e = entries.get(id);
        if (e && e.until > t) out.set(id, e.value);
        else missing.push(id);
      }
      if (missing.length === 0) return out;
      const loaded = await load(missing);
      const until = now() + opts.ttlMs;
      for (const [id, value] of loaded) {
        out.set(id, value);
        if (opts.ttlMs <= 0 || !keep(value)) {
          entries.delete(id);
          continue;
        }
        if (entries.size >= max) entries.clear(); // crude bound: a cache this large is refilled in one batch
        entries.set(id, { value, until });
      }
      return out;
    },
    delete: (id) => void entries.delete(id),
    clear: () => entries.clear(),
  };
}
