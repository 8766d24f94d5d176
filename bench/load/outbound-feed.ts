// Notifications as the actors write them (src/actors/notify.ts: JSON on the notifications topic, keyed by WABA id),
// with a message.inbound payload shaped like the REST API's Message and Thread views, and a reader of the due times
// the delivery worker put on the tier topics (each attempt record's due_at).
import { type EventProducer, type Events } from '../../src/events/port.ts';
import { decodeJson, encodeJson, type AttemptRecord, type Notification } from '../../src/events/outbound.ts';
import { readToEnd } from '../../harness/kafka.ts';

const TEXT = 'Hi! Do you have any openings for a cleaning next week? Tuesday or Wednesday morning would be best for me.';

/** A message.inbound notification; `tag` + `i` make its id (the receiver's X-EchoCue-Event-Id) unique. */
export function benchNotification(tag: string, i: number, waba: string): Notification {
  const at = new Date();
  const iso = at.toISOString();
  const waId = `1555${String(1_000_000 + (i % 4000))}`;
  const wamid = `wamid.HBgLMTU1NTAxOTkwMDEVAgASGBQ${tag.toUpperCase()}${String(i).padStart(10, '0')}AA=`;
  const threadId = `thr_${waba.slice(-6)}${waId}`;
  return {
    id: `evt_bench${tag}${i}`,
    category: 'message.inbound',
    waba_id: waba,
    created_at: iso,
    data: {
      message: {
        id: `msg_${tag}${i}`,
        wamid,
        thread_id: threadId,
        direction: 'inbound',
        type: 'text',
        text: TEXT,
        reply_to_wamid: null,
        timestamp: iso,
        from: waId,
        from_user_id: null,
        delivery_status: null,
        whatsapp_status: null,
        error: null,
        content: { from: waId, id: wamid, timestamp: String(Math.floor(at.getTime() / 1000)), type: 'text', text: { body: TEXT } },
        updated_at: iso,
      },
      thread: {
        id: threadId,
        waba_id: waba,
        phone_number_id: '112356789045671',
        contact: { id: `con_${waId}`, wa_id: waId, user_id: null, name: 'Maya Okafor', username: null, opted_out_at: null },
        last_message_at: iso,
        last_inbound_at: iso,
        unread_count: 1 + (i % 3),
        window_expires_at: new Date(at.getTime() + 86_400_000).toISOString(),
        updated_at: iso,
      },
    },
  };
}

/** Writes notifications on the topic in chunks (acks=all, as the actors do). */
export async function feedNotifications(
  producer: EventProducer,
  topic: string,
  notes: readonly Notification[],
  chunk = 500,
): Promise<void> {
  for (let i = 0; i < notes.length; i += chunk) {
    await producer.send(
      notes
        .slice(i, i + chunk)
        .map((n) => ({ topic, key: n.waba_id, value: encodeJson(n), headers: { category: n.category, notification_id: n.id } })),
      { timeoutMs: 30_000 },
    );
  }
}

/** Every attempt record on `topics` (read to their current end): `delivery|round|attempt` -> due_at. */
export async function readDueTimes(
  events: Events,
  topics: readonly string[],
  groupId: string,
  timeoutMs = 30_000,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await readToEnd(
    events,
    topics,
    { groupId, timeoutMs, timeoutMessage: () => `reading the tier topics took over ${timeoutMs} ms` },
    (r) => {
      const a = decodeJson<AttemptRecord>(r.value, 'delivery attempt');
      out.set(`${a.delivery_id}|${a.round}|${a.attempt}`, a.due_at);
    },
  );
  return out;
}
