// Applies a batch of message.inbound events: store new messages, fold each thread, save, recount unread.
// Each thread has one writer (its WABA's partition is read by one consumer), so load -> reduce -> save is safe
// even on FerretDB, whose updates are read-then-write without locks (docs/decisions/0002-local-stack.md).
import { type Clock } from '../../core/clock.ts';
import { type Logger } from '../../core/log.ts';
import { type MessageInboundEvent } from '../../events/generated/event-types.ts';
import { deterministicId } from '../../core/ids.ts';
import { type MessageDoc, type MessageStore } from '../../store/messages.ts';
import { type ThreadDoc, type ThreadStore } from '../../store/threads.ts';
import { applyInbound, metaTimeToDate, threadIdOf } from './reduce.ts';

export type ThreadHandlerDeps = Readonly<{ threads: ThreadStore; messages: MessageStore; clock: Clock; log: Logger }>;

export function createThreadHandler(deps: ThreadHandlerDeps) {
  return async function applyBatch(events: readonly MessageInboundEvent[]): Promise<{ applied: number; skipped: number }> {
    const now = deps.clock.now();
    const messageDocs: MessageDoc[] = [];
    const byThread = new Map<string, MessageInboundEvent[]>();
    let skipped = 0;
    for (const e of events) {
      const threadId = threadIdOf(e);
      if (threadId === null || e.wamid === '') {
        skipped++;
        deps.log.warn({ eventId: e.event_id, wabaId: e.waba_id }, 'inbound message without sender identity or wamid: not applied');
        continue;
      }
      messageDocs.push({
        _id: deterministicId('msg', e.waba_id, e.wamid),
        waba_id: e.waba_id,
        wamid: e.wamid,
        thread_id: threadId,
        direction: 'inbound',
        type: e.message_type,
        text: e.text_body,
        context_id: e.context_id,
        timestamp: metaTimeToDate(e.meta_timestamp),
        from: e.from,
        from_user_id: e.from_user_id,
        read_at: null,
        event_id: e.event_id,
        raw: e.raw,
        created_at: now,
      });
      byThread.set(threadId, [...(byThread.get(threadId) ?? []), e]);
    }
    // Messages first: the unread recount below reads them.
    await deps.messages.insertNew(messageDocs);

    const current = await deps.threads.loadMany([...byThread.keys()]);
    const next: ThreadDoc[] = [];
    for (const [threadId, threadEvents] of byThread) {
      let doc = current.get(threadId) ?? null;
      for (const e of threadEvents) {
        const r = applyInbound(doc, e, now);
        if (r.kind === 'applied') doc = r.thread;
      }
      if (doc) next.push({ ...doc, unread_count: await deps.messages.countUnread(threadId) });
    }
    await deps.threads.saveMany(next);
    return { applied: events.length - skipped, skipped };
  };
}
