// A Kafka-aware loopback proxy a test puts between EchoCue and a private broker (the broker advertises the proxy's
// port, so every connection of the client goes through it). It reads the protocol's frames (int32 size, then for a
// request int16 api key, int16 version, int32 correlation id; for a response int32 correlation id) and can:
//   dropProduceResponses(): forward Produce requests (the broker writes the records) and swallow their responses,
//                           the "written, but the acknowledgement was lost" case;
//   stall():                stop forwarding anything (connections stay open: a broker that hangs);
//   cut():                  close every connection in the middle of whatever it carries;
//   normal():               forward everything again.
import { createServer, connect, type Socket } from 'node:net';

const PRODUCE = 0;

type Mode = 'normal' | 'drop-produce-responses' | 'stall';

export type KafkaProxy = {
  port: number;
  target(port: number): void;
  normal(): void;
  dropProduceResponses(): void;
  stall(): void;
  cut(): void;
  /** Produce responses swallowed so far, and when the last one was (ms since epoch, 0: none). */
  dropped(): number;
  lastDropAt(): number;
  close(): Promise<void>;
};

/** Splits a byte stream into length-prefixed frames. */
function framer(onFrame: (frame: Buffer) => void) {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 4) {
      const size = buf.readInt32BE(0);
      if (buf.length < 4 + size) break;
      onFrame(buf.subarray(0, 4 + size));
      buf = buf.subarray(4 + size);
    }
  };
}

export async function startKafkaProxy(): Promise<KafkaProxy> {
  let mode: Mode = 'normal';
  let targetPort = 0;
  let dropped = 0;
  let lastDropAt = 0;
  const sockets = new Set<Socket>();
  const held: (() => void)[] = [];
  const server = createServer((client) => {
    sockets.add(client);
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    const produceIds = new Set<number>();
    const forward = (to: Socket, frame: Buffer) => {
      if (mode === 'stall') held.push(() => to.writable && to.write(frame));
      else to.write(frame);
    };
    client.on(
      'data',
      framer((frame) => {
        if (frame.readInt16BE(4) === PRODUCE) produceIds.add(frame.readInt32BE(8));
        forward(upstream, frame);
      }),
    );
    upstream.on(
      'data',
      framer((frame) => {
        const id = frame.readInt32BE(4);
        const isProduce = produceIds.delete(id);
        if (isProduce && mode === 'drop-produce-responses') {
          dropped++;
          lastDropAt = Date.now();
          return;
        }
        forward(client, frame);
      }),
    );
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    target: (p) => void (targetPort = p),
    normal() {
      mode = 'normal';
      for (const release of held.splice(0)) release();
    },
    dropProduceResponses: () => void (mode = 'drop-produce-responses'),
    stall: () => void (mode = 'stall'),
    cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      held.length = 0;
    },
    dropped: () => dropped,
    lastDropAt: () => lastDropAt,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
