// One chaos drill (issue 16, `make chaos`): EchoCue as four processes (ingest, actors, delivery, api), a steady load
// of signed Meta bodies with known content (the soak scenario: duplicates, out-of-order statuses, number changes),
// posted as Meta does (a 503 or a broken connection is sent again), a fault in the middle of it, then a
// reconciliation:
//   - every event of every body that got a 200 is on its topic (lost: those that are not);
//   - the state the REST API shows equals the state folded from the same bodies by the actors' own reducers
//     (test/soak/expected.ts), so nothing is missing and nothing is applied twice in meaning (mismatches);
//   - every outbound notification owed (on the notifications topic) reached the receiver or is in the failed log.
// No vitest in here: test/e2e/chaos.test.ts runs the drills and asserts on the rows.
import { startEchoCue, type ServerProcess } from '../../harness/load/processes.ts';
import { createTenant } from '../../harness/load/tenant.ts';
import { type Config } from '../../src/config/index.ts';
import { inLanes } from '../../src/core/lanes.ts';
import { ACTOR_EVENT_TYPES } from '../../src/actors/apply.ts';
import { topicNames } from '../../src/events/topics.ts';
import { parseJsonLossless } from '../../src/ingest/parse-json.ts';
import { splitPayload } from '../../src/ingest/split/split-payload.ts';
import { FIXTURE_SECRET } from '../helpers/env.ts';
import { readTopics } from '../../harness/kafka.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { waitForActors } from '../../harness/topics.ts';
import { describeMismatches } from '../../harness/soak/compare.ts';
import { Expectation } from '../../harness/soak/expected.ts';
import { deliver, readBackAndCompare } from '../../harness/soak/round.ts';
import { soakScenario } from '../../harness/soak/scenario.ts';

export type Role = 'ingest' | 'actors' | 'delivery' | 'api';

/** What a fault may do to the running system. */
export type DrillContext = {
  config: Config;
  receiver: Receiver;
  /** SIGKILL a role's process (no shutdown at all). */
  kill(role: Role): Promise<void>;
  /** Start a role again (on the same port, for ingest and api). */
  restart(role: Role): Promise<void>;
  /** Another actors or delivery process, joining its groups (a rebalance); stop() it to leave again. Extras still
   *  running when the fault ends keep working through the drain (scale-out). */
  extra(role: 'actors' | 'delivery'): Promise<ServerProcess>;
  /** Resolves once this share (0..1) of the bodies has been answered. */
  progress(share: number): Promise<void>;
};

export type DrillRow = {
  drill: string;
  sent: number;
  /** Bodies answered 200 on the first try. */
  acknowledged: number;
  /** Bodies that got a 503 or a broken connection first and a 200 later (Meta's retry). */
  retried: number;
  /** Bodies never answered 200 (their events may or may not be applied: Meta would retry them). */
  unacknowledged: number;
  /** Distinct actor events on the topics. */
  applied: number;
  /** Records on the actor topics beyond one per event id (a retried POST writes its events again). */
  duplicates: number;
  /** Events of a body answered 200 that are not on their topic. */
  lost: number;
  /** Differences between the REST API and the fold of the bodies (nothing missing, nothing doubled). */
  mismatches: number;
  owed: number;
  delivered: number;
  failed: number;
  /** Notifications the receiver accepted more than once (at-least-once: an attempt in flight at a kill is sent again). */
  redelivered: number;
  /** Of those, notifications whose copies differ: a second delivery with another meaning (must be 0). */
  changedRedeliveries: number;
  /** Attempts the receiver answered with an error (the receiver drill's stretch of 500s). */
  refusedAttempts: number;
  seconds: number;
  /** The first mismatches, for a failure message. */
  detail: string;
};

const ADMIN = 'admin-token-for-chaos-drills';
const ROLES: readonly Role[] = ['ingest', 'actors', 'delivery', 'api'];

export async function runDrill(o: {
  name: string;
  config: Config;
  wabaId: string;
  bodies: number;
  fault: (ctx: DrillContext) => Promise<void>;
  /** Extra environment for the processes. */
  env?: Record<string, string>;
  /** How long the actors and deliveries may take to catch up after the load (default 240 s). */
  drainMs?: number;
}): Promise<DrillRow> {
  const started = performance.now();
  const receiver = await startReceiver();
  receiver.script('/hook', [{ status: 200 }]);
  const env = {
    ADMIN_TOKEN: ADMIN,
    API_RATE_LIMIT: '1000000',
    DELIVERY_DELAY_SCALE: '0.001',
    DELIVERY_ALLOW_CIDRS: '127.0.0.1/32',
    DELIVERY_TIMEOUT_MS: '5000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...o.env,
  };
  // Each role's port, from its first start on (a restart takes the same one: ingest and api keep their URL).
  const ports = new Map<Role, number>();
  const procs = new Map<Role, ServerProcess>();
  const extras: ServerProcess[] = [];
  const start = async (role: Role): Promise<void> => {
    const p = await startEchoCue(o.config, role, env, ports.get(role));
    ports.set(role, Number(new URL(p.url).port));
    procs.set(role, p);
  };
  try {
    for (const role of ROLES) await start(role);
    const api = procs.get('api')!.url;
    const tenant = await createTenant(api, ADMIN, [o.wabaId]);
    const endpoint = await fetch(`${api}/api/webhooks/endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${receiver.base}/hook` }),
    });
    if (endpoint.status !== 201) throw new Error(`creating the endpoint answered ${endpoint.status}: ${await endpoint.text()}`);
    const endpointId = ((await endpoint.json()) as { id: string }).id;

    const scenario = soakScenario({ wabaId: o.wabaId, bodies: o.bodies, secret: FIXTURE_SECRET });
    let answered = 0;
    const waiters: { share: number; resolve: () => void }[] = [];
    const ctx: DrillContext = {
      config: o.config,
      receiver,
      kill: async (role) => procs.get(role)?.kill(),
      restart: start,
      extra: async (role) => {
        const p = await startEchoCue(o.config, role, env);
        extras.push(p);
        return p;
      },
      progress: (share) =>
        new Promise((resolve) => (answered / scenario.posts.length >= share ? resolve() : waiters.push({ share, resolve }))),
    };
    const results: { body: string; ok: boolean; retried: boolean }[] = [];
    const ingestUrl = procs.get('ingest')!.url;
    const load = inLanes(scenario.posts, 4, async (p) => {
      let ok = true;
      let retried = false;
      try {
        // Up to about two minutes of retries: long enough for any restart in a drill.
        const r = await deliver(ingestUrl, p.body, p.signature, 60);
        retried = r.retried503 > 0 || r.connectionErrors.length > 0;
      } catch {
        ok = false;
      }
      results.push({ body: p.body, ok, retried });
      answered++;
      for (const w of waiters.splice(0)) {
        if (answered / scenario.posts.length >= w.share) w.resolve();
        else waiters.push(w);
      }
    });
    // A fault waiting for a share the load never reaches (bodies given up) is let go when the load ends.
    await Promise.all([
      load.then(() => {
        for (const w of waiters.splice(0)) w.resolve();
      }),
      o.fault(ctx),
    ]);
    await waitForActors(o.config, o.drainMs ?? 240_000);

    // Every event of every acknowledged body on its topic, once or more.
    const topics = topicNames(o.config.kafka.topicPrefix);
    const records = await readTopics(
      o.config,
      ACTOR_EVENT_TYPES.map((t) => topics.events[t]),
    );
    const onTopics = new Map<string, number>();
    for (const r of records) onTopics.set(r.headers['event_id']!, (onTopics.get(r.headers['event_id']!) ?? 0) + 1);
    let lost = 0;
    for (const r of results.filter((x) => x.ok)) {
      const out = splitPayload(parseJsonLossless(r.body), { receivedAt: 0, accountOf: () => null });
      if (out.kind !== 'events') continue;
      for (const e of out.events)
        if ((ACTOR_EVENT_TYPES as readonly string[]).includes(e.eventType) && !onTopics.has(String(e.value['event_id']))) lost++;
    }

    // The state: what the REST API shows against the fold of every body.
    const expectation = new Expectation();
    await expectation.fold(scenario.posts.map((p) => p.body));
    const { comparison } = await readBackAndCompare(api, tenant.key, expectation);

    // Outbound: every notification owed reached the receiver (2xx) or is in the failed log.
    const owed = new Set((await readTopics(o.config, [topics.notifications])).map((r) => r.headers['notification_id']!));
    const deliveredIds = () =>
      new Set(receiver.received.filter((r) => r.answered === 200).map((r) => String(r.headers['x-echocue-event-id'])));
    const failedIds = async () => {
      const ids = new Set<string>();
      let cursor: string | null = null;
      do {
        const res = await fetch(
          `${api}/api/webhooks/endpoints/${endpointId}/deliveries?status=failed&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { headers: { authorization: `Bearer ${tenant.key}` } },
        );
        if (!res.ok) throw new Error(`listing failed deliveries answered ${res.status}: ${await res.text()}`);
        const page = (await res.json()) as { data: { event_id: string }[]; next_cursor: string | null };
        for (const d of page.data) ids.add(d.event_id);
        cursor = page.next_cursor;
      } while (cursor);
      return ids;
    };
    const deadline = Date.now() + (o.drainMs ?? 240_000);
    let delivered = deliveredIds();
    let failed = await failedIds();
    while ([...owed].some((id) => !delivered.has(id) && !failed.has(id)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      delivered = deliveredIds();
      failed = await failedIds();
    }
    return {
      drill: o.name,
      sent: scenario.posts.length,
      acknowledged: results.filter((r) => r.ok && !r.retried).length,
      retried: results.filter((r) => r.ok && r.retried).length,
      unacknowledged: results.filter((r) => !r.ok).length,
      applied: onTopics.size,
      duplicates: records.length - onTopics.size,
      lost,
      mismatches: comparison.mismatches.length,
      owed: owed.size,
      delivered: [...owed].filter((id) => delivered.has(id)).length,
      failed: [...owed].filter((id) => failed.has(id)).length,
      ...redeliveries(receiver),
      refusedAttempts: receiver.received.filter((r) => r.answered !== 200).length,
      seconds: Math.round((performance.now() - started) / 1000),
      detail: describeMismatches(comparison.mismatches, 10),
    };
  } finally {
    for (const p of [...extras, ...procs.values()]) await p.stop().catch(() => {});
    await receiver.close();
  }
}

/** Notifications accepted (200) more than once, and those whose accepted copies are not byte for byte the same. */
function redeliveries(receiver: Receiver): { redelivered: number; changedRedeliveries: number } {
  const bodies = new Map<string, Set<string>>();
  const copies = new Map<string, number>();
  for (const r of receiver.received.filter((x) => x.answered === 200)) {
    const id = String(r.headers['x-echocue-event-id']);
    copies.set(id, (copies.get(id) ?? 0) + 1);
    bodies.set(id, (bodies.get(id) ?? new Set()).add(r.body));
  }
  return {
    redelivered: [...copies.values()].filter((n) => n > 1).length,
    changedRedeliveries: [...bodies.values()].filter((b) => b.size > 1).length,
  };
}

/** The reconciliation table, one row per drill. */
export function drillTable(rows: readonly DrillRow[]): string {
  const cols: (keyof DrillRow)[] = [
    'drill',
    'sent',
    'acknowledged',
    'retried',
    'unacknowledged',
    'applied',
    'duplicates',
    'lost',
    'mismatches',
    'owed',
    'delivered',
    'failed',
    'redelivered',
    'changedRedeliveries',
    'refusedAttempts',
    'seconds',
  ];
  const cells = [cols.map(String), ...rows.map((r) => cols.map((c) => String(r[c])))];
  const widths = cols.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}
