// The planner with fakes at its ports: a store that keeps the deliveries inserted (and says which existed), the
// account lookups, a producer that records what was queued, and an events port that hands the planner's batch
// handler the records. Observable results only: the deliveries stored, the attempts queued, what the worker is told.
import { describe, expect, test } from 'vitest';
import { createLogger } from '../core/log.ts';
import { type BatchConsumerOptions, type ConsumedRecord, type EventRecord, type Events } from '../events/port.ts';
import { type AttemptRecord, type Notification } from '../events/outbound.ts';
import { topicNames } from '../events/topics.ts';
import { deliveryIdOf, type DeliveryDoc, type EndpointDoc } from '../store/webhooks.ts';
import { createDirectory } from './directory.ts';
import { planBatch, startPlanner, type PlannerDeps } from './planner.ts';
import { createProgressCache } from './progress.ts';

const T0 = new Date(1_781_700_000_000);
const topics = topicNames('');
const log = createLogger({ level: 'silent' });

function endpoint(id: string, over: Partial<EndpointDoc> = {}): EndpointDoc {
  return {
    _id: id,
    account_id: 'acc_1',
    key_id: 'key_1',
    url: `https://hooks.example/${id}`,
    categories: ['message.inbound'],
    enabled: true,
    disabled_at: null,
    disabled_reason: null,
    failing_since: null,
    created_at: T0,
    updated_at: T0,
    ...over,
  };
}

const note = (id: string, over: Partial<Notification> = {}): Notification => ({
  id,
  category: 'message.inbound',
  waba_id: 'waba_1',
  created_at: '2026-06-17T10:00:00.000Z',
  data: { text: `hello ${id}` },
  ...over,
});

function fakes() {
  const owners = new Map([['waba_1', 'acc_1']]);
  const endpoints = new Map([endpoint('ep_a'), endpoint('ep_b')].map((e) => [e._id, e]));
  const secrets = new Map([['key_1', 'ecs_secret']]);
  const deliveries = new Map<string, DeliveryDoc>();
  const inserted: DeliveryDoc[] = [];
  const webhooks: PlannerDeps['webhooks'] = {
    async subscribed(accountId, category) {
      return [...endpoints.values()].filter((e) => e.account_id === accountId && e.enabled && e.categories.includes(category));
    },
    async insertDeliveries(docs) {
      const existed = new Set<string>();
      for (const d of docs) {
        if (deliveries.has(d._id)) existed.add(d._id);
        else {
          deliveries.set(d._id, structuredClone(d));
          inserted.push(d);
        }
      }
      return existed;
    },
    async deliveriesByIds(ids) {
      return new Map(ids.flatMap((id) => (deliveries.has(id) ? [[id, structuredClone(deliveries.get(id)!)] as const] : [])));
    },
    async endpointsByIds(ids) {
      return new Map(ids.flatMap((id) => (endpoints.has(id) ? [[id, endpoints.get(id)!] as const] : [])));
    },
  };
  const accounts: PlannerDeps['accounts'] = {
    ownerOf: async (waba) => owners.get(waba) ?? null,
    liveSigningSecret: async (key) => secrets.get(key) ?? null,
  };
  const clock = { now: () => T0 };
  const directory = createDirectory({ webhooks, accounts, ttlMs: 60_000, clock });
  return { owners, endpoints, secrets, deliveries, inserted, webhooks, accounts, clock, directory };
}

const failedAttempt: DeliveryDoc['attempts'][number] = {
  round: 1,
  n: 1,
  at: T0,
  outcome: 'failure',
  status_code: 500,
  latency_ms: 3,
  error: 'HTTP 500',
  error_code: 'http_status',
  response_body: '',
  retry_after_ms: null,
};
describe('delivery > planner', () => {
  test('one delivery per subscribed endpoint, stored waiting for its first attempt, and that attempt queued at once on the attempt topic', async () => {
    const f = fakes();
    const n = note('evt_1');
    const attempts = await planBatch(f, [n]);
    const body = JSON.stringify({ id: 'evt_1', type: 'message.inbound', created_at: n.created_at, data: n.data });
    const expected = (ep: string): DeliveryDoc => ({
      _id: deliveryIdOf(ep, 'evt_1'),
      endpoint_id: ep,
      key_id: 'key_1',
      account_id: 'acc_1',
      event_id: 'evt_1',
      category: 'message.inbound',
      body,
      status: 'pending',
      round: 1,
      attempts: [],
      next_attempt_at: T0,
      queued_attempt: 1,
      queued_tier: 0,
      delivered_at: null,
      failed_at: null,
      failure_reason: null,
      created_at: T0,
      changed_at: T0,
    });
    expect(f.inserted).toEqual([expected('ep_a'), expected('ep_b')]);
    expect(attempts).toEqual(
      ['ep_a', 'ep_b'].map((ep) => ({
        tier: 0,
        record: {
          delivery_id: deliveryIdOf(ep, 'evt_1'),
          round: 1,
          attempt: 1,
          due_at: T0.getTime(),
          endpoint_id: ep,
          key_id: 'key_1',
          event_id: 'evt_1',
          body,
        },
      })),
    );
  });

  test('only endpoints subscribed to the category, of the account owning the WABA, get a delivery', async () => {
    const f = fakes();
    f.endpoints.set('ep_status', endpoint('ep_status', { categories: ['message.status'] }));
    f.endpoints.set('ep_other', endpoint('ep_other', { account_id: 'acc_2' }));
    f.owners.set('waba_2', 'acc_2');
    const attempts = await planBatch(f, [note('evt_1', { category: 'message.status' }), note('evt_2', { waba_id: 'waba_2' })]);
    expect(f.inserted.map((d) => [d.event_id, d.endpoint_id, d.account_id])).toEqual([
      ['evt_1', 'ep_status', 'acc_1'],
      ['evt_2', 'ep_other', 'acc_2'],
    ]);
    expect(attempts.map((a) => a.record.delivery_id)).toEqual(f.inserted.map((d) => d._id));
  });

  test('a WABA no account owns, or a category nobody subscribed to: nothing stored, nothing queued', async () => {
    const f = fakes();
    const attempts = await planBatch(f, [note('evt_1', { waba_id: 'waba_unknown' }), note('evt_2', { category: 'template.status' })]);
    expect(attempts).toEqual([]);
    expect(f.inserted).toEqual([]);
  });

  test('the endpoints of a revoked key get nothing; those of a live key still do', async () => {
    const f = fakes();
    f.endpoints.set('ep_revoked', endpoint('ep_revoked', { key_id: 'key_revoked' }));
    const attempts = await planBatch(f, [note('evt_1')]);
    expect(f.inserted.map((d) => d.endpoint_id)).toEqual(['ep_a', 'ep_b']);
    expect(attempts.map((a) => a.record.endpoint_id)).toEqual(['ep_a', 'ep_b']);
  });

  test('a notification planned again (a crash before the commit): queued again only while its delivery has had no attempt', async () => {
    const f = fakes();
    f.endpoints.delete('ep_b');
    const notes = ['evt_1', 'evt_2', 'evt_3', 'evt_4'].map((id) => note(id));
    await planBatch(f, notes);
    const id = (evt: string) => deliveryIdOf('ep_a', evt);
    const moved = (evt: string, over: Partial<DeliveryDoc>) => f.deliveries.set(id(evt), { ...f.deliveries.get(id(evt))!, ...over });
    moved('evt_2', { queued_attempt: 2, attempts: [failedAttempt] }); // attempt 1 failed, attempt 2 waits
    moved('evt_3', { status: 'delivered', queued_attempt: null });
    moved('evt_4', { round: 2 }); // replayed
    const stored = structuredClone(f.deliveries);
    const attempts = await planBatch(f, notes);
    expect(attempts.map((a) => [a.record.delivery_id, a.record.attempt, a.tier])).toEqual([[id('evt_1'), 1, 0]]);
    expect(f.deliveries).toEqual(stored); // nothing stored again
  });
});

describe('delivery > planner, a notifications batch at a time', () => {
  function running(opts: { failSends?: number } = {}) {
    const f = fakes();
    let handler: BatchConsumerOptions | undefined;
    const events: Pick<Events, 'runBatchConsumer'> = {
      async runBatchConsumer(o) {
        handler = o;
        return { stop: async () => {}, health: () => [] };
      },
    };
    const produced: EventRecord[] = [];
    let failures = opts.failSends ?? 0;
    const progress = createProgressCache();
    const deps: PlannerDeps = {
      events,
      concurrency: 6,
      produceTimeoutMs: 10_000,
      groupId: 'echocue.delivery.planner',
      topics,
      webhooks: f.webhooks,
      accounts: f.accounts,
      clock: f.clock,
      log,
      progress,
      producer: {
        async send(records) {
          if (failures-- > 0) throw new Error('kafka down');
          produced.push(...records);
        },
        async disconnect() {},
      },
    };
    let offset = 0;
    const consumed = (value: Buffer | null): ConsumedRecord => ({
      topic: topics.notifications,
      partition: 0,
      offset: String(offset++),
      timestamp: 0,
      key: 'waba_1',
      value,
      headers: {},
    });
    const handle = (records: ConsumedRecord[]) => handler!.handleBatch(records);
    const queued = () => produced.map((r) => ({ topic: r.topic, key: r.key, record: JSON.parse(r.value.toString()) as AttemptRecord }));
    return { f, deps, handle, consumed, queued, progress };
  }

  test('subscribes to the notifications topic; each planned attempt goes to the first tier keyed by delivery, and the worker is told it waits', async () => {
    const r = running();
    await startPlanner(r.deps);
    await r.handle([r.consumed(Buffer.from(JSON.stringify(note('evt_1'))))]);
    const ids = ['ep_a', 'ep_b'].map((ep) => deliveryIdOf(ep, 'evt_1'));
    expect(r.queued().map((q) => [q.topic, q.key, q.record.delivery_id, q.record.attempt])).toEqual(
      ids.map((id) => [topics.deliveryTiers[0], id, id, 1]),
    );
    for (const id of ids) {
      expect(r.progress.get(id)).toEqual({ round: 1, status: 'pending', queued: 1, dueAt: T0.getTime(), tier: 0, produced: true });
    }
  });

  test('a record that is not a notification is skipped; the others of its batch are planned', async () => {
    const r = running();
    await startPlanner(r.deps);
    await r.handle([r.consumed(Buffer.from('not json')), r.consumed(null), r.consumed(Buffer.from(JSON.stringify(note('evt_2'))))]);
    expect(r.queued().map((q) => q.record.event_id)).toEqual(['evt_2', 'evt_2']);
  });

  test('a batch whose attempts could not be queued fails (it comes again), and its retry queues them from the stored deliveries', async () => {
    const r = running({ failSends: 1 });
    await startPlanner(r.deps);
    const batch = [r.consumed(Buffer.from(JSON.stringify(note('evt_1'))))];
    await expect(r.handle(batch)).rejects.toThrow('kafka down');
    expect(r.queued()).toEqual([]);
    await r.handle(batch);
    expect(r.queued().map((q) => q.record.delivery_id)).toEqual(['ep_a', 'ep_b'].map((ep) => deliveryIdOf(ep, 'evt_1')));
    expect(r.f.inserted).toHaveLength(2);
  });
});
