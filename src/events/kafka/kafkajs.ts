// The kafkajs client the consumer runners use (batch-consumer.ts, due-consumer.ts), with its log mapped onto ours.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { type ClientOptions } from './options.ts';

// kafkajs logs every retriable protocol error (a broker still loading, a rebalance) at ERROR and then retries
// by itself; what really fails reaches our code as a rejected promise and is logged there. So ERROR -> warn.
const LEVELS: Record<number, 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'warn',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafkajs({ brokers, clientId, log, requestTimeoutMs, connectTimeoutMs }: ClientOptions): Kafka {
  const klog = log.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: [...brokers],
    connectionTimeout: connectTimeoutMs,
    requestTimeout: requestTimeoutMs,
    retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 5 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        klog[LEVELS[level] ?? 'info'](rest, message);
      },
  });
}

/**
 * kafkajs 2.2.4 arms a timer with a negative delay on Node >= 23 (requestQueue throttle check, `throttledUntil`
 * starts at -1), which Node reports as TimeoutNegativeWarning on every connection; the timer then fires after 1 ms,
 * as kafkajs meant. Called once by process entry points; every other warning is still printed.
 */
export function silenceKafkajsTimeoutWarning(): void {
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'TimeoutNegativeWarning') process.stderr.write(`${w.name}: ${w.message}\n`);
  });
}
