// A customer of EchoCue made the operator's way, through the admin API (ADMIN_TOKEN): an account, its WABAs, an API key.
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a set-up call keeps trying while the API answers 503 (its store busy: a whole `make test` on two cores)
 *  or 429, waiting what Retry-After asks, as any client of the API should. Linking a WABA is an upsert, so a retry
 *  after an answer that was lost is harmless; a retried account creation can at worst leave one unused account. */
const RETRY_FOR_MS = 60_000;

export async function createTenant(
  url: string,
  adminToken: string,
  wabaIds: readonly string[],
): Promise<{ accountId: string; key: string }> {
  const admin = async (path: string, body?: unknown) => {
    const deadline = Date.now() + RETRY_FOR_MS;
    for (;;) {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (res.ok) return (await res.json()) as Record<string, string>;
      const text = await res.text();
      if ((res.status === 503 || res.status === 429) && Date.now() < deadline) {
        const after = Number(res.headers.get('retry-after') ?? '1');
        await sleep(Math.min(Math.max(Number.isFinite(after) ? after : 1, 0.2), 5) * 1000);
        continue;
      }
      throw new Error(`POST ${path} answered ${res.status}: ${text}`);
    }
  };
  const account = await admin('/api/admin/accounts', { name: 'Benchmark tenant' });
  for (const waba_id of wabaIds) await admin(`/api/admin/accounts/${account['id']}/wabas`, { waba_id });
  const key = await admin(`/api/admin/accounts/${account['id']}/keys`);
  return { accountId: account['id']!, key: key['key']! };
}
