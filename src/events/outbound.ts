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

/** One attempt of a delivery, carrying what the worker needs to send it without reading the delivery
 *  (docs/decisions/0010-delivery-round-trips.md). Records queued before that change hold only the first four
 *  fields; the worker reads the delivery for those, as for a record whose body was too large to carry. */
export type AttemptRecord = Readonly<{
  delivery_id: string;
  /** Replays start a new round; attempts count from 1 in each round. */
  round: number;
  attempt: number;
  /** Not before this time (ms since epoch). */
  due_at: number;
  endpoint_id?: string;
  key_id?: string;
  /** The envelope id (X-EchoCue-Event-Id). */
  event_id?: string;
  /** The exact body to send; absent when larger than INLINE_BODY_MAX_BYTES (src/delivery/record.ts). */
  body?: string;
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
