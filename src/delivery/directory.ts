// Endpoints and signing secrets for the delivery side. Endpoints come from memory for DELIVERY_CACHE_TTL_MS, the
// misses of a batch loaded in one query; only enabled ones are kept, so a disabled or deleted endpoint stops
// deliveries within the TTL, and whatever would fail a delivery (disabled, deleted) is read fresh first:
// re-enabling works at once. Secrets are read once per batch and key (the keys of a batch side by side), not kept
// across batches: a rotated secret signs from the next batch on, as the API promises ("deliveries from now on"),
// and a revoked key stops at the next batch. A batch usually has a handful of keys, so that is a round trip or so.
import { type Clock } from '../core/clock.ts';
import { type AccountStore } from '../store/accounts.ts';
import { type EndpointDoc, type WebhookStore } from '../store/webhooks.ts';
import { createTtlCache } from './ttl-cache.ts';

export type Directory = {
  endpoints(ids: Iterable<string>): Promise<Map<string, EndpointDoc>>;
  /** Live keys' secrets, read now; a revoked or unknown key is absent. */
  secrets(keyIds: Iterable<string>): Promise<Map<string, string>>;
  /** Forget an endpoint (this process just changed it, e.g. disabled it). */
  forget(endpointId: string): void;
};

export function createDirectory(deps: {
  webhooks: Pick<WebhookStore, 'endpointsByIds'>;
  accounts: Pick<AccountStore, 'liveSigningSecret'>;
  ttlMs: number;
  /** Default the system clock. */
  clock?: Clock;
}): Directory {
  const endpoints = createTtlCache<EndpointDoc>({ ttlMs: deps.ttlMs, clock: deps.clock, keep: (e) => e.enabled, maxEntries: 50_000 });
  const secrets = createTtlCache<string>({ ttlMs: 0, clock: deps.clock }); // per call only: see above
  return {
    endpoints: (ids) => endpoints.getMany(ids, (missing) => deps.webhooks.endpointsByIds(missing)),
    secrets: (keyIds) =>
      secrets.getMany(keyIds, async (missing) => {
        const found = await Promise.all(missing.map(async (id) => [id, await deps.accounts.liveSigningSecret(id)] as const));
        return new Map(found.filter((e): e is readonly [string, string] => e[1] !== null));
      }),
    forget: (id) => endpoints.delete(id),
  };
}
