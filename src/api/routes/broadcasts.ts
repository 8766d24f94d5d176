// Broadcasts: create one from an approved template (to a list of wa_ids or a saved audience), save audiences, and
// read a broadcast's counts and recipients a page at a time.
import { z } from 'zod';
import { type Clock } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { type AudienceStore } from '../../store/audiences.ts';
import { type BroadcastDoc, type BroadcastStore } from '../../store/broadcasts.ts';
import { type BroadcastRecipientDoc, type MessageDoc } from '../../store/docs.ts';
import { type BroadcastRequest } from '../../sending/broadcast.ts';
import { listPage, pageQuery } from '../list.ts';
import { defineRoute, type Route } from '../route.ts';
import { idempotencyKeyHeader, TemplateRef } from './sending.ts';
import { Counts, Recipient, recipientView } from '../../views/broadcast.ts';
import { isoOrNull, timestamp } from '../../views/common.ts';

type Row = { recipient: BroadcastRecipientDoc; message: MessageDoc | null };

export type BroadcastRouteDeps = Readonly<{
  broadcasts: BroadcastStore;
  audiences: AudienceStore;
  createBroadcast: (req: BroadcastRequest) => Promise<BroadcastDoc>;
  clock: Clock;
  settleMs: number;
}>;

/** At most this many recipients per broadcast or audience (one request body, one audience document). */
export const MAX_RECIPIENTS = 10_000;

const waIds = z
  .array(z.string().regex(/^\d{6,15}$/, 'must be a wa_id (6 to 15 digits)'))
  .min(1)
  .max(MAX_RECIPIENTS)
  .transform((ids) => [...new Set(ids)]);

const BroadcastFields = {
  id: z.string(),
  state: z.enum(['sending', 'done', 'stopped']).nullable().meta({
    description:
      'sending: recipients still pending; done: none pending; stopped: see stopped_reason. null for a broadcast recorded outside EchoCue.',
  }),
  stopped_reason: z.string().nullable().meta({ description: 'template_paused, template_disabled, number_not_connected, ...' }),
  phone_number_id: z.string().nullable(),
  template: z.object({ name: z.string(), language: z.string(), category: z.string().nullable() }).nullable(),
  created_at: timestamp().nullable(),
  counts: Counts,
};

const BroadcastPage = z
  .object({
    ...BroadcastFields,
    data: z.array(Recipient).meta({ description: 'Recipients, by id; page through them with `cursor`.' }),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'Broadcast' });

const Audience = z.object({ id: z.string(), name: z.string(), size: z.number().int(), created_at: timestamp() }).meta({ id: 'Audience' });

export function broadcastRoutes(deps: BroadcastRouteDeps): Route[] {
  const summaryOf = async (wabaIds: readonly string[], id: string, b: BroadcastDoc | null) => {
    const [counts, unsent] = await Promise.all([deps.broadcasts.counts(wabaIds, id), b ? deps.broadcasts.hasUnsent(id) : false]);
    return {
      id,
      state: b ? (b.stopped && !unsent ? 'stopped' : unsent ? 'sending' : 'done') : null,
      stopped_reason: b?.stopped?.reason ?? null,
      phone_number_id: b?.phone_number_id ?? null,
      template: b ? { name: b.template.name, language: b.template.language, category: b.template.category } : null,
      created_at: isoOrNull(b?.created_at),
      counts,
    } as const;
  };
  return [
    defineRoute({
      method: 'post',
      path: '/api/broadcasts',
      operationId: 'createBroadcast',
      tag: 'broadcasts',
      summary: 'Broadcast an approved template from a connected number to a list of contacts or a saved audience',
      description:
        "Recipients who opted out of everything on any of the account's numbers, or of marketing for a marketing template, are recorded as skipped with the reason and never sent. The others are sent by a Kafka-driven job, throttled per phone number (BROADCAST_MESSAGES_PER_SECOND), backing off on Meta's rate limits, each at most once, checking consent and the template again before each send: a template paused or disabled mid-broadcast stops it (the rest are skipped as such), a STOP mid-broadcast skips that contact. Accepted (202) once every recipient is recorded and queued; a retry with the same Idempotency-Key answers the same broadcast. Follow it with GET /api/broadcast/{id}.",
      access: 'api_key',
      headers: idempotencyKeyHeader('broadcast'),
      body: z.strictObject({
        phone_number_id: z.string().regex(/^\d{5,20}$/, 'must be a phone number id (5 to 20 digits)'),
        template: TemplateRef,
        recipients: waIds.optional().meta({ description: `wa_ids (at most ${MAX_RECIPIENTS}); or audience_id.` }),
        audience_id: z.string().min(1).max(64).optional(),
      }),
      status: 202,
      response: BroadcastPage.omit({ data: true, next_cursor: true }).meta({ id: 'BroadcastCreated' }),
      errors: [400, 404, 409, 422],
      handle: async ({ body, headers, caller }) => {
        if ((body.recipients === undefined) === (body.audience_id === undefined))
          throw new AppError('EC_BAD_REQUEST', 'body field "recipients" or "audience_id" is required (one of them, not both)', {
            details: { parameter: 'recipients', in: 'body' },
          });
        let list = body.recipients;
        if (body.audience_id !== undefined) {
          const audience = await deps.audiences.get(caller.accountId, body.audience_id);
          if (!audience) throw new AppError('EC_NOT_FOUND', `no audience ${body.audience_id}`);
          list = audience.wa_ids;
        }
        const b = await deps.createBroadcast({
          accountId: caller.accountId,
          wabaIds: caller.wabaIds,
          key: headers['idempotency-key'],
          phoneNumberId: body.phone_number_id,
          template: body.template,
          waIds: list!,
        });
        return summaryOf(caller.wabaIds, b._id, b);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/audiences',
      operationId: 'createAudience',
      tag: 'broadcasts',
      summary: 'Save a list of contacts (wa_ids) to broadcast to',
      access: 'api_key',
      body: z.strictObject({ name: z.string().trim().min(1).max(200), wa_ids: waIds }),
      status: 201,
      response: Audience,
      errors: [400],
      handle: async ({ body, caller }) => {
        const a = await deps.audiences.create(caller.accountId, body.name, body.wa_ids, deps.clock.now());
        return { id: a._id, name: a.name, size: a.wa_ids.length, created_at: a.created_at.toISOString() };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/broadcast/{id}',
      operationId: 'getBroadcast',
      tag: 'broadcasts',
      summary: 'A broadcast: recipients with pending / sent / delivered / read / failed / skipped counts',
      description: 'Counts come from the status webhooks of each message sent; recipients are read a page at a time (`limit`, `cursor`).',
      access: 'api_key',
      params: z.object({ id: z.string().min(1).max(256) }),
      query: z.strictObject({ limit: pageQuery.limit, cursor: pageQuery.cursor }),
      response: BroadcastPage,
      errors: [400, 404],
      handle: async ({ params, query, caller }) => {
        const b = await deps.broadcasts.getBroadcast(caller.accountId, params.id);
        const summary = await summaryOf(caller.wabaIds, params.id, b);
        if (!b && summary.counts.total === 0) throw new AppError('EC_NOT_FOUND', `no broadcast ${params.id}`);
        const page = await listPage<Row>({
          query: { op: 'getBroadcast', broadcast: params.id, account: caller.accountId },
          cursor: query.cursor,
          limit: query.limit,
          updatedSince: null,
          now: deps.clock.now(),
          settleMs: deps.settleMs,
          keyOf: (r) => [r.recipient._id],
          keyLength: 1,
          fetch: (after, limit) => deps.broadcasts.page(caller.wabaIds, params.id, after === null ? null : String(after[0]), limit),
        });
        return { ...summary, data: page.items.map((r) => recipientView(r.recipient, r.message)), next_cursor: page.next_cursor };
      },
    }),
  ];
}
