// The due consumer's decisions without Kafka: which records of a fetched partition batch are handed over and which
// are held back, what is committed, when the partition pauses and what resumes it. Fakes at its ports: the client's
// pause/resume/paused, a commit that records what it would commit, timers fired by hand and a clock set by hand.
import { describe, expect, test } from 'vitest';
import { type Clock } from '../../core/clock.ts';
import { createLogger } from '../../core/log.ts';
import { type ConsumedRecord } from '../port.ts';
import { createDueBatchHandler, createPauses, splitDue, type FetchedBatch, type Timers } from './due-consumer.ts';

const T0 = 1_781_700_000_000;
const log = createLogger({ level: 'silent' });
const TOPIC = 'echocue.delivery.tier1';

/** A record due at `dueAt` (the value is that time, as the test's dueAt reads it). */
const rec = (offset: number, dueAt: number): ConsumedRecord => ({
  topic: TOPIC,
  partition: 0,
  offset: String(offset),
  timestamp: 0,
  key: `d${offset}`,
  value: Buffer.from(String(dueAt)),
  headers: {},
});
const dueAt = (r: ConsumedRecord) => Number(r.value!.toString());
const offsets = (rs: readonly ConsumedRecord[]) => rs.map((r) => r.offset);

function fakeClock(t = T0): Clock & { t: number } {
  const c = { t, now: () => new Date(c.t) };
  return c;
}

/** Timers that fire only when the test says so. */
function fakeTimers() {
  const pending: { ms: number; fire: () => void; cancelled: boolean }[] = [];
  const timers: Timers = {
    after(ms, fire) {
      const t = { ms, fire, cancelled: false };
      pending.push(t);
      return () => void (t.cancelled = true);
    },
  };
  /** The delays of the timers still armed. */
  const armed = () => pending.filter((t) => !t.cancelled).map((t) => t.ms);
  const fireAll = () => {
    for (const t of pending.splice(0)) if (!t.cancelled) t.fire();
  };
  return { timers, armed, fireAll };
}

/** The client's partition controls, keeping which partitions are paused. */
function fakeConsumer(opts: { resumeFails?: boolean } = {}) {
  const paused = new Set<string>();
  const each = (tps: { topic: string; partitions?: number[] }[]) =>
    tps.flatMap((tp) => (tp.partitions ?? []).map((p) => `${tp.topic}|${p}`));
  return {
    paused: () => [...paused].sort(),
    client: {
      pause: (tps: { topic: string; partitions?: number[] }[]) => each(tps).forEach((k) => paused.add(k)),
      resume: (tps: { topic: string; partitions?: number[] }[]) => {
        if (opts.resumeFails) throw new Error('consumer is restarting');
        each(tps).forEach((k) => paused.delete(k));
      },
      paused: () => [...paused].map((k) => ({ topic: k.split('|')[0]!, partitions: [Number(k.split('|')[1])] })),
    },
  };
}

function harness(opts: { handle?: (clock: { t: number }) => Promise<void>; running?: () => boolean } = {}) {
  const clock = fakeClock();
  const t = fakeTimers();
  const c = fakeConsumer();
  const handed: string[][] = [];
  const commits: string[] = [];
  const resolved: string[] = [];
  const pauses = createPauses(c.client, { clock, log, timers: t.timers });
  const onBatch = createDueBatchHandler({
    opts: {
      dueAt,
      log,
      handleBatch: async (records) => {
        await opts.handle?.(clock);
        handed.push(offsets(records));
      },
    },
    clock,
    heartbeatIntervalMs: 3000,
    pauses,
    commit: async (topic, partition, lastOffset) => void commits.push(`${topic}|${partition}@${lastOffset}`),
  });
  const batch = (records: readonly ConsumedRecord[], over: Partial<FetchedBatch> = {}): FetchedBatch => ({
    topic: TOPIC,
    partition: 0,
    records,
    resolveOffset: (o) => void resolved.push(o),
    heartbeat: async () => {},
    isRunning: opts.running ?? (() => true),
    isStale: () => false,
    ...over,
  });
  return { clock, t, c, handed, commits, resolved, pauses, onBatch, batch };
}

describe('due consumer > which records are due', () => {
  test('all records due (at or before now) are handed over; none is held back', () => {
    const records = [rec(1, T0 - 1000), rec(2, T0)];
    expect(splitDue(records, dueAt, T0)).toEqual({ due: records, held: [] });
  });

  test('from the first record not due yet on, everything is held back, a due record behind it too', () => {
    const records = [rec(1, T0), rec(2, T0 + 1), rec(3, T0 - 5000)];
    const { due, held } = splitDue(records, dueAt, T0);
    expect(offsets(due)).toEqual(['1']);
    expect(offsets(held)).toEqual(['2', '3']);
  });

  test('a head not due yet holds back the whole batch', () => {
    const { due, held } = splitDue([rec(1, T0 + 30_000), rec(2, T0)], dueAt, T0);
    expect(offsets(due)).toEqual([]);
    expect(offsets(held)).toEqual(['1', '2']);
  });
});

describe('due consumer > a fetched batch', () => {
  test('the due front is handed over in one go and committed through its last record; the partition then pauses until the held head is due', async () => {
    const h = harness();
    await h.onBatch(h.batch([rec(7, T0 - 10), rec(8, T0), rec(9, T0 + 30_000), rec(10, T0)]));
    expect(h.handed).toEqual([['7', '8']]);
    expect(h.resolved).toEqual(['8']);
    expect(h.commits).toEqual([`${TOPIC}|0@8`]);
    expect(h.c.paused()).toEqual([`${TOPIC}|0`]);
    expect(h.t.armed()).toEqual([30_000]);
    h.t.fireAll();
    expect(h.c.paused()).toEqual([]);
  });

  test('the pause lasts from the end of the handling to the head’s due time (a slow batch does not add its length)', async () => {
    const h = harness({
      handle: async (clock) => {
        clock.t += 12_000; // the sends took 12 s
      },
    });
    await h.onBatch(h.batch([rec(1, T0), rec(2, T0 + 30_000)]));
    expect(h.t.armed()).toEqual([18_000]);
  });

  test('a batch whose head is not due: nothing handed over or committed, the partition paused until then', async () => {
    const h = harness();
    await h.onBatch(h.batch([rec(1, T0 + 120_000)]));
    expect(h.handed).toEqual([]);
    expect(h.commits).toEqual([]);
    expect(h.resolved).toEqual([]);
    expect(h.c.paused()).toEqual([`${TOPIC}|0`]);
    expect(h.t.armed()).toEqual([120_000]);
  });

  test('a head already overdue when the pause starts resumes at once (no negative wait)', async () => {
    const h = harness({
      handle: async (clock) => {
        clock.t += 10; // the sends outlasted the held head's due time
      },
    });
    await h.onBatch(h.batch([rec(1, T0), rec(2, T0 + 5)]));
    expect(h.c.paused()).toEqual([`${TOPIC}|0`]);
    expect(h.t.armed()).toEqual([0]);
  });

  test('an all-due batch is handed over and committed with no pause', async () => {
    const h = harness();
    await h.onBatch(h.batch([rec(1, T0), rec(2, T0)]));
    expect(h.commits).toEqual([`${TOPIC}|0@2`]);
    expect(h.c.paused()).toEqual([]);
    expect(h.t.armed()).toEqual([]);
  });

  test('a stale batch (rebalancing) or a stopping consumer: nothing handed over, committed or paused', async () => {
    const stale = harness();
    await stale.onBatch(stale.batch([rec(1, T0), rec(2, T0 + 1000)], { isStale: () => true }));
    const stopped = harness({ running: () => false });
    await stopped.onBatch(stopped.batch([rec(1, T0), rec(2, T0 + 1000)]));
    for (const h of [stale, stopped]) {
      expect(h.handed).toEqual([]);
      expect(h.commits).toEqual([]);
      expect(h.c.paused()).toEqual([]);
    }
  });

  test('a consumer stopping while the batch was handled commits it but pauses nothing', async () => {
    let running = true;
    const h = harness({
      running: () => running,
      handle: async () => {
        running = false;
      },
    });
    await h.onBatch(h.batch([rec(1, T0), rec(2, T0 + 1000)]));
    expect(h.commits).toEqual([`${TOPIC}|0@1`]);
    expect(h.c.paused()).toEqual([]);
    expect(h.t.armed()).toEqual([]);
  });

  test('a handler that fails commits nothing and pauses nothing (the batch comes again)', async () => {
    const h = harness({
      handle: async () => {
        throw new Error('store down');
      },
    });
    await expect(h.onBatch(h.batch([rec(1, T0), rec(2, T0 + 1000)]))).rejects.toThrow('store down');
    expect(h.resolved).toEqual([]);
    expect(h.commits).toEqual([]);
    expect(h.c.paused()).toEqual([]);
  });
});

describe('due consumer > pauses', () => {
  test('a partition paused again keeps one timer, the latest', () => {
    const h = harness();
    h.pauses.pauseUntil(TOPIC, 0, T0 + 60_000);
    h.pauses.pauseUntil(TOPIC, 0, T0 + 30_000);
    h.pauses.pauseUntil(TOPIC, 1, T0 + 10_000);
    expect(h.t.armed()).toEqual([30_000, 10_000]);
  });

  test('a rejoin resumes every paused partition and drops the timers (none resumes a partition later)', () => {
    const h = harness();
    h.pauses.pauseUntil(TOPIC, 0, T0 + 60_000);
    h.pauses.pauseUntil(TOPIC, 3, T0 + 60_000);
    h.pauses.resumeAll();
    expect(h.c.paused()).toEqual([]);
    expect(h.t.armed()).toEqual([]);
  });

  test('a crash or stop drops the timers and leaves the partitions as they are (kafkajs restarts the consumer)', () => {
    const h = harness();
    h.pauses.pauseUntil(TOPIC, 0, T0 + 60_000);
    h.pauses.dropTimers();
    expect(h.t.armed()).toEqual([]);
    expect(h.c.paused()).toEqual([`${TOPIC}|0`]);
  });

  test('a resume the client refuses (it is restarting) is not thrown from the timer; the partition waits for the rejoin', () => {
    const c = fakeConsumer({ resumeFails: true });
    const t = fakeTimers();
    createPauses(c.client, { clock: fakeClock(), log, timers: t.timers }).pauseUntil(TOPIC, 0, T0 + 1000);
    expect(() => t.fireAll()).not.toThrow();
    expect(c.paused()).toEqual([`${TOPIC}|0`]);
  });
});
