// Two Kafka requests sent by hand over a socket, to ask the broker what it is without any client library in between
// (a client could hide or paper over what the broker answers): ApiVersions v3 (the version range of every API, and
// the features the broker supports and the cluster finalized) and DescribeQuorum v0 (the KRaft metadata quorum,
// which only a KRaft cluster has). Wire format: https://kafka.apache.org/protocol (flexible versions, KIP-482).
import { connect } from 'node:net';

class Writer {
  private parts: Buffer[] = [];
  int16(v: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  int32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  uvarint(v: number) {
    const out: number[] = [];
    while (v > 0x7f) {
      out.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(v);
    this.parts.push(Buffer.from(out));
    return this;
  }
  /** A nullable string with an int16 length (the request header's client id). */
  string(s: string) {
    return this.int16(Buffer.byteLength(s)).raw(Buffer.from(s));
  }
  compactString(s: string) {
    return this.uvarint(Buffer.byteLength(s) + 1).raw(Buffer.from(s));
  }
  raw(b: Buffer) {
    this.parts.push(b);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class Reader {
  private at = 0;
  private readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  int16() {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32() {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  int64() {
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }
  uvarint() {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.at++]!;
      v |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v >>> 0;
      shift += 7;
    }
  }
  bytes(n: number) {
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
  compactString() {
    const n = this.uvarint() - 1;
    return n < 0 ? null : this.bytes(n).toString('utf8');
  }
  compactArray<T>(item: () => T): T[] {
    const n = this.uvarint() - 1;
    return Array.from({ length: Math.max(0, n) }, item);
  }
  /** Tagged fields: `onTag` reads the ones it knows (given a reader over the field), the rest are skipped. */
  taggedFields(onTag: (tag: number, field: Reader) => void = () => undefined) {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      const tag = this.uvarint();
      const size = this.uvarint();
      onTag(tag, new Reader(this.bytes(size)));
    }
  }
}

/** Sends one request (header v2, the flexible one) and returns the response after its correlation id. */
async function request(broker: string, apiKey: number, apiVersion: number, body: Buffer): Promise<Reader> {
  const [host, port] = [broker.slice(0, broker.lastIndexOf(':')), Number(broker.slice(broker.lastIndexOf(':') + 1))];
  const correlationId = 4242;
  const header = new Writer().int16(apiKey).int16(apiVersion).int32(correlationId).string('echocue-wire-test').uvarint(0).done();
  const payload = Buffer.concat([header, body]);
  const frame = Buffer.concat([new Writer().int32(payload.length).done(), payload]);
  const response = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect(port, host, () => socket.write(frame));
    let got = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer from ${broker} to API ${apiKey} v${apiVersion}`)));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) {
        socket.end();
        resolve(got.subarray(4, 4 + got.readInt32BE(0)));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`${broker} closed the connection before answering API ${apiKey} v${apiVersion}`)));
  });
  const r = new Reader(response);
  const echoed = r.int32();
  if (echoed !== correlationId) throw new Error(`correlation id ${echoed}, expected ${correlationId}`);
  return r;
}

export type ApiVersions = {
  /** Version range per API key. */
  apis: Map<number, { min: number; max: number }>;
  /** Features the broker supports (name -> version range). */
  supportedFeatures: Map<string, { min: number; max: number }>;
  /** Features finalized for the cluster (name -> level). */
  finalizedFeatures: Map<string, number>;
};

/** ApiVersions v3. Its response header is v0 whatever the version (no tagged fields after the correlation id). */
export async function apiVersions(broker: string): Promise<ApiVersions> {
  const r = await request(broker, 18, 3, new Writer().compactString('echocue-wire-test').compactString('1').uvarint(0).done());
  const error = r.int16();
  if (error !== 0) throw new Error(`ApiVersions answered error ${error}`);
  const apis = new Map<number, { min: number; max: number }>();
  r.compactArray(() => {
    const key = r.int16();
    apis.set(key, { min: r.int16(), max: r.int16() });
    r.taggedFields();
  });
  r.int32(); // throttle_time_ms
  const supportedFeatures = new Map<string, { min: number; max: number }>();
  const finalizedFeatures = new Map<string, number>();
  r.taggedFields((tag, f) => {
    if (tag === 0)
      f.compactArray(() => {
        const name = f.compactString()!;
        supportedFeatures.set(name, { min: f.int16(), max: f.int16() });
        f.taggedFields();
      });
    if (tag === 2)
      f.compactArray(() => {
        const name = f.compactString()!;
        finalizedFeatures.set(name, f.int16()); // max_version_level (then min_version_level)
        f.int16();
        f.taggedFields();
      });
  });
  return { apis, supportedFeatures, finalizedFeatures };
}

export type Quorum = { leaderId: number; leaderEpoch: number; voters: number[]; observers: number[] };

/** DescribeQuorum v0 for the metadata log (__cluster_metadata, partition 0); a broker forwards it to the controller.
 *  Its response header is v1 (tagged fields after the correlation id). */
export async function describeQuorum(broker: string): Promise<Quorum> {
  const body = new Writer()
    .uvarint(2) // one topic
    .compactString('__cluster_metadata')
    .uvarint(2) // one partition
    .int32(0)
    .uvarint(0)
    .uvarint(0)
    .uvarint(0)
    .done();
  const r = await request(broker, 55, 0, body);
  r.taggedFields();
  const error = r.int16();
  if (error !== 0) throw new Error(`DescribeQuorum answered error ${error}`);
  const quorums: Quorum[] = [];
  r.compactArray(() => {
    r.compactString();
    r.compactArray(() => {
      r.int32(); // partition_index
      const partitionError = r.int16();
      if (partitionError !== 0) throw new Error(`DescribeQuorum answered partition error ${partitionError}`);
      const leaderId = r.int32();
      const leaderEpoch = r.int32();
      r.int64(); // high_watermark
      const replicas = () =>
        r.compactArray(() => {
          const id = r.int32();
          r.int64(); // log_end_offset
          r.taggedFields();
          return id;
        });
      const voters = replicas();
      const observers = replicas();
      r.taggedFields();
      quorums.push({ leaderId, leaderEpoch, voters, observers });
    });
    r.taggedFields();
  });
  r.taggedFields();
  if (quorums.length !== 1) throw new Error(`DescribeQuorum described ${quorums.length} partitions, not 1`);
  return quorums[0]!;
}
