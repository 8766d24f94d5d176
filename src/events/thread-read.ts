// The one event EchoCue writes on a person's behalf rather than Meta's: a thread marked read through the REST API
// (POST /api/thread/{id}/read). The API hands it to the actors through Kafka because the thread document is theirs
// (one writer per entity); keyed by WABA like every actor event, so it is applied in order with the thread's messages.
import { deterministicId } from '../core/ids.ts';
import { type ThreadReadEvent } from './generated/event-types.ts';
import { type EventRecord } from './port.ts';
import { type EventSerde } from './serde.ts';
import { type Topics } from './topics.ts';

export type ReadMarkInput = Readonly<{ wabaId: string; accountId: string; threadId: string; upTo: Date; at: Date }>;

/** The record of a read mark: the same thread and time always give the same event id (a retried call is a duplicate). */
export function threadReadRecord(topics: Topics, serde: EventSerde, m: ReadMarkInput): EventRecord {
  const topic = topics.events['thread.read'];
  const value: ThreadReadEvent = {
    event_id: deterministicId('evt', 'thread.read', m.threadId, String(m.upTo.getTime())),
    event_type: 'thread.read',
    waba_id: m.wabaId,
    account_id: m.accountId,
    thread_id: m.threadId,
    read_up_to: m.upTo.getTime(),
    received_at: m.at.getTime(),
  };
  return { topic, key: m.wabaId, value: serde.encode(topic, value), headers: { event_type: 'thread.read', event_id: value.event_id } };
}
