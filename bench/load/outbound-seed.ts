// Seeds a bench database with what outbound webhooks need: an account, its WABAs, an API key (signing secret) and
// endpoints, written through the same stores the API uses (the SSRF check at registration is skipped: the endpoints
// are on the bench's local receiver, which DELIVERY_ALLOW_CIDRS lets through at delivery time).
import { MongoClient } from 'mongodb';
import { type Config } from '../../src/config/index.ts';
import { createSecretBox } from '../../src/core/secret-box.ts';
import { CATEGORIES, type Category } from '../../src/events/outbound.ts';
import { createAccountStore } from '../../src/store/accounts.ts';
import { ensureIndexes } from '../../src/store/collections.ts';
import { createWebhookStore } from '../../src/store/webhooks.ts';

export type Seeded = { accountId: string; keyId: string; key: string; secret: string; endpointIds: string[] };

export async function seedAccount(
  config: Config,
  opts: { wabas: readonly string[]; endpointUrls: readonly string[]; categories?: readonly Category[] },
): Promise<Seeded> {
  const mongo = new MongoClient(config.mongo.uri);
  await mongo.connect();
  try {
    const db = mongo.db();
    await ensureIndexes(db);
    const now = new Date();
    const box = createSecretBox(config.secrets.masterKeys);
    const accounts = createAccountStore(db, box);
    const webhooks = createWebhookStore(db, box);
    const account = await accounts.createAccount('Bench clinic', now);
    for (const w of opts.wabas) await accounts.linkWaba(w, account._id, now);
    const key = await accounts.createApiKey(account._id, now);
    const endpointIds: string[] = [];
    for (const url of opts.endpointUrls) {
      const { endpoint: ep } = await webhooks.createEndpoint(
        {
          accountId: account._id,
          keyId: key.id,
          url,
          subscriptions: (opts.categories ?? CATEGORIES).map((type) => ({ type, version: 1, filter: null })),
        },
        now,
      );
      endpointIds.push(ep._id);
    }
    return { accountId: account._id, keyId: key.id, key: key.key, secret: key.signing_secret, endpointIds };
  } finally {
    await mongo.close();
  }
}

/** WABA ids for the bench: `n` distinct 15-digit ids (so keys spread over the partitions). */
export const benchWabas = (n: number): string[] => Array.from({ length: n }, (_, i) => String(104719385560000 + i * 7919));
