// Outbound webhooks: customers' endpoints (owned by an API key, whose signing secret signs their deliveries) and
// deliveries with every attempt. A delivery's attempts are written by one delivery worker at a time (its record
// moves through the tier topics one at a time); a replay starts a new round only once the last one ended.
import { type Db, type Document } from 'mongodb';
import { AppError } from '../core/errors.ts';
import { deterministicId, randomId } from '../core/ids.ts';
import { COLLECTIONS, isDuplicateKey } from './collections.ts';
import { findPage, type Page, type SortSpec } from './page.ts';

export type EndpointDoc = {
  _id: string;
  account_id: string;
  key_id: string;
  url: string;
  categories: string[];
  enabled: boolean;
  disabled_at: Date | null;
  disabled_reason: string | null;
  /** Start of the current run of failed attempts; null after a success. */
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
};

export type AttemptDoc = {
  round: number;
  n: number;
  at: Date;
  /** in_flight: sent (or about to be) and no outcome recorded yet; after a crash its outcome is unknown. */
  outcome: 'in_flight' | 'success' | 'failure';
  status_code: number | null;
  latency_ms: number | null;
  error: string | null;
  error_code: string | null;
  response_body: string | null;
  /** The receiver's Retry-After (429/503), which can push the next attempt later. */
  retry_after_ms: number | null;
};

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export type DeliveryDoc = {
  _id: string;
  endpoint_id: string;
  key_id: string;
  account_id: string;
  /** The envelope id (same for every endpoint and every replay of this event). */
  event_id: string;
  category: string;
  /** The exact body sent. */
  body: string;
  status: DeliveryStatus;
  round: number;
  attempts: AttemptDoc[];
  next_attempt_at: Date | null;
  /** The attempt of this round last put on a tier topic: a repeated record does not queue its successor twice. */
  queued_attempt: number | null;
  delivered_at: Date | null;
  failed_at: Date | null;
  failure_reason: string | null;
  created_at: Date;
  changed_at: Date;
};

export const DELIVERY_ORDER: SortSpec = [{ field: 'created_at', dir: -1 }, { field: '_id', dir: 1 }];

export const deliveryIdOf = (endpointId: string, eventId: string): string => deterministicId('dlv', endpointId, eventId);

export function createWebhookStore(db: Db) {
  const endpoints = db.collection<EndpointDoc>(COLLECTIONS.endpoint);
  const deliveries = db.collection<DeliveryDoc>(COLLECTIONS.delivery);

  async function endpointOf(keyId: string, id: string): Promise<EndpointDoc> {
    const doc = await endpoints.findOne({ _id: id });
    if (!doc || doc.key_id !== keyId) throw new AppError('EC_NOT_FOUND', `no endpoint ${id}`);
    return doc;
  }

  return {
    async createEndpoint(e: { accountId: string; keyId: string; url: string; categories: readonly string[] }, now: Date): Promise<EndpointDoc> {
      const doc: EndpointDoc = {
        _id: randomId('ep'), account_id: e.accountId, key_id: e.keyId, url: e.url, categories: [...e.categories],
        enabled: true, disabled_at: null, disabled_reason: null, failing_since: null, created_at: now, updated_at: now,
      };
      await endpoints.insertOne(doc);
      return doc;
    },
    listEndpoints(keyId: string): Promise<EndpointDoc[]> {
      return endpoints.find({ key_id: keyId }).sort({ created_at: 1, _id: 1 }).toArray();
    },
    endpointOf,
    /** The endpoint whatever its owner (delivery side). */
    endpoint(id: string): Promise<EndpointDoc | null> {
      return endpoints.findOne({ _id: id });
    },
    // Field updates, not replaces: the delivery worker sets failing_since / enabled on the same documents.
    async updateEndpoint(keyId: string, id: string, change: { url?: string; categories?: readonly string[] }, now: Date): Promise<EndpointDoc> {
      await endpointOf(keyId, id);
      await endpoints.updateOne({ _id: id }, { $set: { ...(change.url ? { url: change.url } : {}), ...(change.categories ? { categories: [...change.categories] } : {}), updated_at: now } });
      return endpointOf(keyId, id);
    },
    async deleteEndpoint(keyId: string, id: string): Promise<void> {
      await endpointOf(keyId, id);
      await endpoints.deleteOne({ _id: id });
    },
    /** Re-enables a disabled endpoint: its failure streak starts over. */
    async enableEndpoint(keyId: string, id: string, now: Date): Promise<EndpointDoc> {
      await endpointOf(keyId, id);
      await endpoints.updateOne({ _id: id }, { $set: { enabled: true, disabled_at: null, disabled_reason: null, failing_since: null, updated_at: now } });
      return endpointOf(keyId, id);
    },
    /** Enabled endpoints of an account subscribed to a category. */
    subscribed(accountId: string, category: string): Promise<EndpointDoc[]> {
      return endpoints.find({ account_id: accountId, enabled: true, categories: category }).toArray();
    },
    /** After a failed attempt: starts the failure streak, and disables the endpoint once it lasted `disableAfterMs`. */
    async noteFailure(id: string, now: Date, disableAfterMs: number): Promise<EndpointDoc | null> {
      await endpoints.updateOne({ _id: id, failing_since: null }, { $set: { failing_since: now } });
      const doc = await endpoints.findOne({ _id: id });
      if (doc && doc.enabled && doc.failing_since && now.getTime() - doc.failing_since.getTime() >= disableAfterMs) {
        const reason = `every attempt failed since ${doc.failing_since.toISOString()}`;
        await endpoints.updateOne({ _id: id, enabled: true }, { $set: { enabled: false, disabled_at: now, disabled_reason: reason, updated_at: now } });
        return { ...doc, enabled: false, disabled_at: now, disabled_reason: reason };
      }
      return doc;
    },
    async noteSuccess(id: string): Promise<void> {
      await endpoints.updateOne({ _id: id, failing_since: { $ne: null } }, { $set: { failing_since: null } });
    },

    /** A new delivery; false when it exists already (the same event planned again after a crash). */
    async insertDelivery(doc: DeliveryDoc): Promise<boolean> {
      try {
        await deliveries.insertOne(doc);
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    },
    delivery(id: string): Promise<DeliveryDoc | null> {
      return deliveries.findOne({ _id: id });
    },
    /** Writes a delivery back, only if no replay started another round meanwhile. */
    async saveDelivery(doc: DeliveryDoc): Promise<boolean> {
      const res = await deliveries.replaceOne({ _id: doc._id, round: doc.round }, doc);
      return res.matchedCount === 1;
    },
    listDeliveries(endpointId: string, status: DeliveryStatus | undefined, after: readonly unknown[] | null, limit: number): Promise<Page<DeliveryDoc>> {
      const filter: Document = { endpoint_id: endpointId };
      if (status) filter['status'] = status;
      return findPage(deliveries, { filter, sort: DELIVERY_ORDER, after, limit });
    },
    /** Starts a new round of a failed delivery, or returns a pending round that never got its first attempt (its
     *  queueing failed: the caller queues it again). Null when it is delivered or its round is under way. */
    async startRound(id: string, now: Date): Promise<DeliveryDoc | null> {
      const doc = await deliveries.findOne({ _id: id });
      if (!doc) return null;
      if (doc.status === 'pending' && !doc.attempts.some((a) => a.round === doc.round)) return doc;
      if (doc.status !== 'failed') return null;
      const next: DeliveryDoc = {
        ...doc, status: 'pending', round: doc.round + 1, next_attempt_at: now, queued_attempt: 1, failed_at: null, failure_reason: null, changed_at: now,
      };
      const res = await deliveries.replaceOne({ _id: id, round: doc.round, status: 'failed' }, next);
      return res.matchedCount === 1 ? next : null;
    },
    failedSince(endpointId: string, since: Date): Promise<DeliveryDoc[]> {
      return deliveries.find({ endpoint_id: endpointId, status: 'failed', created_at: { $gte: since } }).sort({ created_at: 1, _id: 1 }).toArray();
    },
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;
