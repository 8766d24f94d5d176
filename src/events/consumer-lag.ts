// Consumer lag per group and partition, read from Kafka (committed offsets against the log end) when /metrics is
// scraped: what an operator sees is what the broker holds, whichever member (or none) runs the group.
// docs/decisions/0017-metrics-and-logs.md.
import { Counter, Gauge, type Registry } from 'prom-client';
import { type Logger } from '../core/log.ts';
import { METRIC } from '../core/metrics.ts';
import { type EventsAdmin } from './port.ts';

export type LagGroup = Readonly<{ groupId: string; topics: readonly string[] }>;

export type LagSample = Readonly<{ group: string; topic: string; partition: number; committed: number; lag: number }>;

export type ConsumerLagOptions = Readonly<{
  admin: Pick<EventsAdmin, 'endOffsets' | 'committedOffsets'>;
  /** The groups this process runs, each with the topics it reads. */
  groups: readonly LagGroup[];
  log: Logger;
  /** How long a scrape waits for Kafka's answer (default 2000 ms); later, the families are answered without values. */
  deadlineMs?: number;
  /** How long one answer serves scrapes (default 1000 ms), so that several scrapers do not each ask Kafka. */
  cacheMs?: number;
}>;

/** The lag of each partition: end offset minus committed offset (no commit yet: the whole log, from offset 0). */
export function lagSamples(
  groups: readonly LagGroup[],
  ends: ReadonlyMap<string, readonly bigint[]>,
  committed: readonly ReadonlyMap<string, readonly bigint[]>[],
): LagSample[] {
  const out: LagSample[] = [];
  groups.forEach((g, i) => {
    for (const topic of g.topics) {
      const end = ends.get(topic) ?? [];
      const done = committed[i]?.get(topic) ?? [];
      end.forEach((e, partition) => {
        const c = done[partition] ?? -1n;
        const from = c >= 0n ? c : 0n;
        out.push({ group: g.groupId, topic, partition, committed: Number(c), lag: Number(e > from ? e - from : 0n) });
      });
    }
  });
  return out;
}

/** Registers echocue_kafka_consumer_lag and echocue_kafka_consumer_committed_offset, collected at scrape time. A
 *  scrape never waits past `deadlineMs`; when Kafka does not answer, both families are present with no samples
 *  (never the last known, stale, values) and the scrape-error counter moves. */
export function registerConsumerLag(registry: Registry, opts: ConsumerLagOptions): void {
  const deadlineMs = opts.deadlineMs ?? 2000;
  const cacheMs = opts.cacheMs ?? 1000;
  const log = opts.log.child({ component: 'consumer-lag' });
  const topics = [...new Set(opts.groups.flatMap((g) => g.topics))];
  let cached: { at: number; samples: LagSample[] | null } | null = null;
  let reading: Promise<LagSample[]> | null = null; // one request to Kafka at a time, even one past its deadline
  let attempt: Promise<LagSample[] | null> | null = null; // shared by the families of one scrape and concurrent scrapes

  async function read(): Promise<LagSample[]> {
    if (topics.length === 0) return [];
    const [ends, ...committed] = await Promise.all([
      opts.admin.endOffsets(topics),
      ...opts.groups.map((g) => opts.admin.committedOffsets(g.groupId, g.topics)),
    ]);
    return lagSamples(opts.groups, ends, committed);
  }

  /** Kafka's answer within deadlineMs, or null (counted once, logged at debug: a scrape is no place for noise). */
  async function tryRead(): Promise<LagSample[] | null> {
    reading ??= read().finally(() => {
      reading = null;
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    let got: LagSample[] | null = null;
    try {
      const answer = await Promise.race([reading, late]);
      if (answer === 'late') log.debug({ deadlineMs }, 'consumer lag not read: Kafka did not answer in time');
      else got = answer;
    } catch (err) {
      log.debug({ err }, 'consumer lag not read');
    } finally {
      clearTimeout(timer);
    }
    if (got === null) scrapeErrors.inc();
    cached = { at: performance.now(), samples: got };
    return got;
  }

  function samples(): Promise<LagSample[] | null> {
    if (cached && performance.now() - cached.at < cacheMs) return Promise.resolve(cached.samples);
    attempt ??= tryRead().finally(() => {
      attempt = null;
    });
    return attempt;
  }

  const labelNames = ['group', 'topic', 'partition'] as const;
  new Gauge({
    name: METRIC.consumerLag,
    help: "Records on a partition its group has not committed yet (log end offset minus the group's committed offset)",
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of (await samples()) ?? []) this.set({ group: s.group, topic: s.topic, partition: String(s.partition) }, s.lag);
    },
  });
  new Gauge({
    name: METRIC.consumerCommitted,
    help: 'The offset a group has committed on a partition (the next record it reads; -1: none yet)',
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of (await samples()) ?? []) this.set({ group: s.group, topic: s.topic, partition: String(s.partition) }, s.committed);
    },
  });
  // Collected with the gauges (prom-client collects every family at once), so it counts this scrape's failure.
  const scrapeErrors = new Counter({
    name: METRIC.consumerLagScrapeErrors,
    help: 'Scrapes whose consumer lag could not be read from Kafka in time (the lag families then have no samples)',
    registers: [registry],
    async collect() {
      await samples();
    },
  });
}
