// EchoCue's producer on @platformatic/kafka: idempotent, acks=all, Java-compatible partitioning (the key-to-partition
// mapping kafkajs had, so existing topics stay valid), and group commit.
import { ProduceAcks, Producer, compatibilityPartitioner, stringSerializer } from '@platformatic/kafka';
import { AppError } from '../../core/errors.ts';
import { type EventProducer, type EventRecord } from '../port.ts';
import { platformaticOptions, type ClientOptions } from './options.ts';

/** One write stays well under the topics' batch limit (a caller's larger send is split into several writes, a single
 *  larger record goes alone), and serves at most this many callers. */
const MAX_WRITE_BYTES = 768 * 1024;
const MAX_WRITE_CALLERS = 500;

const sizeOf = (records: readonly EventRecord[]): number => records.reduce((n, r) => n + r.value.length + r.key.length + 64, 0);

/** Consecutive chunks of at most `max` bytes (a record larger than that is a chunk of its own). */
function chunkBySize(records: readonly EventRecord[], max: number): EventRecord[][] {
  const chunks: EventRecord[][] = [];
  let current: EventRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = sizeOf([r]);
    if (current.length > 0 && bytes + size > max) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

type KafkaProducer = Producer<string, Buffer, string, string>;

export async function createEventProducer(opts: ClientOptions): Promise<EventProducer> {
  const producer: KafkaProducer = new Producer({
    // Retries inside one write (a leader moving, a connection cut) keep its sequence numbers, so the broker drops
    // what it had already written; past the caller's deadline the caller answers 503 and Meta redelivers with the
    // same event ids.
    ...platformaticOptions(opts, opts.clientId),
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
    partitioner: compatibilityPartitioner,
    serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
  });
  // Connects and takes a producer id now, so that an unreachable broker fails the start rather than the first POST.
  await producer.initIdempotentProducer({});
  // After a failed write @platformatic/kafka drops its producer id and sequence numbers and takes a new id on the next
  // write (kafkajs 2.2.4 rewound its sequence numbers under the same id: the broker then dropped the next batch of
  // the same record count as a duplicate and acknowledged it, events lost after their 200;
  // test/e2e/ingest-kafka-faults.test.ts). What the failed write may have left on the topic stays at most once.

  // Group commit: while one write is in flight, the records of every caller that arrives meanwhile wait and go
  // together in the next write, so one Kafka round trip serves them all (an idempotent producer keeps one write per
  // partition in order; one write per webhook POST would cap ingest at one round trip per request). Each caller
  // still gets its own deadline and answer; a failed write fails exactly the callers in it.
  type Waiting = { records: readonly EventRecord[]; bytes: number; expired: boolean; resolve(): void; reject(err: unknown): void };
  const queue: Waiting[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    while (queue.length > 0) {
      // A caller past its deadline has answered 503 already (Meta sends it again): its records are not written.
      for (let i = queue.length - 1; i >= 0; i--) if (queue[i]!.expired) queue.splice(i, 1);
      if (queue.length === 0) break;
      let bytes = 0;
      let take = 0;
      while (take < queue.length && (take === 0 || (bytes + queue[take]!.bytes <= MAX_WRITE_BYTES && take < MAX_WRITE_CALLERS)))
        bytes += queue[take++]!.bytes;
      const group = queue.splice(0, take);
      const messages = group.flatMap((g) =>
        g.records.map((r) => ({ topic: r.topic, key: r.key, value: r.value, ...(r.headers ? { headers: { ...r.headers } } : {}) })),
      );
      try {
        await producer.send({ messages });
        for (const g of group) g.resolve();
      } catch (err) {
        for (const g of group) g.reject(err);
      }
    }
    flushing = false;
  }

  return {
    async send(records, { timeoutMs }) {
      if (records.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const parts: Waiting[] = [];
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          for (const part of parts) part.expired = true;
          reject(new AppError('EC_KAFKA_UNAVAILABLE', `Kafka did not acknowledge ${records.length} record(s) within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      const write = Promise.all(
        chunkBySize(records, MAX_WRITE_BYTES).map(
          (chunk) =>
            new Promise<void>((resolve, reject) => {
              const part: Waiting = { records: chunk, bytes: sizeOf(chunk), expired: false, resolve, reject };
              parts.push(part);
              queue.push(part);
            }),
        ),
      ).then(() => undefined);
      if (!flushing) void flush();
      write.catch(() => undefined); // a late failure after the deadline is already answered with 503
      try {
        await Promise.race([write, deadline]);
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError('EC_KAFKA_UNAVAILABLE', `Kafka rejected the write: ${describe(err)}`, { cause: err });
      } finally {
        clearTimeout(timer);
      }
    },
    disconnect: () => producer.close(),
  };
}

/** The client's message and, for an aggregate of per-broker failures, the first underlying one. */
function describe(err: unknown): string {
  const e = err as { message?: string; errors?: { message?: string }[] };
  const inner = e.errors?.[0]?.message;
  return inner && inner !== e.message ? `${e.message} (${inner})` : String(e.message ?? err);
}
