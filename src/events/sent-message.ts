// The record of a message EchoCue sent through the Graph API and Meta accepted (POST /api/thread/{id}/messages). The
// API hands it to the actors through Kafka because the message and thread documents are theirs (one writer per
// entity); keyed by WABA like every actor event. Its id comes from the wamid, so writing it again (a retried call
// with the same Idempotency-Key) is a duplicate the actors apply once.
import { deterministicId } from '../core/ids.ts';
import { type MessageOutboundEvent } from './generated/event-types.ts';
import { type EventRecord } from './port.ts';
import { type EventSerde } from './serde.ts';
import { type Topics } from './topics.ts';

export type SentMessage = Omit<MessageOutboundEvent, 'event_id' | 'event_type'>;

export function sentMessageRecord(topics: Topics, serde: EventSerde, m: SentMessage): EventRecord {
  const topic = topics.events['message.outbound'];
  const value: MessageOutboundEvent = {
    ...m,
    event_id: deterministicId('evt', 'message.outbound', m.waba_id, m.wamid),
    event_type: 'message.outbound',
  };
  return {
    topic,
    key: m.waba_id,
    value: serde.encode(topic, value),
    headers: { event_type: 'message.outbound', event_id: value.event_id },
  };
}
