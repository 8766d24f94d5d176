// The session's reads and fenced writes against the in-memory store: the state cache saves reads, and a member whose
// cache is stale (another member wrote since) cannot overwrite the newer document.
import { describe, expect, test } from 'vitest';
import { MemoryActorStore } from '../../harness/memory-actor-store.ts';
import { type ActorStore } from './ports.ts';
import { Session } from './session.ts';
import { StateCache } from './state-cache.ts';
import { emptyWabaState } from './account/reduce.ts';

/** Counts the store reads that reach the store. */
function counting(store: MemoryActorStore): ActorStore & { reads: number } {
  const s = {
    reads: 0,
    load: async (...a: Parameters<ActorStore['load']>) => {
      s.reads++;
      return store.load(...a);
    },
    contactsByAliases: async (...a: Parameters<ActorStore['contactsByAliases']>) => {
      s.reads++;
      return store.contactsByAliases(...a);
    },
    commit: (w: Parameters<ActorStore['commit']>[0]) => store.commit(w),
  };
  return s as never;
}

const state = (id: string, limit: string) => ({ ...emptyWabaState(id, new Date(0)), messaging_limit: limit });

describe('actors > session', () => {
  test('with a state cache, a document written by one batch is read by the next without the store; known-absent ones too', async () => {
    const mem = new MemoryActorStore();
    const store = counting(mem);
    const cache = new StateCache(100);
    const first = new Session(store, cache);
    expect(await first.get('waba_state', 'w1')).toBeNull();
    expect(await first.get('waba_state', 'w2')).toBeNull();
    first.put('waba_state', state('w1', 'TIER_1K'));
    await first.flush();
    expect(store.reads).toBe(2);
    const second = new Session(store, cache);
    expect(await second.get('waba_state', 'w1')).toMatchObject({ messaging_limit: 'TIER_1K', _v: 1 });
    expect(await second.get('waba_state', 'w2')).toBeNull();
    expect(store.reads).toBe(2);
    second.put('waba_state', { ...(await second.get('waba_state', 'w1'))!, messaging_limit: 'TIER_10K' });
    await second.flush();
    expect(mem.data.waba_state.get('w1')).toMatchObject({ messaging_limit: 'TIER_10K', _v: 2 });
  });

  test('a stale member (its cache from before another member wrote) cannot overwrite the newer document: EC_STORE_CONFLICT', async () => {
    const mem = new MemoryActorStore();
    const a = new StateCache(100);
    const b = new StateCache(100);
    const seed = new Session(mem, a);
    seed.put('waba_state', state('w1', 'TIER_1K'));
    await seed.flush();
    // Member B takes the partition over and writes.
    const newOwner = new Session(mem, b);
    newOwner.put('waba_state', { ...(await newOwner.get('waba_state', 'w1'))!, messaging_limit: 'TIER_100K' });
    await newOwner.flush();
    // Member A wakes up with what it cached before, and writes.
    const stale = new Session(mem, a);
    stale.put('waba_state', { ...(await stale.get('waba_state', 'w1'))!, messaging_limit: 'TIER_10K' });
    await expect(stale.flush()).rejects.toMatchObject({ code: 'EC_STORE_CONFLICT' });
    expect(mem.data.waba_state.get('w1')).toMatchObject({ messaging_limit: 'TIER_100K', _v: 2 });
    // A document A believes new, which B created meanwhile, is refused as well.
    const created = new Session(mem, b);
    created.put('waba_state', state('w9', 'TIER_1K'));
    const staleCreate = new Session(mem, new StateCache(0));
    expect(await staleCreate.get('waba_state', 'w9')).toBeNull();
    await created.flush();
    staleCreate.put('waba_state', state('w9', 'TIER_250'));
    await expect(staleCreate.flush()).rejects.toMatchObject({ code: 'EC_STORE_CONFLICT' });
    expect(mem.data.waba_state.get('w9')).toMatchObject({ messaging_limit: 'TIER_1K' });
  });

  test('a put that changes only the stamps (a redelivered event: updated_at later) writes nothing and keeps the stored document', async () => {
    const mem = new MemoryActorStore();
    const seed = new Session(mem);
    seed.put('waba_state', state('w1', 'TIER_1K'));
    await seed.flush();
    const stored = mem.data.waba_state.get('w1')!;
    const again = new Session(mem);
    const read = (await again.get('waba_state', 'w1'))!;
    again.put('waba_state', { ...read, updated_at: new Date(60_000) });
    expect(await again.get('waba_state', 'w1')).toEqual(read);
    await again.flush();
    expect(mem.data.waba_state.get('w1')).toEqual(stored);
    // A change of content is written, with its new updated_at.
    const changed = new Session(mem);
    changed.put('waba_state', { ...(await changed.get('waba_state', 'w1'))!, messaging_limit: 'TIER_10K', updated_at: new Date(60_000) });
    await changed.flush();
    expect(mem.data.waba_state.get('w1')).toMatchObject({ messaging_limit: 'TIER_10K', updated_at: new Date(60_000), _v: 2 });
  });
});
