// The internal JSON records of outbound webhooks: notifications (the actors' resulting state per event) and
// delivery attempts (one record per attempt, on the topic of its delay tier).
import { AppError } from '../core/errors.ts';

export const CATEGORIES = ['message.inbound', 'message.status', 'template.status', 'template.quality', 'consent.event'] as const;
export type Category = (typeof CATEGORIES)[number];

export type Notification = Readonly<{
  /** Stable per (category, source event): a redelivered event gives the same id, which receivers dedupe on. */
  id: string;
  category: Category;
  waba_id: string;
  /** When EchoCue received the event that caused it (ISO). */
  created_at: string;
  data: Readonly<Record<string, unknown>>;
}>;

export type AttemptRecord = Readonly<{
  delivery_id: string;
  /** Replays start a new round; attempts count from 1 in each round. */
  round: number;
  attempt: number;
  /** Not before this time (ms since epoch). */
  due_at: number;
}>;

export const encodeJson = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

export function decodeJson<T>(value: Buffer | null, what: string): T {
  try {
    if (value === null) throw new Error('no value');
    return JSON.parse(value.toString('utf8')) as T;
  } catch (err) {
    throw new AppError('EC_EVENT_DECODING', `${what} record is not JSON`, { cause: err });
  }
}
