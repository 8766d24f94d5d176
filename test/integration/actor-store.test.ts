// The actors' MongoDB store on the real store: what a crash between its writes leaves behind is still found, and
// writes are fenced by document version, so a member that lost its partition mid-batch cannot overwrite the new
// owner's documents.
import { describe, expect, test } from 'vitest';
import { type Db } from 'mongodb';
import { createActorStore } from '../../src/store/actor-store.ts';
import { mergeContacts } from '../../src/actors/contact/reduce.ts';
import { messageIdOf } from '../../src/actors/message/reduce.ts';
import { emptyWriteSet, Session } from '../../src/actors/session.ts';
import { StateCache } from '../../src/actors/state-cache.ts';
import { applyBatch, type DecodedEvent } from '../../src/actors/apply.ts';
import { type ActorStore } from '../../src/actors/ports.ts';
import { type MessageStatusEvent } from '../../src/events/generated/event-types.ts';
import { useTestDb } from '../helpers/db.ts';

/** API_CHANGE_SETTLE_MS's default: how long a change may take to become visible to pollers. */
const SETTLE_MS = 5000;

describe('store > actor store', () => {
  const testDb = useTestDb();

  test('a contact is found by any alias; an insert of a document that exists is refused as a conflict, a replace names the version it read', async () => {
    const store = createActorStore(testDb.db(), { settleMs: SETTLE_MS });
    const c = mergeContacts('w1', [], ['wa:1', 'uid:US.1'], new Date(1000));
    const inserted = await store.commit({ ...emptyWriteSet(), inserts: { ...emptyWriteSet().inserts, contact: [c] } });
    expect(inserted.versions.contact.get(c._id)).toBe(1);
    expect((await store.contactsByAliases('w1', ['uid:US.1'])).map((x) => x._id)).toEqual([c._id]);
    expect(await store.contactsByAliases('w2', ['uid:US.1'])).toEqual([]);
    const renamed = { ...c, name: 'replayed' };
    await expect(store.commit({ ...emptyWriteSet(), inserts: { ...emptyWriteSet().inserts, contact: [renamed] } })).rejects.toMatchObject({
      code: 'EC_STORE_CONFLICT',
    });
    expect(await store.load('contact', [c._id])).toMatchObject([{ name: null, _v: 1 }]);
    const replace = (v: number) =>
      store.commit({
        ...emptyWriteSet(),
        replaces: { ...emptyWriteSet().replaces, contact: [renamed] },
        versions: { ...emptyWriteSet().versions, contact: new Map([[c._id, v]]) },
      });
    await expect(replace(0)).rejects.toMatchObject({ code: 'EC_STORE_CONFLICT' });
    expect((await replace(1)).versions.contact.get(c._id)).toBe(2);
    expect(await store.load('contact', [c._id])).toMatchObject([{ name: 'replayed', _v: 2 }]);
    await expect(replace(1)).rejects.toMatchObject({ code: 'EC_STORE_CONFLICT' });
  });

  test("a member stalled mid-batch wakes up after its partition moved: its writes are refused and the new owner's documents stay", async () => {
    const wamid = 'wamid.FENCE1';
    const status = (n: number, value: string): DecodedEvent => ({
      type: 'message.status',
      event: {
        event_id: `evt_fence_${n}`,
        event_type: 'message.status',
        waba_id: 'wfence',
        account_id: null,
        field: 'messages',
        phone_number_id: 'p1',
        display_phone_number: '1555',
        meta_timestamp: String(1781514400 + n),
        entry_time: null,
        received_at: 1781600000000 + n,
        wamid,
        status: value,
        recipient_id: '15550100',
        recipient_user_id: null,
        recipient_parent_user_id: null,
        recipient_type: null,
        biz_opaque_callback_data: null,
        conversation_id: null,
        conversation_origin_type: null,
        conversation_expiration: null,
        pricing: null,
        errors: [],
        contact: null,
        raw: '{}',
      } as MessageStatusEvent,
    });
    const store = createActorStore(testDb.db(), { settleMs: SETTLE_MS });
    // Member A owned the partition and applied "sent"; its cache holds the message at version 1.
    const cacheA = new StateCache(1000);
    await applyBatch(new Session(store, cacheA), [status(1, 'sent')]);
    // A starts its next batch ("delivered") and stalls just before writing (a long GC pause, a lost network).
    let wake!: () => void;
    let stalled!: () => void;
    const isStalled = new Promise<void>((r) => (stalled = r));
    const stallingStore: ActorStore = {
      load: (...a) => store.load(...a),
      contactsByAliases: (...a) => store.contactsByAliases(...a),
      commit: async (w) => {
        stalled();
        await new Promise<void>((r) => (wake = r));
        return store.commit(w);
      },
    };
    const aBatch = applyBatch(new Session(stallingStore, cacheA), [status(2, 'delivered')]);
    await isStalled;
    // Meanwhile the partition moved to member B, which re-reads from the committed offset: delivered, then read.
    await applyBatch(new Session(store, new StateCache(1000)), [status(2, 'delivered'), status(3, 'read')]);
    const [afterB] = await store.load('message', [messageIdOf('wfence', wamid)]);
    expect(afterB).toMatchObject({ delivery_status: 'read', _v: 2 });
    // A wakes up and writes what it computed from its stale copy: refused.
    wake();
    await expect(aBatch).rejects.toMatchObject({ code: 'EC_STORE_CONFLICT' });
    const [final] = await store.load('message', [messageIdOf('wfence', wamid)]);
    expect(final).toMatchObject({ delivery_status: 'read', _v: 2 });
    expect(final!.status_history.map((h) => h.status)).toEqual(['sent', 'delivered', 'read']);
  });

  test('after a crash between deleting merged-away contacts and updating the alias index, the merged contact is still found', async () => {
    const store = createActorStore(testDb.db(), { settleMs: SETTLE_MS });
    const a = mergeContacts('w3', [], ['wa:5'], new Date(1000));
    const b = mergeContacts('w3', [], ['uid:US.5'], new Date(1000));
    await store.commit({ ...emptyWriteSet(), inserts: { ...emptyWriteSet().inserts, contact: [a, b] } });
    // The two turn out to be one person: the merged contact keeps one id (written), the other is deleted, but the
    // alias index still names the deleted one for its alias.
    const merged = mergeContacts('w3', [a, b], [], new Date(2000));
    const gone = merged._id === a._id ? b : a;
    expect(merged.former_ids).toEqual([gone._id]);
    await testDb
      .db()
      .collection('ec_contact')
      .replaceOne({ _id: merged._id as never }, merged as never);
    await testDb
      .db()
      .collection('ec_contact')
      .deleteOne({ _id: gone._id as never });
    expect((await store.contactsByAliases('w3', gone.aliases)).map((x) => x._id)).toEqual([merged._id]);
  });

  test('a store that drops some writes while answering without error fails the batch (issue 16, defect 8); the retry ends right', async () => {
    const status = (wamid: string, n: number, value: string): DecodedEvent => ({
      type: 'message.status',
      event: {
        event_id: `evt_drop_${wamid}_${value}`,
        event_type: 'message.status',
        waba_id: 'wdrop',
        account_id: null,
        field: 'messages',
        phone_number_id: 'p1',
        display_phone_number: '1555',
        meta_timestamp: String(1781514400 + n),
        entry_time: null,
        received_at: 1781600000000 + n,
        wamid,
        status: value,
        recipient_id: null,
        recipient_user_id: null,
        recipient_parent_user_id: null,
        recipient_type: null,
        biz_opaque_callback_data: null,
        conversation_id: null,
        conversation_origin_type: null,
        conversation_expiration: null,
        pricing: null,
        errors: [],
        contact: null,
        raw: '{}',
      } as MessageStatusEvent,
    });
    // The real store, except that ec_message silently loses the last document of each insertMany and the last
    // statement of each bulkWrite, and reports what it really did (as a store losing writes would).
    const dropping = new Proxy(testDb.db(), {
      get(target, prop, receiver) {
        if (prop !== 'collection') return Reflect.get(target, prop, receiver);
        return (name: string) => {
          const real = target.collection(name);
          if (name !== 'ec_message') return real;
          return new Proxy(real, {
            get(c, p, r) {
              if (p === 'insertMany') return (docs: unknown[], o: unknown) => c.insertMany(docs.slice(0, -1) as never, o as never);
              if (p === 'bulkWrite') return (ops: unknown[], o: unknown) => c.bulkWrite(ops.slice(0, -1) as never, o as never);
              return Reflect.get(c, p, r);
            },
          });
        };
      },
    }) as Db;
    const wamids = ['wamid.drop.1', 'wamid.drop.2', 'wamid.drop.3'];
    const store = createActorStore(testDb.db(), { settleMs: SETTLE_MS });
    // New documents: two of three inserts land, and the batch fails instead of committing.
    await expect(
      applyBatch(
        new Session(createActorStore(dropping, { settleMs: SETTLE_MS })),
        wamids.map((w, i) => status(w, i, 'sent')),
      ),
    ).rejects.toMatchObject({ code: 'EC_STORE_UNAVAILABLE', message: expect.stringMatching(/acknowledged 2 of 3 inserts/) });
    await applyBatch(
      new Session(store),
      wamids.map((w, i) => status(w, i, 'sent')),
    ); // the retry
    // Known documents: two of three replaces land, and the batch fails instead of committing.
    // (A replace the store did not match reads, from its counts, like another member's write: a conflict, retried too.)
    await expect(
      applyBatch(
        new Session(createActorStore(dropping, { settleMs: SETTLE_MS })),
        wamids.map((w, i) => status(w, 10 + i, 'delivered')),
      ),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/^EC_STORE_(CONFLICT|UNAVAILABLE)$/),
      message: expect.stringMatching(/1 of 3 replaced documents changed|acknowledged 2 of 3 replaces/),
    });
    await applyBatch(
      new Session(store),
      wamids.map((w, i) => status(w, 10 + i, 'delivered')),
    ); // the retry
    const stored = await store.load(
      'message',
      wamids.map((w) => messageIdOf('wdrop', w)),
    );
    expect(stored.map((m) => [m.wamid, m.delivery_status, m.status_history.map((h) => h.status)]).sort()).toEqual(
      wamids.map((w) => [w, 'delivered', ['sent', 'delivered']]),
    );
  });
});
