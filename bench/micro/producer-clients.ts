// `node bench/micro/producer-clients.ts [kafkajs|platformatic] [records-per-send] [callers]`: CPU per send of the two
// Kafka clients' idempotent producers (acks=all) with EchoCue's group commit, on the broker of KAFKA_BROKERS, for
// docs/decisions/0011-kafka-port.md. One client per process run (run each a few times: the machine is noisy).
// Imports the clients directly, on purpose: it measures them, not the events port.
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { Admin, ProduceAcks, Producer, compatibilityPartitioner } from '@platformatic/kafka';

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const [client = 'platformatic', perSend = '1', callers = '32'] = process.argv.slice(2);
const N = Number(perSend);
const C = Number(callers);
const SECONDS = Number(process.env['SECONDS'] ?? 8);
const topic = `micro-producer-${Date.now()}`;
const value = Buffer.alloc(700, 'x');
type Rec = { key: string; value: Buffer };
const records = (i: number): Rec[] => Array.from({ length: N }, (_, j) => ({ key: `waba-${(i * 7 + j) % 16}`, value }));

/** EchoCue's group commit (src/events/kafka/producer.ts) over a client's write: one write in flight at a time. */
function groupCommit(write: (recs: Rec[]) => Promise<unknown>) {
  const queue: { recs: Rec[]; resolve(): void; reject(e: unknown): void }[] = [];
  let busy = false;
  async function flush() {
    busy = true;
    while (queue.length > 0) {
      const group = queue.splice(0, 500);
      try {
        await write(group.flatMap((g) => g.recs));
        for (const g of group) g.resolve();
      } catch (err) {
        for (const g of group) g.reject(err);
      }
    }
    busy = false;
  }
  return (recs: Rec[]) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ recs, resolve, reject });
      if (!busy) void flush();
    });
}

const admin = new Admin({ clientId: 'micro-admin', bootstrapBrokers: brokers });
await admin.createTopics({ topics: [topic], partitions: 6, replicas: 1 });

let send: (recs: Rec[]) => Promise<void>;
let close: () => Promise<void>;
if (client === 'kafkajs') {
  const producer = new Kafka({ clientId: 'micro', brokers, logLevel: logLevel.NOTHING }).producer({
    idempotent: true,
    maxInFlightRequests: 5,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  send = groupCommit((recs) => producer.send({ topic, acks: -1, messages: recs }));
  close = () => producer.disconnect();
} else {
  const producer = new Producer({
    clientId: 'micro',
    bootstrapBrokers: brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
  });
  send = groupCommit((recs) => producer.send({ messages: recs.map((r) => ({ topic, key: Buffer.from(r.key), value: r.value })) }));
  close = () => producer.close();
}

let sends = 0;
let i = 0;
const end = Date.now() + SECONDS * 1000;
const cpu0 = process.cpuUsage();
await Promise.all(
  Array.from({ length: C }, async () => {
    while (Date.now() < end) {
      await send(records(i++));
      sends++;
    }
  }),
);
const cpu = process.cpuUsage(cpu0);
await close();
await admin.deleteTopics({ topics: [topic] });
await admin.close();
process.stdout.write(
  `${client}: ${N} record(s) per send, ${C} callers: ${Math.round(sends / SECONDS)} sends/s, ${((cpu.user + cpu.system) / 1000 / sends).toFixed(3)} ms CPU per send\n`,
);
