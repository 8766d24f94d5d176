// Outbound webhooks: customers' endpoints (owned by an API key, whose signing secret signs their deliveries) and
// deliveries with every attempt. A delivery's attempts are written by one delivery worker at a time (its record
// moves through the tier topics one at a time); a replay starts a new round only once the last one ended.
// The delivery side writes in bulk: new deliveries in one insertMany per planner batch, the outcomes of a worker
// batch in one bulkWrite of per-delivery updates, each filtered by round, status and the attempt it answers
// (docs/decisions/0010-delivery-round-trips.md).
import { type Db, type Document } from 'mongodb';
import { AppError } from '../core/errors.ts';
import { type Sealed, type SecretBox } from '../core/secret-box.ts';
import { randomBytes } from 'node:crypto';
import { deterministicId, randomId } from '../core/ids.ts';
import { chunk, inLanes } from '../core/lanes.ts';
import { COLLECTIONS, isDuplicateKey } from './collections.ts';
import { findPage, type Page, type SortSpec } from './page.ts';

export type EndpointDoc = {
  _id: string;
  account_id: string;
  key_id: string;
  url: string;
  categories: string[];
  /** Event types with their payload version and filter (src/delivery/subscriptions.ts); `categories` lists their
   *  types (what the planner's query matches). Absent on endpoints created before: every event of `categories`, v1. */
  subscriptions?: SubscriptionDoc[];
  enabled: boolean;
  disabled_at: Date | null;
  disabled_reason: string | null;
  /** Start of the current run of failed attempts; null after a success. */
  failing_since: Date | null;
  /** At most this many attempts per second to the endpoint, across every delivery process; absent or null: no limit. */
  rate_limit_per_second?: number | null;
  /** A `failing` notice was written for the current run (a success then writes `recovered`); absent means false. */
  failing_noticed?: boolean;
  /** The Standard Webhooks secrets (whsec_, sealed), newest first: the current one (expires_at null) and those a
   *  rotation keeps signing until expires_at. Absent on endpoints created before Standard Webhooks signing: they get
   *  one when it is first revealed or rotated. */
  signing_keys?: SigningKeyDoc[];
  created_at: Date;
  updated_at: Date;
};

/** An event type subscribed to, in one payload version, optionally filtered (src/delivery/subscriptions.ts). */
export type SubscriptionDoc = Readonly<{
  type: string;
  version: number;
  filter: Readonly<{ statuses?: readonly string[]; template_events?: readonly string[]; phone_number_ids?: readonly string[] }> | null;
}>;

/** An endpoint's subscriptions; one created before subscriptions existed takes every event of its categories, v1. */
export const subscriptionsOf = (e: Pick<EndpointDoc, 'categories' | 'subscriptions'>): readonly SubscriptionDoc[] =>
  e.subscriptions ?? e.categories.map((type) => ({ type, version: 1, filter: null }));

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes (the spec asks for 24 to 64). */
export const newEndpointSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export type SigningKeyDoc = { id: string; secret: Sealed; created_at: Date; expires_at: Date | null };

/** The most secrets an endpoint keeps signing with after rotations (the current one aside): Svix's limit. */
export const MAX_OLD_SIGNING_KEYS = 10;
/** How long a rotated-out secret may keep signing, at most: 7 days (Svix's limit too). */
export const MAX_SECRET_OVERLAP_MS = 7 * 24 * 3600 * 1000;

export type AttemptDoc = {
  round: number;
  n: number;
  at: Date;
  /** in_flight: only in documents written before 0010 (sent, outcome unknown); the worker no longer writes it. */
  outcome: 'in_flight' | 'success' | 'failure';
  status_code: number | null;
  latency_ms: number | null;
  error: string | null;
  error_code: string | null;
  response_body: string | null;
  /** The receiver's Retry-After (429/503), which can push the next attempt later. */
  retry_after_ms: number | null;
  /** The headers EchoCue sent (signatures included: they are not secrets); absent in attempts stored before. */
  request_headers?: Record<string, string>;
  /** Its webhook-delivery answer header (abort-message, disable); absent in attempts stored before it was read. */
  directive?: 'abort-message' | 'disable' | null;
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
  /** The tier topic of that attempt's record (absent in documents written before 0010). */
  queued_tier?: number | null;
  delivered_at: Date | null;
  failed_at: Date | null;
  failure_reason: string | null;
  created_at: Date;
  changed_at: Date;
};

/** One delivery's outcome of a worker batch: applied only while the delivery still waits for `attempt` of `round`. */
export type DeliveryUpdate = Readonly<{
  id: string;
  round: number;
  attempt: number;
  push: AttemptDoc | null;
  set: Readonly<
    Partial<
      Pick<DeliveryDoc, 'status' | 'next_attempt_at' | 'queued_attempt' | 'queued_tier' | 'delivered_at' | 'failed_at' | 'failure_reason'>
    >
  > & { changed_at: Date };
}>;

/** The bulk operation of an update (exported for the unit tests of the worker's writes). */
export const updateOp = (u: DeliveryUpdate) => ({
  updateOne: {
    filter: { _id: u.id, round: u.round, status: 'pending' as const, queued_attempt: u.attempt },
    update: { $set: u.set, ...(u.push ? { $push: { attempts: u.push } } : {}) },
  },
});

const FIND_AT_ONCE = 32;
const BULK_UPDATES = 64;
const BULKS_IN_FLIGHT = 4;

export const DELIVERY_ORDER: SortSpec = [
  { field: 'created_at', dir: -1 },
  { field: '_id', dir: 1 },
];

export const deliveryIdOf = (endpointId: string, eventId: string): string => deterministicId('dlv', endpointId, eventId);

export function createWebhookStore(db: Db, secrets: SecretBox) {
  const endpoints = db.collection<EndpointDoc>(COLLECTIONS.endpoint);
  const deliveries = db.collection<DeliveryDoc>(COLLECTIONS.delivery);
  const boundTo = (endpointId: string, keyId: string) => `${endpointId}/${keyId}`;
  const newKey = (endpointId: string, now: Date): { doc: SigningKeyDoc; secret: string } => {
    const secret = newEndpointSecret();
    const id = randomId('whk', 8);
    return { doc: { id, secret: secrets.seal(secret, boundTo(endpointId, id)), created_at: now, expires_at: null }, secret };
  };
  /** The endpoint's secrets that sign at `now`, newest first, decrypted; [] for an endpoint that has none yet. */
  const liveSecrets = (e: Pick<EndpointDoc, '_id' | 'signing_keys'>, now: Date): string[] =>
    (e.signing_keys ?? [])
      .filter((k) => k.expires_at === null || k.expires_at.getTime() > now.getTime())
      .map((k) => secrets.open(k.secret, boundTo(e._id, k.id)));

  async function endpointOf(keyId: string, id: string): Promise<EndpointDoc> {
    const doc = await endpoints.findOne({ _id: id });
    if (!doc || doc.key_id !== keyId) throw new AppError('EC_NOT_FOUND', `no endpoint ${id}`);
    return doc;
  }

  /** Deliveries by id, one lookup per id (FerretDB serves _id equality from an index but scans for $in), 32 at
   *  once. Only for what the delivery worker does not know (docs/decisions/0010). */
  async function deliveriesByIds(ids: readonly string[]): Promise<Map<string, DeliveryDoc>> {
    const out = new Map<string, DeliveryDoc>();
    await inLanes([...new Set(ids)], FIND_AT_ONCE, async (id) => {
      const d = await deliveries.findOne({ _id: id });
      if (d) out.set(id, d);
    });
    return out;
  }

  return {
    async createEndpoint(
      e: { accountId: string; keyId: string; url: string; subscriptions: readonly SubscriptionDoc[]; rateLimitPerSecond?: number | null },
      now: Date,
    ): Promise<{ endpoint: EndpointDoc; secret: string }> {
      const _id = randomId('ep');
      const key = newKey(_id, now);
      const doc: EndpointDoc = {
        _id,
        account_id: e.accountId,
        key_id: e.keyId,
        url: e.url,
        categories: e.subscriptions.map((x) => x.type),
        subscriptions: [...e.subscriptions],
        rate_limit_per_second: e.rateLimitPerSecond ?? null,
        enabled: true,
        disabled_at: null,
        disabled_reason: null,
        failing_since: null,
        signing_keys: [key.doc],
        created_at: now,
        updated_at: now,
      };
      await endpoints.insertOne(doc);
      return { endpoint: doc, secret: key.secret };
    },
    /** The live Standard Webhooks secrets of each endpoint (those without any absent), read now: the worker reads
     *  them once per batch, so a rotation signs from the next batch on. */
    async liveSecretsOf(ids: readonly string[], now: Date): Promise<Map<string, string[]>> {
      if (ids.length === 0) return new Map();
      const docs = await endpoints
        .find({ _id: { $in: [...new Set(ids)] } })
        .project<Pick<EndpointDoc, '_id' | 'signing_keys'>>({ signing_keys: 1 })
        .toArray();
      return new Map(docs.map((d) => [d._id, liveSecrets(d, now)] as const).filter(([, s]) => s.length > 0));
    },
    /** The endpoint's current secret; an endpoint created before Standard Webhooks signing gets its first one now. */
    async currentSecret(keyId: string, id: string, now: Date): Promise<string> {
      let doc = await endpointOf(keyId, id);
      if (!doc.signing_keys?.length) {
        await endpoints.updateOne({ _id: id, signing_keys: { $exists: false } }, { $set: { signing_keys: [newKey(id, now).doc] } });
        doc = await endpointOf(keyId, id);
      }
      const current = doc.signing_keys!.find((k) => k.expires_at === null) ?? doc.signing_keys![0]!;
      return secrets.open(current.secret, boundTo(id, current.id));
    },
    /** Replaces the endpoint's secret: the new one signs from now on, the ones signing until now keep signing for
     *  `overlapMs` more (0: they stop at once), at most MAX_OLD_SIGNING_KEYS of them. Answers the new secret. */
    async rotateSecret(keyId: string, id: string, now: Date, overlapMs: number): Promise<{ secret: string; old_expire_at: Date }> {
      if (!Number.isSafeInteger(overlapMs) || overlapMs < 0 || overlapMs > MAX_SECRET_OVERLAP_MS)
        throw new AppError('EC_BAD_REQUEST', `the overlap must be 0 to ${MAX_SECRET_OVERLAP_MS / 1000} seconds`, {
          details: { parameter: 'overlap_seconds' },
        });
      const doc = await endpointOf(keyId, id);
      const until = new Date(now.getTime() + overlapMs);
      const old = (doc.signing_keys ?? [])
        .filter((k) => k.expires_at === null || k.expires_at.getTime() > now.getTime())
        .map((k) => ({ ...k, expires_at: k.expires_at === null || k.expires_at > until ? until : k.expires_at }))
        .filter((k) => k.expires_at.getTime() > now.getTime())
        .slice(0, MAX_OLD_SIGNING_KEYS);
      const key = newKey(id, now);
      await endpoints.updateOne({ _id: id }, { $set: { signing_keys: [key.doc, ...old], updated_at: now } });
      return { secret: key.secret, old_expire_at: until };
    },
    listEndpoints(keyId: string): Promise<EndpointDoc[]> {
      return endpoints.find({ key_id: keyId }).sort({ created_at: 1, _id: 1 }).toArray();
    },
    endpointOf,
    /** The endpoint whatever its owner (delivery side). */
    endpoint(id: string): Promise<EndpointDoc | null> {
      return endpoints.findOne({ _id: id });
    },
    /** Endpoints by id, whatever their owner, in one query (a small collection: FerretDB's scan of it is cheap). */
    async endpointsByIds(ids: readonly string[]): Promise<Map<string, EndpointDoc>> {
      if (ids.length === 0) return new Map();
      return new Map((await endpoints.find({ _id: { $in: [...ids] } }).toArray()).map((e) => [e._id, e]));
    },
    // Field updates, not replaces: the delivery worker sets failing_since / enabled on the same documents.
    async updateEndpoint(
      keyId: string,
      id: string,
      change: { url?: string; subscriptions?: readonly SubscriptionDoc[]; rateLimitPerSecond?: number | null },
      now: Date,
    ): Promise<EndpointDoc> {
      await endpointOf(keyId, id);
      await endpoints.updateOne(
        { _id: id },
        {
          $set: {
            ...(change.url ? { url: change.url } : {}),
            ...(change.subscriptions
              ? { categories: change.subscriptions.map((x) => x.type), subscriptions: [...change.subscriptions] }
              : {}),
            ...(change.rateLimitPerSecond !== undefined ? { rate_limit_per_second: change.rateLimitPerSecond } : {}),
            updated_at: now,
          },
        },
      );
      return endpointOf(keyId, id);
    },
    async deleteEndpoint(keyId: string, id: string): Promise<void> {
      await endpointOf(keyId, id);
      await endpoints.deleteOne({ _id: id });
    },
    /** Re-enables a disabled endpoint: its failure streak starts over. */
    async enableEndpoint(keyId: string, id: string, now: Date): Promise<EndpointDoc> {
      await endpointOf(keyId, id);
      await endpoints.updateOne(
        { _id: id },
        { $set: { enabled: true, disabled_at: null, disabled_reason: null, failing_since: null, failing_noticed: false, updated_at: now } },
      );
      return endpointOf(keyId, id);
    },
    /** Enabled endpoints of an account subscribed to a category. */
    subscribed(accountId: string, category: string): Promise<EndpointDoc[]> {
      return endpoints.find({ account_id: accountId, enabled: true, categories: category }).toArray();
    },
    /** After failed attempts: starts the failure streak at `since` (or starts it over there, `restart`: a success
     *  came before them), and disables the endpoint once the streak lasted `disableAfterMs` at `now` (0: at once,
     *  after a 410 Gone), with `reason` as its disabled_reason when given. */
    async noteFailure(
      id: string,
      now: Date,
      disableAfterMs: number,
      opts: { since?: Date; restart?: boolean; reason?: string } = {},
    ): Promise<EndpointDoc | null> {
      const since = opts.since ?? now;
      if (opts.restart) await endpoints.updateOne({ _id: id }, { $set: { failing_since: since } });
      else await endpoints.updateOne({ _id: id, failing_since: null }, { $set: { failing_since: since } });
      const doc = await endpoints.findOne({ _id: id });
      if (doc && doc.enabled && doc.failing_since && now.getTime() - doc.failing_since.getTime() >= disableAfterMs) {
        const reason = opts.reason ?? `every attempt failed since ${doc.failing_since.toISOString()}`;
        await endpoints.updateOne(
          { _id: id, enabled: true },
          { $set: { enabled: false, disabled_at: now, disabled_reason: reason, updated_at: now } },
        );
        return { ...doc, enabled: false, disabled_at: now, disabled_reason: reason };
      }
      return doc;
    },
    /** After a success: the failure streak ends. Answers the endpoint as it was when a streak with a `failing`
     *  notice ended (the caller writes `recovered`), else null. */
    async noteSuccess(id: string): Promise<EndpointDoc | null> {
      const before = await endpoints.findOneAndUpdate(
        { _id: id, failing_since: { $ne: null } },
        { $set: { failing_since: null, failing_noticed: false } },
        { returnDocument: 'before' },
      );
      return before?.failing_noticed === true ? before : null;
    },
    /** Claims the `failing` notice of the endpoint's current streak: true for the one caller that should write it. */
    async claimFailingNotice(id: string): Promise<boolean> {
      const res = await endpoints.updateOne(
        { _id: id, failing_since: { $ne: null }, failing_noticed: { $ne: true } },
        { $set: { failing_noticed: true } },
      );
      return res.modifiedCount === 1;
    },

    /** New deliveries in one insertMany; answers the ids that existed already (the same event planned again after
     *  a crash). */
    async insertDeliveries(docs: readonly DeliveryDoc[]): Promise<Set<string>> {
      if (docs.length === 0) return new Set();
      try {
        await deliveries.insertMany([...docs], { ordered: false });
        return new Set();
      } catch (err) {
        const raw = (err as { writeErrors?: { code?: number; index?: number }[] | { code?: number; index?: number } }).writeErrors;
        const errors = Array.isArray(raw) ? raw : raw ? [raw] : [];
        if (errors.length > 0 && errors.every((e) => e.code === 11000 && Number.isInteger(e.index)))
          return new Set(errors.map((e) => docs[e.index!]!._id));
        if (isDuplicateKey(err)) return new Set(docs.map((d) => d._id)); // which ones is unknown: the caller reads them
        throw err;
      }
    },
    delivery(id: string): Promise<DeliveryDoc | null> {
      return deliveries.findOne({ _id: id });
    },
    deliveriesByIds,
    /** The outcomes of a worker batch in bulk; answers the ids whose update did not apply (the
     *  delivery moved on: a replay, or another member stored that attempt first). */
    async applyUpdates(updates: readonly DeliveryUpdate[]): Promise<Set<string>> {
      if (updates.length === 0) return new Set();
      // Bulks of 64, four at once (each delivery appears once in a batch, so their order does not matter); each bulk
      // ordered: FerretDB v1 is far slower on unordered ones (docs/ferretdb-gaps.md).
      let matched = 0;
      await inLanes(chunk(updates, BULK_UPDATES), BULKS_IN_FLIGHT, async (bulk) => {
        matched += (await deliveries.bulkWrite(bulk.map(updateOp), { ordered: true })).matchedCount;
      });
      if (matched === updates.length) return new Set();
      // Rare: find which did not apply. An applied one shows exactly what it set.
      const now = await deliveriesByIds(updates.map((u) => u.id));
      const applied = (u: DeliveryUpdate, d: DeliveryDoc | undefined) =>
        d !== undefined &&
        d.round === u.round &&
        d.changed_at.getTime() === u.set.changed_at.getTime() &&
        (u.set.status === undefined || d.status === u.set.status) &&
        (u.set.queued_attempt === undefined || d.queued_attempt === u.set.queued_attempt) &&
        (u.push === null ||
          d.attempts.some((a) => a.round === u.push!.round && a.n === u.push!.n && a.at.getTime() === u.push!.at.getTime()));
      return new Set(updates.filter((u) => !applied(u, now.get(u.id))).map((u) => u.id));
    },
    listDeliveries(
      endpointId: string,
      where: { status?: DeliveryStatus; category?: string; createdAfter?: Date; createdBefore?: Date },
      after: readonly unknown[] | null,
      limit: number,
    ): Promise<Page<DeliveryDoc>> {
      const filter: Document = { endpoint_id: endpointId };
      if (where.status) filter['status'] = where.status;
      if (where.category) filter['category'] = where.category;
      if (where.createdAfter || where.createdBefore)
        filter['created_at'] = {
          ...(where.createdAfter ? { $gte: where.createdAfter } : {}),
          ...(where.createdBefore ? { $lt: where.createdBefore } : {}),
        };
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
        ...doc,
        status: 'pending',
        round: doc.round + 1,
        next_attempt_at: now,
        queued_attempt: 1,
        queued_tier: 0,
        failed_at: null,
        failure_reason: null,
        changed_at: now,
      };
      const res = await deliveries.replaceOne({ _id: id, round: doc.round, status: 'failed' }, next);
      return res.matchedCount === 1 ? next : null;
    },
    /** Deletes the deliveries that ended (delivered or failed) and last changed before `before`; answers how many. */
    async pruneDeliveries(before: Date): Promise<number> {
      return (await deliveries.deleteMany({ status: { $in: ['delivered', 'failed'] }, changed_at: { $lt: before } })).deletedCount;
    },
    /** The endpoint's failed deliveries created since `since`, oldest first, at most `limit`. */
    failedSince(endpointId: string, since: Date, limit: number): Promise<DeliveryDoc[]> {
      return deliveries
        .find({ endpoint_id: endpointId, status: 'failed', created_at: { $gte: since } })
        .sort({ created_at: 1, _id: 1 })
        .limit(limit)
        .toArray();
    },
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;
