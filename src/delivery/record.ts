// The attempt record on the tier topics: built from a delivery (planner, worker, replays) and read back by the
// worker. It carries the delivery's endpoint, key, event id and body, so that sending needs no read of the delivery;
// a body larger than INLINE_BODY_MAX_BYTES stays in the store only (the worker reads it there), and so does
// everything for records queued before this format (they hold delivery_id, round, attempt and due_at only). Pure.
import { type AttemptRecord } from '../events/outbound.ts';

/** Bodies up to this size travel in the record (the topics allow 8 MiB records; a larger body is read from the
 *  delivery instead, so one fetch of a tier partition stays around a MiB). */
export const INLINE_BODY_MAX_BYTES = 1024 * 1024;

export type DeliveryRef = Readonly<{ _id: string; endpoint_id: string; key_id: string; event_id: string; body: string; round: number }>;

export function attemptRecordOf(d: DeliveryRef, attempt: number, dueAt: number): AttemptRecord {
  const inline = d.body.length <= INLINE_BODY_MAX_BYTES / 4 || Buffer.byteLength(d.body) <= INLINE_BODY_MAX_BYTES;
  return {
    delivery_id: d._id,
    round: d.round,
    attempt,
    due_at: dueAt,
    endpoint_id: d.endpoint_id,
    key_id: d.key_id,
    event_id: d.event_id,
    ...(inline ? { body: d.body } : {}),
  };
}

/** A record complete enough to send without reading its delivery. */
export type SendableRecord = AttemptRecord & Readonly<{ endpoint_id: string; key_id: string; event_id: string; body: string }>;

export const isSendable = (r: AttemptRecord): r is SendableRecord =>
  typeof r.endpoint_id === 'string' && typeof r.key_id === 'string' && typeof r.event_id === 'string' && typeof r.body === 'string';

/** The attempt in a record's bytes, or null when they are not one (then the worker skips it with a warning). */
export function parseAttemptRecord(value: Buffer | null): AttemptRecord | null {
  if (value === null) return null;
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof rec !== 'object' || rec === null) return null;
  const { delivery_id, round, attempt, due_at } = rec;
  if (typeof delivery_id !== 'string' || !Number.isInteger(round) || !Number.isInteger(attempt) || !Number.isFinite(due_at)) return null;
  const str = (k: string) => (typeof rec[k] === 'string' ? { [k]: rec[k] as string } : {});
  return {
    delivery_id,
    round: round as number,
    attempt: attempt as number,
    due_at: due_at as number,
    ...str('endpoint_id'),
    ...str('key_id'),
    ...str('event_id'),
    ...str('body'),
  };
}
