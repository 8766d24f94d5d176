import { describe, expect, test } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger } from '../core/log.ts';
import { lagSamples, registerConsumerLag, type ConsumerLagOptions } from './consumer-lag.ts';

const log = createLogger({ level: 'silent' });
const groups = [
  { groupId: 'p.echocue.actors', topics: ['p.a'] },
  { groupId: 'p.echocue.delivery.worker', topics: ['p.t0', 'p.t1'] },
];
const ends = new Map([
  ['p.a', [10n, 4n]],
  ['p.t0', [3n]],
  ['p.t1', [0n]],
]);

type Admin = ConsumerLagOptions['admin'];
const answering = (committed: Record<string, Map<string, bigint[]>>): Admin & { calls: number } => {
  const admin = {
    calls: 0,
    async endOffsets() {
      admin.calls++;
      return ends;
    },
    async committedOffsets(groupId: string) {
      return committed[groupId] ?? new Map();
    },
  };
  return admin;
};
const committed = {
  'p.echocue.actors': new Map([['p.a', [7n, -1n]]]),
  'p.echocue.delivery.worker': new Map([
    ['p.t0', [3n]],
    ['p.t1', [-1n]],
  ]),
};

const line = (text: string, name: string, labels: string) =>
  new RegExp(`^${name}\\{${labels.replace(/[.[\]]/g, '\\$&')}\\} (-?\\d+)$`, 'm').exec(text)?.[1];

describe('events > consumer lag', () => {
  test('lag is the log end minus the committed offset; a partition with no commit lags by its whole log', () => {
    const ws = lagSamples(groups, ends, [committed['p.echocue.actors'], committed['p.echocue.delivery.worker']]);
    expect(ws).toEqual([
      { group: 'p.echocue.actors', topic: 'p.a', partition: 0, committed: 7, lag: 3 },
      { group: 'p.echocue.actors', topic: 'p.a', partition: 1, committed: -1, lag: 4 },
      { group: 'p.echocue.delivery.worker', topic: 'p.t0', partition: 0, committed: 3, lag: 0 },
      { group: 'p.echocue.delivery.worker', topic: 'p.t1', partition: 0, committed: -1, lag: 0 },
    ]);
  });

  test('a scrape shows lag and committed offset per group, topic and partition', async () => {
    const registry = new Registry();
    registerConsumerLag(registry, { admin: answering(committed), groups, log });
    const text = await registry.metrics();
    expect(line(text, 'echocue_kafka_consumer_lag', 'group="p.echocue.actors",topic="p.a",partition="0"')).toBe('3');
    expect(line(text, 'echocue_kafka_consumer_lag', 'group="p.echocue.actors",topic="p.a",partition="1"')).toBe('4');
    expect(line(text, 'echocue_kafka_consumer_committed_offset', 'group="p.echocue.actors",topic="p.a",partition="1"')).toBe('-1');
    expect(line(text, 'echocue_kafka_consumer_committed_offset', 'group="p.echocue.delivery.worker",topic="p.t0",partition="0"')).toBe('3');
  });

  test('scrapes within cacheMs share one answer from Kafka; a later scrape asks again', async () => {
    const registry = new Registry();
    const admin = answering(committed);
    registerConsumerLag(registry, { admin, groups, log, cacheMs: 50 });
    await Promise.all([registry.metrics(), registry.metrics()]);
    await registry.metrics();
    expect(admin.calls).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    await registry.metrics();
    expect(admin.calls).toBe(2);
  });

  test('Kafka not answering in time: the scrape returns, the families have no samples and the error counter moves', async () => {
    const registry = new Registry();
    const hung: Admin = { endOffsets: () => new Promise(() => {}), committedOffsets: () => new Promise(() => {}) };
    registerConsumerLag(registry, { admin: hung, groups, log, deadlineMs: 20, cacheMs: 0 });
    const text = await registry.metrics();
    expect(text).toMatch(/^# TYPE echocue_kafka_consumer_lag gauge$/m);
    expect(text).not.toMatch(/^echocue_kafka_consumer_lag\{/m);
    expect(text).toMatch(/^echocue_kafka_consumer_lag_scrape_errors_total 1$/m);
  });

  test('after a failed read no stale values are shown; they come back once Kafka answers', async () => {
    const registry = new Registry();
    let fail = false;
    const ok = answering(committed);
    const flaky: Admin = {
      endOffsets: (t) => (fail ? Promise.reject(new Error('broker down')) : ok.endOffsets(t)),
      committedOffsets: (g, t) => ok.committedOffsets(g, t),
    };
    registerConsumerLag(registry, { admin: flaky, groups, log, cacheMs: 0 });
    expect(await registry.metrics()).toMatch(/^echocue_kafka_consumer_lag\{/m);
    fail = true;
    const during = await registry.metrics();
    expect(during).not.toMatch(/^echocue_kafka_consumer_(lag|committed_offset)\{/m);
    expect(during).toMatch(/^echocue_kafka_consumer_lag_scrape_errors_total 1$/m);
    fail = false;
    expect(await registry.metrics()).toMatch(/^echocue_kafka_consumer_lag\{/m);
  });
});
