// GET /readyz of an EchoCue process as tests and benchmarks read it: the status, the checks, and the partitions each
// consumer group member holds (from the checks' details, "<prefix>echocue.actors: 27 partitions"), for the groups
// whose check passed.
export type Readyz = Readonly<{
  status: number;
  checks: Record<string, { ok: boolean; detail?: string; error?: string }>;
  /** Partitions held per group: actors, planner, worker (absent when that group is not ready in this process). */
  shares: Readonly<Partial<Record<'actors' | 'planner' | 'worker', number>>>;
}>;

export async function readyz(url: string): Promise<Readyz> {
  const res = await fetch(`${url}/readyz`);
  const { checks } = (await res.json()) as { checks: Readyz['checks'] };
  const shares: Record<string, number> = {};
  for (const c of Object.values(checks))
    for (const [, group, n] of (c.detail ?? '').matchAll(/echocue\.(actors|delivery\.planner|delivery\.worker): (\d+) partitions?/g))
      shares[group!.replace('delivery.', '')] = Number(n);
  return { status: res.status, checks, shares };
}
