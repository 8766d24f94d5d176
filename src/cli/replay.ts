// `echocue replay` (issue 17, docs/decisions/0018-replay.md, docs/operations/replay.md): re-drives the actors from the
// raw topic into a fresh database and reports how it differs from the live one. Each raw body goes through the
// ingest's own split (src/ingest/split) with the time it was accepted, each event through the same Avro encoding
// the event topics hold, and each batch through the actors' own Session and applyBatch into an actor store on the
// target database: no second fold, so "no difference" says the live documents are what the code makes of the log.
// Nothing is produced: no notification, no dead letter; the live system is only read.
import { randomBytes } from 'node:crypto';
import { AppError, isAppError } from '../core/errors.ts';
import { type Logger } from '../core/log.ts';
import { ACTOR_EVENT_TYPES, applyBatch, type DecodedEvent } from '../actors/apply.ts';
import { type ActorStore } from '../actors/ports.ts';
import { Session } from '../actors/session.ts';
import { type ConsumedRecord, type Events, type PartitionOffsets } from '../events/port.ts';
import { type EventSerde } from '../events/serde.ts';
import { type Topics } from '../events/topics.ts';
import { parseJsonLossless } from '../ingest/parse-json.ts';
import { splitPayload } from '../ingest/split/split-payload.ts';
import { storeRefusedData } from '../store/errors.ts';
import { type CollectionDifference } from '../store/replay-target.ts';
import { type Progress } from './progress.ts';

export type ReplayCounts = {
  /** Records read from the raw and thread-read topics, up to the end offsets they had when the replay started. */
  records: number;
  /** Raw bodies split and applied. */
  bodies: number;
  /** Records before --from (read, not applied). */
  skippedBeforeFrom: number;
  /** Raw bodies that are not JSON (never accepted by ingest; counted, not applied). */
  unreadable: number;
  /** Events applied (the actors' event types; webhook errors and unknown changes are for people). */
  events: number;
  /** Events the actors could not apply (live, they went to the dead-letter topic). */
  rejected: number;
};

/** The topics replayed and where the replay stops: their end offsets when it started. */
export type StopPoint = { start: PartitionOffsets; end: PartitionOffsets; total: number };

export async function stopPoint(events: Events, topics: readonly string[]): Promise<StopPoint> {
  const [start, end] = await Promise.all([events.admin.startOffsets(topics), events.admin.endOffsets(topics)]);
  let total = 0;
  for (const [t, ends] of end) ends.forEach((e, p) => (total += Math.max(0, Number(e - (start.get(t)?.[p] ?? 0n)))));
  return { start, end, total };
}

/** The events the REST API writes (no raw body holds them): thread reads and the messages EchoCue sent. */
const API_EVENT_TYPES = ['thread.read', 'message.outbound'] as const;

/** The topics a replay reads: the raw bodies, and the topics of the events the REST API writes. */
export async function replayTopics(events: Events, topics: Topics): Promise<string[]> {
  const existing = new Set(await events.admin.listTopics());
  if (!existing.has(topics.raw))
    throw new AppError('EC_NOT_FOUND', `topic ${topics.raw} does not exist on the brokers (nothing was ever accepted with this prefix)`);
  return [topics.raw, ...API_EVENT_TYPES.map((t) => topics.events[t]).filter((t) => existing.has(t))];
}

/** Reads the topics from their start to the stop point and applies every event to `store`. */
export async function replayInto(
  deps: Readonly<{
    events: Events;
    serde: EventSerde;
    topics: Topics;
    prefix: string;
    store: ActorStore;
    /** The live owner of each WABA (the events are stamped as ingest stamps them; the actors do not read it). */
    accountOf: (wabaId: string) => string | null;
    log: Logger;
    progress: Progress;
  }>,
  opts: Readonly<{ topics: readonly string[]; stop: StopPoint; from: Date | null }>,
): Promise<ReplayCounts> {
  const counts: ReplayCounts = { records: 0, bodies: 0, skippedBeforeFrom: 0, unreadable: 0, events: 0, rejected: 0 };
  const from = opts.from?.getTime() ?? null;
  const actorTypes = new Set<string>(ACTOR_EVENT_TYPES);
  const apiTopics = new Map<string, (typeof API_EVENT_TYPES)[number]>(API_EVENT_TYPES.map((t) => [deps.topics.events[t], t]));
  // Partitions still to read, by "<topic>|<partition>" -> the offset the replay stops before.
  const pending = new Map<string, bigint>();
  for (const [t, ends] of opts.stop.end)
    ends.forEach((e, p) => {
      if (e > (opts.stop.start.get(t)?.[p] ?? 0n)) pending.set(`${t}|${p}`, e);
    });
  deps.progress.start('replay', opts.stop.total);
  if (pending.size === 0) {
    deps.progress.stop();
    return counts;
  }

  /** The events one record stands for, as the actors would have decoded them from the event topics. */
  async function eventsOf(r: ConsumedRecord): Promise<DecodedEvent[]> {
    if (r.value === null) return [];
    const apiType = apiTopics.get(r.topic);
    if (apiType) {
      const event = await deps.serde.decode(r.topic, r.value);
      if (from !== null && Number(event['received_at']) < from) return (counts.skippedBeforeFrom++, []);
      return [{ type: apiType, event } as DecodedEvent];
    }
    // The time ingest accepted the body: every event's received_at, as on the live topics.
    const receivedAt = Date.parse(r.headers['received-at'] ?? '') || r.timestamp;
    if (from !== null && receivedAt < from) return (counts.skippedBeforeFrom++, []);
    let body: unknown;
    try {
      body = parseJsonLossless(r.value.toString('utf8'));
    } catch {
      return (counts.unreadable++, []);
    }
    counts.bodies++;
    const outcome = splitPayload(body, { receivedAt, accountOf: deps.accountOf });
    if (outcome.kind !== 'events') return [];
    const out: DecodedEvent[] = [];
    for (const e of outcome.events) {
      if (!actorTypes.has(e.eventType)) continue;
      // Through Avro and back: the actors see exactly the shapes they decode from the event topics.
      const topic = deps.topics.events[e.eventType];
      out.push({ type: e.eventType, event: await deps.serde.decode(topic, deps.serde.encode(topic, e.value)) } as DecodedEvent);
    }
    return out;
  }

  async function apply(events: readonly DecodedEvent[]): Promise<void> {
    try {
      counts.rejected += (await applyBatch(new Session(deps.store), events)).length;
    } catch (err) {
      // As the actors do (src/actors/consumer.ts): a write the store refuses for its data is applied event by
      // event, and an event whose own write is refused is left out (live: a dead letter, EC_STORE_REFUSED).
      if (storeRefusedData(err) === null || events.length === 1) {
        if (events.length === 1 && storeRefusedData(err) !== null) return void counts.rejected++;
        throw err;
      }
      for (const e of events) await apply([e]);
    }
  }

  /** Thread reads not applied yet, and the Kafka time of the newest raw body applied per partition. */
  let heldReads: ConsumedRecord[] = [];
  const rawSeenAt = new Map<number, number>();
  let failure: unknown = null;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const consumer = await deps.events.runBatchConsumer({
    groupId: `${deps.prefix}echocue.replay.${randomBytes(4).toString('hex')}`,
    topics: opts.topics,
    log: deps.log,
    fromBeginning: true,
    // One batch at a time: a POST may name several WABAs, so two partitions' batches may touch one document.
    concurrency: 1,
    async handleBatch(records) {
      if (failure !== null || pending.size === 0) return;
      try {
        const decoded: DecodedEvent[] = [];
        let read = 0;
        for (const r of records) {
          const key = `${r.topic}|${r.partition}`;
          const stopAt = pending.get(key);
          if (stopAt === undefined) continue;
          if (BigInt(r.offset) >= stopAt) {
            pending.delete(key); // past the stop point (an offset gap hid its last record)
            continue;
          }
          read++;
          if (apiTopics.has(r.topic)) heldReads.push(r);
          else {
            decoded.push(...(await eventsOf(r)));
            rawSeenAt.set(r.partition, r.timestamp);
          }
          if (BigInt(r.offset) + 1n >= stopAt) pending.delete(key);
        }
        if (decoded.length > 0) await apply(decoded);
        // A thread read (or a sent message) follows the bodies written before it on its partition (its WABA's, as the
        // raw topic is keyed by WABA too), as it followed them live: a read of a thread not made yet would be refused.
        const due = (r: ConsumedRecord) =>
          !pending.has(`${deps.topics.raw}|${r.partition}`) || (rawSeenAt.get(r.partition) ?? -1) > r.timestamp;
        const released = heldReads.filter(due).sort((a, b) => a.timestamp - b.timestamp);
        heldReads = heldReads.filter((r) => !due(r));
        const reads: DecodedEvent[] = [];
        for (const r of released) reads.push(...(await eventsOf(r)));
        if (reads.length > 0) await apply(reads);
        counts.records += read;
        counts.events += decoded.length + reads.length;
        deps.progress.increment(read);
      } catch (err) {
        // Stops the replay (a retried batch would fail the same way, or apply twice into a half-written target).
        failure = err;
      }
      if (failure !== null || pending.size === 0) finished();
    },
  });
  try {
    await done;
  } finally {
    await consumer.stop();
    deps.progress.stop();
  }
  if (failure !== null) {
    if (isAppError(failure)) throw failure;
    throw new AppError('EC_INTERNAL', `replay stopped: ${(failure as Error).message}`, { cause: failure });
  }
  return counts;
}

export type ReplayReport = {
  live: string;
  replay: string;
  from: string | null;
  /** What was compared: every document, or (with --from) only those the replay wrote. */
  compared: 'all documents' | 'documents the replay wrote';
  ignoredFields: readonly string[];
  tenancyCopied: Record<string, number>;
  counts: ReplayCounts | null;
  collections: CollectionDifference[];
  difference: boolean;
};

export const hasDifference = (cs: readonly CollectionDifference[]): boolean => cs.some((c) => c.onlyLive + c.onlyReplay + c.different > 0);

/** The report as a table a person reads. */
export function reportText(r: ReplayReport): string {
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const lines = [
    `replayed ${r.from ? `from ${r.from}` : 'from the beginning'} into ${r.replay}, compared with ${r.live} (${r.compared}; ignored: ${r.ignoredFields.join(', ')})`,
  ];
  if (r.counts)
    lines.push(
      `records ${r.counts.records}, bodies ${r.counts.bodies}, events applied ${r.counts.events}, rejected ${r.counts.rejected}, before --from ${r.counts.skippedBeforeFrom}, unreadable ${r.counts.unreadable}`,
    );
  lines.push(
    `${'collection'.padEnd(18)}${pad('same', 9)}${pad('only live', 11)}${pad('only replay', 13)}${pad('different', 11)}${pad('not replayed', 14)}`,
  );
  for (const c of r.collections) {
    lines.push(
      `${c.collection.padEnd(18)}${pad(c.same, 9)}${pad(c.onlyLive, 11)}${pad(c.onlyReplay, 13)}${pad(c.different, 11)}${pad(c.notReplayed, 14)}`,
    );
    for (const id of c.examples.onlyLive) lines.push(`  only live:   ${id}`);
    for (const id of c.examples.onlyReplay) lines.push(`  only replay: ${id}`);
    for (const d of c.examples.different) lines.push(`  different:   ${d.id} (${d.fields.join(', ')})`);
  }
  lines.push(r.difference ? 'DIFFERENT: the replay does not match the live database' : 'no difference');
  return lines.join('\n');
}

/** The target of --into: a database name on the live server, or a MongoDB URI of its own. */
export function targetOf(into: string, liveUri: string): { uri: string; sameServer: boolean } {
  if (/^mongodb(\+srv)?:\/\//.test(into)) return { uri: into, sameServer: serverOf(into) === serverOf(liveUri) };
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(into))
    throw new AppError('EC_USAGE', `--into must be a database name (letters, digits, _ and -) or a mongodb:// URI (got "${into}")`);
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?([^?]*)(\?.*)?$/.exec(liveUri)!;
  return { uri: `${m[1]}/${into}${m[3] ?? ''}`, sameServer: true };
}

/** The server part of a URI (hosts, lower case) and the database name it names. */
const serverOf = (uri: string) => /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]+)/.exec(uri)?.[1]?.toLowerCase() ?? uri;
export const databaseOf = (uri: string): string => /^mongodb(?:\+srv)?:\/\/[^/?]+\/([^?]*)/.exec(uri)?.[1] || 'test';
export const sameDatabase = (a: string, b: string): boolean => serverOf(a) === serverOf(b) && databaseOf(a) === databaseOf(b);
