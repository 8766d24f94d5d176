// Chaos drills (issue 16): under a steady load of signed Meta bodies, a process or service is killed and restarted,
// or the group rebalances, or the customer's receiver fails for a stretch; then everything is reconciled
// (test/chaos/drill.ts): 0 lost, 0 mismatches (nothing missing, nothing applied twice in meaning), every owed
// delivery delivered or failed. `make test` runs the short drills (the processes, the rebalance, the receiver) on
// the shared stack; `make chaos` (CHAOS=full) runs them longer and also SIGKILLs the broker and the store, which
// the shared stack of a whole `make test` must not suffer (their short versions there: test/e2e/ingest-kafka-outage
// on a private broker, test/e2e/store-outage through a proxy). The table is printed either way.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/services.ts';
import { testEnv, type TestEnv } from '../helpers/env.ts';
import { drillTable, runDrill, type DrillContext, type DrillRow } from '../chaos/drill.ts';

const FULL = process.env['CHAOS'] === 'full';
const BODIES = Number(process.env['CHAOS_BODIES'] ?? (FULL ? 400 : 100));
/** CHAOS_ONLY=broker,store: only the drills whose name holds one of these. */
const ONLY = process.env['CHAOS_ONLY']?.split(',').filter(Boolean) ?? [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGKILL a service of the local stack and start it again (make chaos only). */
async function killService(service: 'kafka' | 'ferretdb', downMs: number): Promise<void> {
  const pid = Number(readFileSync(`${ROOT}.cache/run/${service}.pid`, 'utf8').trim());
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
  await sleep(downMs);
  execFileSync(`${ROOT}deploy/local/stack.sh`, ['up', service], { stdio: 'inherit' });
}

type Drill = { name: string; full?: boolean; fault: (ctx: DrillContext) => Promise<void>; env?: Record<string, string> };

const DRILLS: Drill[] = [
  {
    name: 'SIGKILL ingest',
    fault: async (c) => {
      await c.progress(0.3);
      await c.kill('ingest');
      await sleep(1500);
      await c.restart('ingest');
    },
  },
  {
    name: 'SIGKILL actors',
    fault: async (c) => {
      await c.progress(0.3);
      await c.kill('actors');
      await sleep(1500);
      await c.restart('actors');
    },
  },
  {
    name: 'SIGKILL delivery',
    fault: async (c) => {
      await c.progress(0.3);
      await c.kill('delivery');
      await sleep(1500);
      await c.restart('delivery');
    },
  },
  {
    name: 'rebalance mid-batch',
    fault: async (c) => {
      await c.progress(0.2);
      const second = await c.extraActors(); // joins: partitions move while batches are in flight
      await c.progress(0.6);
      await second.stop(); // leaves: they move back
    },
  },
  {
    name: 'receiver 500 for a stretch',
    fault: async (c) => {
      await c.progress(0.1);
      c.receiver.script('/hook', [{ status: 500 }]);
      await c.progress(0.7);
      await sleep(3000);
      c.receiver.script('/hook', [{ status: 200 }]);
    },
  },
  {
    name: 'SIGKILL broker',
    full: true,
    fault: async (c) => {
      await c.progress(0.3);
      await killService('kafka', 3000);
    },
  },
  {
    name: 'SIGKILL store',
    full: true,
    fault: async (c) => {
      await c.progress(0.3);
      await killService('ferretdb', 3000);
    },
  },
];

describe(`chaos drills (${FULL ? 'full' : 'short'}: ${BODIES} bodies each)`, () => {
  const rows: DrillRow[] = [];
  const envs: TestEnv[] = [];
  afterAll(async () => {
    if (rows.length > 0) console.log(`chaos: reconciliation\n${drillTable(rows)}`);
    for (const e of envs) await e.cleanup().catch(() => {});
  });

  const chosen = DRILLS.map((d, i) => [d.name, d, i] as const).filter(
    ([, d]) => (FULL || !d.full) && (ONLY.length === 0 || ONLY.some((o) => d.name.includes(o))),
  );
  test.each(chosen)('%s: 0 lost, 0 mismatches, every owed delivery delivered or failed', { timeout: 900_000 }, async (_name, d, i) => {
    const env = testEnv();
    envs.push(env);
    const row = await runDrill({
      name: d.name,
      config: env.config,
      wabaId: `50000000000${String(2000 + i)}`,
      bodies: BODIES,
      fault: d.fault,
      ...(d.env ? { env: d.env } : {}),
    });
    rows.push(row);
    expect(row.unacknowledged, 'every body is answered 200 in the end (Meta retries)').toBe(0);
    expect(row.lost).toBe(0);
    expect(row.mismatches, row.detail).toBe(0);
    expect(row.owed).toBeGreaterThan(0);
    expect(row.delivered + row.failed).toBe(row.owed);
    if (d.name.startsWith('receiver')) expect(row.refusedAttempts).toBeGreaterThan(0); // the stretch happened
  });
});
