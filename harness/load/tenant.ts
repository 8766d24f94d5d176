// A customer of EchoCue made the operator's way, through the admin API (ADMIN_TOKEN): an account, its WABAs, an API key.
export async function createTenant(
  url: string,
  adminToken: string,
  wabaIds: readonly string[],
): Promise<{ accountId: string; key: string }> {
  const admin = async (path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as Record<string, string>;
  };
  const account = await admin('/api/admin/accounts', { name: 'Benchmark tenant' });
  for (const waba_id of wabaIds) await admin(`/api/admin/accounts/${account['id']}/wabas`, { waba_id });
  const key = await admin(`/api/admin/accounts/${account['id']}/keys`);
  return { accountId: account['id']!, key: key['key']! };
}
