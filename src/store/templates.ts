// Reads of ec_template for the REST API.
import { type Db, type Document } from 'mongodb';
import { COLLECTIONS } from './collections.ts';
import { templateDocId } from './doc-ids.ts';
import { type TemplateDoc } from './docs.ts';
import { findPage, type Page, type SortSpec } from './page.ts';
import { firstById } from './scope.ts';

export const TEMPLATE_ORDERS = {
  /** By name and language (both fixed for a template's life). */
  name: [
    { field: 'name', dir: 1 },
    { field: 'language', dir: 1 },
    { field: '_id', dir: 1 },
  ],
  changes: [
    { field: 'changed_at', dir: 1 },
    { field: '_id', dir: 1 },
  ],
} as const satisfies Record<string, SortSpec>;

export type TemplateFilter = Readonly<{
  wabaIds: readonly string[];
  status?: string | undefined;
  qualityRating?: string | undefined;
  updatedSince?: Date | null | undefined;
}>;

export function createTemplateReads(db: Db) {
  const templates = db.collection<TemplateDoc>(COLLECTIONS.template);
  return {
    async list(
      f: TemplateFilter,
      order: keyof typeof TEMPLATE_ORDERS,
      after: readonly unknown[] | null,
      limit: number,
    ): Promise<Page<TemplateDoc>> {
      if (f.wabaIds.length === 0) return { items: [], more: false };
      const filter: Document = { waba_id: { $in: [...f.wabaIds] } };
      if (f.status !== undefined) filter['whatsapp_status'] = f.status;
      if (f.qualityRating !== undefined) filter['whatsapp_quality_rating'] = f.qualityRating;
      if (f.updatedSince) filter['changed_at'] = { $gte: f.updatedSince };
      return findPage(templates, { filter, sort: TEMPLATE_ORDERS[order], after, limit });
    },
    /** A WABA's template by name and language (what a send names it by); the newest changed when Meta has several. */
    async byNameLanguage(wabaId: string, name: string, language: string): Promise<TemplateDoc | null> {
      const found = await templates.find({ waba_id: wabaId, name, language }).sort({ changed_at: -1, _id: 1 }).limit(1).toArray();
      return found[0] ?? null;
    },
    /** By EchoCue id (tpl_...) or by Meta's template id. */
    byIdOrMetaId(wabaIds: readonly string[], id: string): Promise<TemplateDoc | null> {
      const ids = id.startsWith('tpl_') ? [id] : wabaIds.map((w) => templateDocId(w, id));
      return firstById(templates, ids, wabaIds);
    },
  };
}

export type TemplateReads = ReturnType<typeof createTemplateReads>;
