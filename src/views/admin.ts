import { z } from 'zod';
import { type AccountDoc, type ApiKeyDoc, type NewApiKey, type WabaDoc } from '../store/accounts.ts';
import { timestamp } from './common.ts';

export const Account = z
  .object({ id: z.string(), name: z.string(), created_at: timestamp(), waba_ids: z.array(z.string()) })
  .meta({ id: 'Account' });
export const accountView = (a: AccountDoc, wabaIds: readonly string[]): z.input<typeof Account> => ({
  id: a._id,
  name: a.name,
  created_at: a.created_at.toISOString(),
  waba_ids: [...wabaIds],
});

export const WabaLink = z.object({ waba_id: z.string(), account_id: z.string(), linked_at: timestamp() }).meta({ id: 'WabaLink' });
export const wabaLinkView = (w: WabaDoc): z.input<typeof WabaLink> => ({
  waba_id: w._id,
  account_id: w.account_id,
  linked_at: w.linked_at.toISOString(),
});

export const ApiKey = z
  .object({ id: z.string(), account_id: z.string(), prefix: z.string(), created_at: timestamp(), revoked_at: timestamp().nullable() })
  .meta({ id: 'ApiKey', description: 'A key as listed: never the key itself or its secret.' });
export const keySummary = (k: ApiKeyDoc): z.input<typeof ApiKey> => ({
  id: k._id,
  account_id: k.account_id,
  prefix: k.prefix,
  created_at: k.created_at.toISOString(),
  revoked_at: k.revoked_at?.toISOString() ?? null,
});

export const NewKey = z
  .object({
    id: z.string(),
    account_id: z.string(),
    prefix: z.string(),
    created_at: timestamp(),
    key: z.string().meta({ description: 'The API key: shown once, store it now (EchoCue keeps only its hash).' }),
    signing_secret: z.string().meta({ description: 'Signs outbound webhooks to you (X-EchoCue-Signature); stored encrypted.' }),
  })
  .meta({ id: 'NewApiKey' });
export const newKeyView = (k: NewApiKey): z.input<typeof NewKey> => ({
  id: k.id,
  account_id: k.account_id,
  prefix: k.prefix,
  created_at: k.created_at.toISOString(),
  key: k.key,
  signing_secret: k.signing_secret,
});
