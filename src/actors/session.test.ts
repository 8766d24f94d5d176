// The session's reads and fenced writes against the in-memory store (harness/memory-actor-store.ts) as the fake of its
// port: what a batch reads once, what its puts and deletes make of later reads, what the flush writes (inserts,
// versioned replaces, deletes, nothing for an unchanged document) and what the state cache holds afterwards. A member
// whose cache is stale (another member wrote since) cannot overwrite the newer document.
import { describe, expect, test } from 'vitest';
import { MemoryActorStore } from '../../harness/memory-actor-store.ts';
import { ACTOR_COLLECTIONS, type ActorCollection, type ActorDocs, type ActorStore, type WriteSet } from './ports.ts';
import { type ContactDoc, type MessageDoc } from '../store/docs.ts';
import { Session } from './session.ts';
import { StateCache } from './state-cache.ts';
import { emptyWabaState } from './account/reduce.ts';
import { emptyMessage } from './message/reduce.ts';
import { emptyThread } from './thread/reduce.ts';

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

/** The in-memory store, keeping a copy of every write set the session hands it: what the batch wrote. */
function recording(mem = new MemoryActorStore()) {
  const commits: WriteSet[] = [];
  const store: ActorStore = {
    load: mem.load.bind(mem),
    contactsByAliases: mem.contactsByAliases.bind(mem),
    commit: async (w) => {
      commits.push(structuredClone(w));
      return mem.commit(w);
    },
  };
  return { mem, store, commits };
}

/** What a write set writes, empty collections left out: the ids inserted, and the ids replaced or deleted with the
 *  version each names; `fenced`: every id the set names a version for. */
function summary(ws: WriteSet) {
  const out = {
    inserts: {} as Record<string, string[]>,
    replaces: {} as Record<string, unknown[]>,
    deletes: {} as Record<string, unknown[]>,
  };
  const fenced: string[] = [];
  for (const c of ACTOR_COLLECTIONS) {
    if (ws.inserts[c].length > 0) out.inserts[c] = ws.inserts[c].map((d) => d._id);
    if (ws.replaces[c].length > 0) out.replaces[c] = ws.replaces[c].map((d) => [d._id, ws.versions[c].get(d._id)]);
    if (ws.deletes[c].length > 0) out.deletes[c] = ws.deletes[c].map((id) => [id, ws.versions[c].get(id)]);
    fenced.push(...[...ws.versions[c].keys()].map((id) => `${c}/${id}`));
  }
  return { ...out, fenced: fenced.sort() };
}

const WABA = 'waba1';

const contact = (id: string, aliases: string[], extra: Partial<ContactDoc> = {}): ContactDoc => ({
  _id: id,
  waba_id: WABA,
  aliases,
  wa_id: null,
  wa_id_stamp: null,
  user_id: null,
  user_id_stamp: null,
  name: null,
  username: null,
  profile_stamp: null,
  consent: [],
  thread_ids: [],
  opted_out_at: null,
  updated_at: new Date(0),
  ...extra,
});

const message = (id: string, threadId: string): MessageDoc => ({
  ...emptyMessage(id, WABA, `wamid.${id}`, 'inbound', new Date(0)),
  thread_id: threadId,
});

/** Puts documents into the store as another writer left them, with the version given. */
function stored<C extends ActorCollection>(mem: MemoryActorStore, c: C, v: number | undefined, ...docs: ActorDocs[C][]): void {
  for (const d of docs) (mem.data[c] as Map<string, ActorDocs[C]>).set(d._id, v === undefined ? { ...d } : { ...d, _v: v });
}

describe('actors > session > reads', () => {
  test('a document is read once per batch: a later get returns what the first read, though another writer changed the store since', async () => {
    const mem = new MemoryActorStore();
    stored(mem, 'waba_state', 3, state('w1', 'TIER_1K'));
    const s = new Session(mem);
    expect(await s.get('waba_state', 'w1')).toMatchObject({ messaging_limit: 'TIER_1K', _v: 3 });
    expect(await s.get('waba_state', 'w2')).toBeNull();
    stored(mem, 'waba_state', 4, state('w1', 'TIER_10K'), state('w2', 'TIER_250'));
    await s.preload('waba_state', ['w1', 'w2']);
    expect(await s.get('waba_state', 'w1')).toMatchObject({ messaging_limit: 'TIER_1K', _v: 3 });
    expect(await s.get('waba_state', 'w2')).toBeNull();
  });

  test('what the state cache holds is taken from it, not the store; an id it knows absent reads null', async () => {
    const mem = new MemoryActorStore();
    stored(mem, 'waba_state', 3, state('w1', 'TIER_10K'), state('w2', 'TIER_250'));
    const cache = new StateCache(100);
    cache.set('waba_state', 'w1', { ...state('w1', 'TIER_1K'), _v: 2 });
    cache.set('waba_state', 'w2', null);
    const s = new Session(mem, cache);
    expect(await s.get('waba_state', 'w1')).toMatchObject({ messaging_limit: 'TIER_1K', _v: 2 });
    expect(await s.get('waba_state', 'w2')).toBeNull();
    // Not cached: from the store.
    stored(mem, 'waba_state', 1, state('w3', 'TIER_100K'));
    expect(await s.get('waba_state', 'w3')).toMatchObject({ messaging_limit: 'TIER_100K', _v: 1 });
  });

  test('a put is what later reads of the batch see, a read before it or not; a delete makes them null until the next put', async () => {
    const { mem, store, commits } = recording();
    stored(mem, 'waba_state', 3, state('w1', 'TIER_1K'), state('w2', 'TIER_1K'));
    const s = new Session(store);
    s.put('waba_state', state('w2', 'TIER_10K'));
    await s.preload('waba_state', ['w1', 'w2']);
    expect(await s.get('waba_state', 'w2')).toMatchObject({ messaging_limit: 'TIER_10K' });
    s.put('waba_state', { ...(await s.get('waba_state', 'w1'))!, messaging_limit: 'TIER_100K' });
    expect(await s.get('waba_state', 'w1')).toMatchObject({ messaging_limit: 'TIER_100K', _v: 3 });
    s.delete('waba_state', 'w1');
    expect(await s.get('waba_state', 'w1')).toBeNull();
    s.put('waba_state', { ...state('w1', 'TIER_250'), _v: 3 });
    expect(await s.get('waba_state', 'w1')).toMatchObject({ messaging_limit: 'TIER_250' });
    await expect(s.flush()).rejects.toMatchObject({ code: 'EC_STORE_CONFLICT' });
    // The put after the delete undoes it; w2 was put unread, so it is an insert (and the store has it: conflict).
    expect(summary(commits[0]!)).toEqual({
      inserts: { waba_state: ['w2'] },
      replaces: { waba_state: [['w1', 3]] },
      deletes: {},
      fenced: ['waba_state/w1'],
    });
  });
});

describe('actors > session > writes', () => {
  test('the flush inserts what the batch created, replaces what it read and changed (naming the version read) and leaves what it only read', async () => {
    const { mem, store, commits } = recording();
    stored(mem, 'waba_state', 3, state('w1', 'TIER_1K'));
    stored(mem, 'waba_state', 5, state('w2', 'TIER_1K'));
    // Written before versions existed: version 0.
    stored(mem, 'waba_state', undefined, state('w3', 'TIER_1K'));
    const s = new Session(store);
    for (const id of ['w1', 'w2', 'w3', 'w4']) await s.get('waba_state', id);
    s.put('waba_state', { ...(await s.get('waba_state', 'w1'))!, messaging_limit: 'TIER_10K' });
    s.put('waba_state', { ...(await s.get('waba_state', 'w3'))!, messaging_limit: 'TIER_10K' });
    s.put('waba_state', state('w4', 'TIER_250'));
    // Put twice: written once, as last put.
    s.put('waba_state', state('w5', 'TIER_250'));
    s.put('waba_state', state('w5', 'TIER_100K'));
    await s.flush();
    expect(commits).toHaveLength(1);
    expect(summary(commits[0]!)).toEqual({
      inserts: { waba_state: ['w4', 'w5'] },
      replaces: {
        waba_state: [
          ['w1', 3],
          ['w3', 0],
        ],
      },
      deletes: {},
      fenced: ['waba_state/w1', 'waba_state/w3'],
    });
    expect(commits[0]!.inserts.waba_state[1]).toMatchObject({ _id: 'w5', messaging_limit: 'TIER_100K' });
    expect(mem.data.waba_state.get('w1')).toMatchObject({ messaging_limit: 'TIER_10K', _v: 4 });
    expect(mem.data.waba_state.get('w2')).toMatchObject({ messaging_limit: 'TIER_1K', _v: 5 });
    expect(mem.data.waba_state.get('w3')).toMatchObject({ messaging_limit: 'TIER_10K', _v: 1 });
    expect(mem.data.waba_state.get('w5')).toMatchObject({ messaging_limit: 'TIER_100K', _v: 1 });
  });

  test('after the flush the batch reads its documents as stored: the changed_at of the commit and their new versions', async () => {
    const mem = new MemoryActorStore();
    stored(mem, 'waba_state', 3, { ...state('w1', 'TIER_1K'), changed_at: new Date(1_000) });
    const s = new Session(mem);
    s.put('waba_state', { ...(await s.get('waba_state', 'w1'))!, messaging_limit: 'TIER_10K' });
    s.put('waba_state', state('w2', 'TIER_250'));
    await s.flush();
    // The memory store stamps changed_at = the epoch.
    expect(await s.get('waba_state', 'w1')).toMatchObject({ messaging_limit: 'TIER_10K', _v: 4, changed_at: new Date(0) });
    expect(await s.get('waba_state', 'w2')).toMatchObject({ messaging_limit: 'TIER_250', _v: 1, changed_at: new Date(0) });
  });

  test('a delete is written fenced by the version read; a document the store never had is not deleted, nor inserted when put first', async () => {
    const { mem, store, commits } = recording();
    stored(mem, 'waba_state', 3, state('w1', 'TIER_1K'));
    const s = new Session(store);
    await s.get('waba_state', 'w1');
    s.delete('waba_state', 'w1');
    s.delete('waba_state', 'w9');
    s.put('waba_state', state('w8', 'TIER_1K'));
    s.delete('waba_state', 'w8');
    await s.flush();
    expect(summary(commits[0]!)).toEqual({ inserts: {}, replaces: {}, deletes: { waba_state: [['w1', 3]] }, fenced: ['waba_state/w1'] });
    expect([...mem.data.waba_state.keys()]).toEqual([]);
  });

  test('a put that differs only in _v and changed_at is no change either: nothing is written', async () => {
    const { mem, store, commits } = recording();
    stored(mem, 'waba_state', 3, { ...state('w1', 'TIER_1K'), changed_at: new Date(1_000) });
    const s = new Session(store);
    s.put('waba_state', { ...(await s.get('waba_state', 'w1'))!, _v: 7, changed_at: new Date(9_000) });
    await s.flush();
    expect(summary(commits[0]!)).toEqual({ inserts: {}, replaces: {}, deletes: {}, fenced: [] });
    expect(mem.data.waba_state.get('w1')).toMatchObject({ _v: 3, changed_at: new Date(1_000) });
  });

  test('a changed contact carries over to its threads: each thread it lists and owns takes it as it is now, written in the same commit', async () => {
    const { mem, store, commits } = recording();
    const c1 = contact('c1', ['wa:1'], { thread_ids: ['t1', 't2'] });
    const t1 = emptyThread('t1', WABA, 'pn1', c1, new Date(0));
    // Listed by c1 but another contact's thread: left alone.
    const t2 = emptyThread('t2', WABA, 'pn2', contact('c2', ['wa:2']), new Date(0));
    stored(mem, 'contact', 2, c1);
    stored(mem, 'thread', 4, t1, t2);
    const s = new Session(store);
    const read = (await s.get('contact', 'c1'))!;
    s.put('contact', { ...read, name: 'Ana', opted_out_at: new Date(5_000), updated_at: new Date(5_000) });
    await s.flush();
    expect(summary(commits[0]!)).toEqual({
      inserts: {},
      replaces: { contact: [['c1', 2]], thread: [['t1', 4]] },
      deletes: {},
      fenced: ['contact/c1', 'thread/t1'],
    });
    expect(mem.data.thread.get('t1')).toMatchObject({
      contact: { name: 'Ana', opted_out_at: new Date(5_000) },
      updated_at: new Date(5_000),
      _v: 5,
    });
    expect(mem.data.thread.get('t2')).toEqual({ ...t2, _v: 4 });
  });

  test('a conflict rejects the flush and leaves the state cache as it was (the caller drops it)', async () => {
    const mem = new MemoryActorStore();
    stored(mem, 'waba_state', 2, state('w1', 'TIER_100K'));
    const cache = new StateCache(100);
    cache.set('waba_state', 'w1', { ...state('w1', 'TIER_1K'), _v: 1 });
    const s = new Session(mem, cache);
    s.put('waba_state', { ...(await s.get('waba_state', 'w1'))!, messaging_limit: 'TIER_10K' });
    s.put('waba_state', state('w2', 'TIER_250'));
    await expect(s.flush()).rejects.toMatchObject({ code: 'EC_STORE_CONFLICT' });
    expect(cache.get('waba_state', 'w1')).toMatchObject({ messaging_limit: 'TIER_1K', _v: 1 });
    expect(cache.get('waba_state', 'w2')).toBeUndefined();
    expect(mem.data.waba_state.get('w1')).toMatchObject({ messaging_limit: 'TIER_100K', _v: 2 });
    expect(mem.data.waba_state.has('w2')).toBe(false);
  });

  test('opted-out recipients to skip are handed to the store with the batch', async () => {
    const { store, commits } = recording();
    const s = new Session(store);
    const skip = { wabaId: WABA, aliases: ['wa:1'], reason: 'opted_out', at: new Date(5_000), marketingOnly: true };
    s.skipRecipients(skip);
    await s.flush();
    expect(commits[0]!.skipRecipients).toEqual([skip]);
  });
});

describe('actors > session > contacts by alias', () => {
  test("the store's contacts of the WABA holding any alias, as the batch changed them, plus the batch's new ones; deleted ones are gone", async () => {
    const mem = new MemoryActorStore();
    stored(mem, 'contact', 1, contact('c1', ['wa:1', 'uid:1']), contact('c2', ['wa:2']), { ...contact('c3', ['wa:1']), waba_id: 'waba2' });
    const s = new Session(mem);
    s.put('contact', contact('c4', ['wa:3']));
    // Held by the batch too (a batch holds several WABAs' documents): not another WABA's answer.
    await s.get('contact', 'c3');
    const ids = (cs: ContactDoc[]) => cs.map((c) => c._id).sort();
    expect(ids(await s.contactsByAliases(WABA, ['wa:1', 'wa:3']))).toEqual(['c1', 'c4']);
    s.put('contact', { ...(await s.get('contact', 'c1'))!, name: 'Ana' });
    // Changed meanwhile by another writer: the batch keeps what it read.
    stored(mem, 'contact', 2, contact('c1', ['wa:1'], { name: 'Other' }));
    expect(await s.contactsByAliases(WABA, ['uid:1'])).toMatchObject([{ _id: 'c1', name: 'Ana' }]);
    s.delete('contact', 'c1');
    expect(ids(await s.contactsByAliases(WABA, ['wa:1', 'uid:1']))).toEqual([]);
  });

  test('the cache names who holds an alias: that contact is read by id, and an alias it knows unheld is not asked of the store', async () => {
    const mem = new MemoryActorStore();
    stored(mem, 'contact', 1, contact('c1', ['wa:1']), contact('c2', ['wa:2']));
    const cache = new StateCache(100);
    cache.setAliasOwner(WABA, 'wa:1', 'c1');
    cache.setAliasOwner(WABA, 'wa:2', null);
    const s = new Session(mem, cache);
    expect(await s.contactsByAliases(WABA, ['wa:1', 'wa:2'])).toMatchObject([{ _id: 'c1' }]);
  });

  test('a cached owner that no longer holds the alias: the store is asked who does', async () => {
    const mem = new MemoryActorStore();
    stored(mem, 'contact', 1, contact('c1', ['wa:9']), contact('c2', ['wa:1']));
    const cache = new StateCache(100);
    cache.setAliasOwner(WABA, 'wa:1', 'c1');
    cache.set('contact', 'c1', { ...contact('c1', ['wa:9']), _v: 1 });
    const s = new Session(mem, cache);
    expect(await s.contactsByAliases(WABA, ['wa:1'])).toMatchObject([{ _id: 'c2' }]);
  });
});

describe('actors > session > the cache after a flush', () => {
  test('holds what the store holds: new versions, ids known absent, who holds each alias, unheld aliases unless a new contact took one', async () => {
    const mem = new MemoryActorStore();
    stored(mem, 'waba_state', 3, state('w1', 'TIER_1K'));
    stored(mem, 'contact', 1, contact('c1', ['wa:1']));
    const cache = new StateCache(100);
    const s = new Session(mem, cache);
    s.put('waba_state', { ...(await s.get('waba_state', 'w1'))!, messaging_limit: 'TIER_10K' });
    await s.get('waba_state', 'w2');
    await s.contactsByAliases(WABA, ['wa:1', 'wa:5', 'wa:6']);
    s.put('contact', contact('c9', ['wa:5']));
    await s.flush();
    expect(cache.get('waba_state', 'w1')).toMatchObject({ messaging_limit: 'TIER_10K', _v: 4 });
    expect(cache.get('waba_state', 'w2')).toBeNull();
    expect(cache.get('contact', 'c9')).toMatchObject({ aliases: ['wa:5'], _v: 1 });
    expect(['wa:1', 'wa:5', 'wa:6'].map((a) => cache.aliasOwner(WABA, a))).toEqual(['c1', 'c9', null]);
  });

  test("a repoint moves the batch's messages of the old thread and has the store move the rest; no cached copy keeps the old thread", async () => {
    const { mem, store, commits } = recording();
    stored(mem, 'message', 1, message('m1', 'tA'), message('m2', 'tA'), message('m3', 'tB'), message('m4', 'tA'));
    const cache = new StateCache(100);
    // Cached by an earlier batch, not read by this one.
    cache.set('message', 'm2', { ...message('m2', 'tA'), _v: 1 });
    const s = new Session(store, cache);
    await s.get('message', 'm1');
    s.repointMessages('tA', 'tB');
    expect(await s.get('message', 'm1')).toMatchObject({ thread_id: 'tB' });
    // Read after the repoint: the batch holds it on the old thread, the store moves it.
    expect(await s.get('message', 'm4')).toMatchObject({ thread_id: 'tA' });
    await s.flush();
    expect(commits[0]!.repointMessages).toEqual([{ from: 'tA', to: 'tB' }]);
    expect(summary(commits[0]!)).toEqual({ inserts: {}, replaces: { message: [['m1', 1]] }, deletes: {}, fenced: ['message/m1'] });
    expect([...mem.data.message.values()].map((m) => [m._id, m.thread_id])).toEqual([
      ['m1', 'tB'],
      ['m2', 'tB'],
      ['m3', 'tB'],
      ['m4', 'tB'],
    ]);
    expect(cache.get('message', 'm1')).toMatchObject({ thread_id: 'tB' });
    expect(cache.get('message', 'm2')).toBeUndefined();
    expect(cache.get('message', 'm4')).toBeUndefined();
    expect(await new Session(store, cache).get('message', 'm4')).toMatchObject({ thread_id: 'tB' });
  });
});
