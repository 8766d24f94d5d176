// Chaos drills (issue 16): under a steady load of signed Meta bodies, a process or service is killed and restarted,
// or the group rebalances, or two processes of each consumer role share the work and one of each is killed
// (scale-out, issue 17), or the customer's receiver fails for a stretch; then everything is reconciled
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
import { ACTOR_EVENT_TYPES } from '../../src/actors/apply.ts';
import { DELIVERY_TIERS } from '../../src/events/topics.ts';
import { readyz, type Readyz } from '../../harness/readiness.ts';
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

/** Partitions of each group: the actors read every actor topic, the planner the notifications, the worker the tiers. */
const totals = (partitions: number) => ({
  actors: ACTOR_EVENT_TYPES.length * partitions,
  planner: partitions,
  worker: DELIVERY_TIERS.length * partitions,
});

/** Waits until a process's /readyz reports shares (partitions per group: actors, planner, worker) that `ok` accepts. */
async function holding(url: string, ok: (s: Readyz['shares']) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  let last = '';
  while (Date.now() < deadline) {
    const r = await readyz(url);
    last = JSON.stringify(r.checks);
    if (ok(r.shares)) return;
    await sleep(250);
  }
  throw new Error(`${what}: not within 90 s (last /readyz checks: ${last})`);
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
      const second = await c.extra('actors'); // joins: partitions move while batches are in flight
      await c.progress(0.6);
      await second.stop(); // leaves: they move back
    },
  },
  {
    // Scale-out (issue 17): two actors and two delivery processes share their groups' partitions; one of each is
    // SIGKILLed under load and the survivors take every partition over (their /readyz says how many they hold).
    name: 'scale-out: 2 actors + 2 delivery, one of each SIGKILLed',
    fault: async (c) => {
      const actors = await c.extra('actors');
      const delivery = await c.extra('delivery');
      const all = totals(c.config.kafka.partitions);
      await holding(actors.url, (s) => s.actors! > 0 && s.actors! < all.actors, 'the second actors process to hold a share');
      await holding(delivery.url, (s) => s.worker! > 0 && s.worker! < all.worker, 'the second delivery process to hold a share');
      await c.progress(0.4);
      await c.kill('actors');
      await c.kill('delivery');
      await holding(actors.url, (s) => s.actors === all.actors, 'the surviving actors process to hold every partition');
      await holding(
        delivery.url,
        (s) => s.planner === all.planner && s.worker === all.worker,
        'the surviving delivery process to hold every partition',
      );
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
    expect(row.changedRedeliveries, 'a notification delivered again is the same bytes (receivers dedupe by its id)').toBe(0);
    if (d.name.startsWith('receiver')) expect(row.refusedAttempts).toBeGreaterThan(0); // the stretch happened
  });
});
