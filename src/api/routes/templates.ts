// Message templates: status, quality and category as Meta last reported them.
import { z } from 'zod';
import { type Clock } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { type TemplateDoc } from '../../store/docs.ts';
import { sortKeyOf } from '../../store/page.ts';
import { TEMPLATE_ORDERS, type TemplateReads } from '../../store/templates.ts';
import { listOf, listPage, pageQuery } from '../list.ts';
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
        quality: z.enum(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']).optional().meta({ description: 'Only templates with this whatsapp_quality_rating.' }),
      }),
      response: listOf(Template),
      errors: [400],
      handle: async ({ query, caller }) => {
        const updatedSince = query.updated_since ? new Date(query.updated_since) : null;
        const order = updatedSince ? 'changes' : 'name';
        const filter = { wabaIds: caller.wabaIds, status: query.status, qualityRating: query.quality, updatedSince };
        const page = await listPage<TemplateDoc>({
          query: { op: 'listTemplates', account: caller.accountId, order, status: query.status ?? null, quality: query.quality ?? null, since: query.updated_since ?? null },
          cursor: query.cursor,
          limit: query.limit,
          updatedSince,
          now: deps.clock.now(),
          settleMs: deps.settleMs,
          keyOf: (t) => sortKeyOf(t, TEMPLATE_ORDERS[order]),
          keyLength: TEMPLATE_ORDERS[order].length,
          fetch: (after, limit) => deps.templates.list(filter, order, after, limit),
        });
        return { data: page.items.map(templateView), next_cursor: page.next_cursor, next_updated_since: page.next_updated_since };
      },
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
