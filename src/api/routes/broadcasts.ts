// A broadcast's recipients and their delivery counts (the broadcast detail view).
import { z } from 'zod';
import { type Clock } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { type BroadcastStore } from '../../store/broadcasts.ts';
import { type BroadcastRecipientDoc, type MessageDoc } from '../../store/docs.ts';
import { listPage, pageQuery } from '../list.ts';
import { defineRoute, type Route } from '../route.ts';
import { Counts, countStates, Recipient, recipientState, recipientView } from '../../views/broadcast.ts';

type Row = { recipient: BroadcastRecipientDoc; message: MessageDoc | null };

export type BroadcastRouteDeps = Readonly<{ broadcasts: BroadcastStore; clock: Clock; settleMs: number }>;

const BroadcastPage = z
  .object({
    id: z.string(),
    counts: Counts,
    data: z.array(Recipient).meta({ description: 'Recipients, by id; page through them with `cursor`.' }),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'Broadcast' });

export function broadcastRoutes(deps: BroadcastRouteDeps): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/broadcast/{id}',
      operationId: 'getBroadcast',
      tag: 'broadcasts',
      summary: 'A broadcast: recipients with pending / sent / delivered / read / failed / skipped counts',
      access: 'api_key',
      params: z.object({ id: z.string().min(1).max(256) }),
      query: z.strictObject({ limit: pageQuery.limit, cursor: pageQuery.cursor }),
      response: BroadcastPage,
      errors: [400, 404],
      handle: async ({ params, query, caller }) => {
        const rows = await deps.broadcasts.recipientsWithMessages(caller.wabaIds, params.id);
        if (rows.length === 0) throw new AppError('EC_NOT_FOUND', `no broadcast ${params.id}`);
        const page = await listPage<Row>({
          query: { op: 'getBroadcast', broadcast: params.id, account: caller.accountId },
          cursor: query.cursor,
          limit: query.limit,
          updatedSince: null,
          now: deps.clock.now(),
          settleMs: deps.settleMs,
          keyOf: (r) => [r.recipient._id],
          keyLength: 1,
          fetch: async (after, limit) => {
            const rest = after === null ? rows : rows.filter((r) => r.recipient._id > String(after[0]));
            return { items: rest.slice(0, limit), more: rest.length > limit };
          },
        });
        return {
          id: params.id,
          counts: countStates(rows.map((r) => recipientState(r.recipient, r.message))),
          data: page.items.map((r) => recipientView(r.recipient, r.message)),
          next_cursor: page.next_cursor,
        };
      },
    }),
  ];
}
