// Threads and their messages.
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { type Clock } from '../../core/clock.ts';
import { type MessageReads } from '../../store/messages.ts';
import { type MessageDoc, type ThreadDoc } from '../../store/docs.ts';
import { THREAD_ORDERS, type ThreadReads } from '../../store/threads.ts';
import { MESSAGE_ORDERS } from '../../store/messages.ts';
import { listOf, pageQuery, pollList } from '../list.ts';
import { defineRoute, type Route } from '../route.ts';
import { Message, messageView } from '../../views/message.ts';
import { Thread, threadView } from '../../views/thread.ts';
import { timestamp } from '../../views/common.ts';
import { type ReadMarkInput } from '../../events/thread-read.ts';

/** Hands a read mark to the actors (the thread document is theirs): written to the thread.read topic. */
export type ThreadRouteDeps = Readonly<{
  threads: ThreadReads;
  messages: MessageReads;
  clock: Clock;
  settleMs: number;
  markRead: (mark: ReadMarkInput) => Promise<void>;
}>;

/** How far ahead of the API's clock a read mark may be (the sender's clock may run a little fast); later is a 400:
 *  it would mark read messages not received yet. */
const MARK_AHEAD_MS = 5 * 60 * 1000;

const ReadMarkView = z
  .object({
    thread_id: z.string(),
    read_up_to: timestamp()
      .nullable()
      .meta({ description: 'The mark handed to the actors; null when the thread has no inbound message to mark (nothing was written).' }),
  })
  .meta({ id: 'ThreadReadMark' });

const bool = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true');

const threadParam = z.object({ id: z.string().min(1).max(256).meta({ description: 'Thread id (thr_...), current or former.' }) });

export function threadRoutes(deps: ThreadRouteDeps): Route[] {
  /** The thread `id` names (its own id or a former one) within the caller's WABAs, or EC_NOT_FOUND. */
  const threadOf = async (wabaIds: readonly string[], id: string): Promise<ThreadDoc> => {
    const thread = await deps.threads.get(wabaIds, id);
    if (!thread) throw new AppError('EC_NOT_FOUND', `no thread ${id}`);
    return thread;
  };
  return [
    defineRoute({
      method: 'get',
      path: '/api/thread/list',
      operationId: 'listThreads',
      tag: 'threads',
      summary: 'List conversation threads',
      description:
        'Newest message first; with `updated_since`, only threads changed since, oldest change first. Poll every 30-60 s with `updated_since` and `If-None-Match`.',
      access: 'api_key',
      query: z.strictObject({
        ...pageQuery,
        unread: bool.optional().meta({ description: 'true: only threads with unread messages; false: only read ones.' }),
        phone_number_id: z.string().min(1).optional().meta({ description: 'Only threads of this business phone number.' }),
      }),
      response: listOf(Thread),
      errors: [400],
      handle: ({ query, caller }) =>
        pollList<ThreadDoc, 'recent', ReturnType<typeof threadView>>({
          op: 'listThreads',
          scope: { account: caller.accountId, unread: query.unread ?? null, phone: query.phone_number_id ?? null },
          page: query,
          orders: THREAD_ORDERS,
          defaultOrder: 'recent',
          fetch: (order, updatedSince, after, limit) =>
            deps.threads.list(
              { wabaIds: caller.wabaIds, unread: query.unread, phoneNumberId: query.phone_number_id, updatedSince },
              order,
              after,
              limit,
            ),
          view: threadView,
          now: deps.clock.now(),
          settleMs: deps.settleMs,
        }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/thread/{id}',
      operationId: 'getThread',
      tag: 'threads',
      summary: 'One thread',
      description: 'A former id (a thread merged into this one) answers with this thread; its `id` is the one to keep.',
      access: 'api_key',
      params: threadParam,
      response: Thread,
      errors: [404],
      handle: async ({ params, caller }) => threadView(await threadOf(caller.wabaIds, params.id)),
    }),
    defineRoute({
      method: 'post',
      path: '/api/thread/{id}/read',
      operationId: 'markThreadRead',
      tag: 'threads',
      summary: 'Mark a thread read up to a time',
      description:
        'Every inbound message with a Meta timestamp at or before `up_to` (default: the newest inbound message) becomes read. Accepted (202) once the mark is on Kafka; the actors apply it within moments, and `unread_count`, `unread_capped` and `read_up_to` then show it. A mark never moves back: an earlier one changes nothing. Idempotent.',
      access: 'api_key',
      params: threadParam,
      body: z.strictObject({
        up_to: z.iso
          .datetime({ offset: true, error: 'must be an ISO 8601 date-time' })
          .optional()
          .meta({ description: 'Defaults to the newest inbound message of the thread.' }),
      }),
      status: 202,
      response: ReadMarkView,
      errors: [400, 404],
      handle: async ({ params, body, caller }) => {
        const thread = await threadOf(caller.wabaIds, params.id);
        const now = deps.clock.now();
        const upTo = body.up_to !== undefined ? new Date(body.up_to) : thread.last_inbound_at;
        if (upTo !== null && upTo.getTime() > now.getTime() + MARK_AHEAD_MS) {
          throw new AppError('EC_BAD_REQUEST', 'up_to is in the future: it would mark read messages not received yet', {
            details: { parameter: 'up_to', in: 'body' },
          });
        }
        if (upTo !== null)
          await deps.markRead({ wabaId: thread.waba_id, accountId: caller.accountId, threadId: thread._id, upTo, at: now });
        return { thread_id: thread._id, read_up_to: upTo?.toISOString() ?? null };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/thread/{id}/messages',
      operationId: 'listThreadMessages',
      tag: 'threads',
      summary: "List a thread's messages",
      description:
        'Oldest first (Meta timestamp), including opt-out entries; with `updated_since`, only messages changed since, oldest change first.',
      access: 'api_key',
      params: threadParam,
      query: z.strictObject(pageQuery),
      response: listOf(Message),
      errors: [400, 404],
      handle: async ({ query, params, caller }) => {
        const thread = await threadOf(caller.wabaIds, params.id);
        return pollList<MessageDoc, 'chronological', ReturnType<typeof messageView>>({
          op: 'listThreadMessages',
          scope: { thread: thread._id },
          page: query,
          orders: MESSAGE_ORDERS,
          defaultOrder: 'chronological',
          fetch: (order, updatedSince, after, limit) => deps.messages.listForThread(thread._id, updatedSince, order, after, limit),
          view: messageView,
          now: deps.clock.now(),
          settleMs: deps.settleMs,
        });
      },
    }),
  ];
}
