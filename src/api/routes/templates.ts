// Message templates: status, quality and category as Meta last reported them.
import { z } from 'zod';
import { type Clock } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { type TemplateDoc } from '../../store/docs.ts';
import { TEMPLATE_ORDERS, type TemplateReads } from '../../store/templates.ts';
import { listOf, pageQuery, pollList } from '../list.ts';
import { defineRoute, type Route } from '../route.ts';
import { Template, TEMPLATE_STATUSES, templateView } from '../../views/template.ts';

export type TemplateRouteDeps = Readonly<{ templates: TemplateReads; clock: Clock; settleMs: number }>;

export function templateRoutes(deps: TemplateRouteDeps): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/template/list',
      operationId: 'listTemplates',
      tag: 'templates',
      summary: 'List message templates',
      description: 'By name and language; with `updated_since`, only templates changed since, oldest change first. Poll every 5-10 min.',
      access: 'api_key',
      query: z.strictObject({
        ...pageQuery,
        status: z.enum(TEMPLATE_STATUSES).optional().meta({ description: 'Only templates in this whatsapp_status.' }),
        quality: z
          .enum(['GREEN', 'YELLOW', 'RED', 'UNKNOWN'])
          .optional()
          .meta({ description: 'Only templates with this whatsapp_quality_rating.' }),
      }),
      response: listOf(Template),
      errors: [400],
      handle: ({ query, caller }) =>
        pollList<TemplateDoc, 'name', ReturnType<typeof templateView>>({
          op: 'listTemplates',
          scope: { account: caller.accountId, status: query.status ?? null, quality: query.quality ?? null },
          page: query,
          orders: TEMPLATE_ORDERS,
          defaultOrder: 'name',
          fetch: (order, updatedSince, after, limit) =>
            deps.templates.list(
              { wabaIds: caller.wabaIds, status: query.status, qualityRating: query.quality, updatedSince },
              order,
              after,
              limit,
            ),
          view: templateView,
          now: deps.clock.now(),
          settleMs: deps.settleMs,
        }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/template/{id}',
      operationId: 'getTemplate',
      tag: 'templates',
      summary: 'One template: whatsapp_status, whatsapp_quality_rating, category',
      access: 'api_key',
      params: z.object({ id: z.string().min(1).max(256).meta({ description: "EchoCue template id (tpl_...) or Meta's template id." }) }),
      response: Template,
      errors: [404],
      handle: async ({ params, caller }) => {
        const t = await deps.templates.byIdOrMetaId(caller.wabaIds, params.id);
        if (!t) throw new AppError('EC_NOT_FOUND', `no template ${params.id}`);
        return templateView(t);
      },
    }),
  ];
}
