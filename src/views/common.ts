// Shared pieces of the response schemas. Timestamps are ISO 8601 UTC strings; absent values are null, never
// missing, so a poller's parser sees one shape.
import { z } from 'zod';
import { type MetaErrorDoc, type PricingDoc } from '../store/docs.ts';

export const isoOrNull = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
export const timestamp = () => z.iso.datetime();

export const MetaError = z
  .object({
    code: z.union([z.number(), z.string()]).nullable(),
    title: z.string().nullable(),
    message: z.string().nullable(),
    details: z.string().nullable(),
    href: z.string().nullable(),
  })
  .meta({ id: 'MetaError', description: 'An error as Meta reported it (e.g. code 131026: message undeliverable).' });

export const Pricing = z
  .object({
    billable: z.boolean().nullable(),
    pricing_model: z.string().nullable(),
    type: z.string().nullable(),
    category: z.string().nullable(),
  })
  .meta({ id: 'Pricing' });

export const metaErrorView = (e: MetaErrorDoc) => ({ code: e.code, title: e.title, message: e.message, details: e.details, href: e.href });
export const pricingView = (p: PricingDoc | null) =>
  p ? { billable: p.billable, pricing_model: p.pricing_model, type: p.type, category: p.category } : null;

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable error code, e.g. EC_NOT_FOUND (README: "Error codes").' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error' });
