// Soak, long version of test/e2e/soak.test.ts: the full-size Meta scenario (test/soak/scenario.ts, ~600 signed
// bodies, ~4,000 events) three times on one running EchoCue (ingest, actors and api in one child process), each
// round on a new WABA of the same tenant, so each round lands in a store holding the previous ones. Per round: how
// long until the actors have applied everything, and whether everything the REST API shows equals the state folded
// from the same bodies. Round 3's time over round 1's shows a store that slows down as history grows.
// BENCH_QUICK=1: the short test's size.
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { silenceKafkajsTimeoutWarning } from '../../src/events/kafka/index.ts';
import { figure, type BenchContext, type Figure, type Series, type Stage, type StageResult } from '../lib.ts';
import { startEchoCue } from '../../harness/load/processes.ts';
import { createTenant } from '../../harness/load/tenant.ts';
import { describeMismatches } from '../../harness/soak/compare.ts';
import { Expectation } from '../../harness/soak/expected.ts';
import { runRound, type RoundResult } from '../../harness/soak/round.ts';
import { soakScenario } from '../../harness/soak/scenario.ts';

const BODIES = process.env['BENCH_QUICK'] === '1' ? 200 : 600;
const WABAS = ['500000000001001', '500000000001002', '500000000001003'];
const CONCURRENCY = 8;

export const stage: Stage = { name: 'soak', run };

async function run(ctx: BenchContext): Promise<StageResult> {
  silenceKafkajsTimeoutWarning(); // the stage's own admin client (waitForActors), as EchoCue's entry point does
  const adminToken = randomBytes(18).toString('base64url');
  const echo = await startEchoCue(ctx.config, 'ingest,actors,api', { ADMIN_TOKEN: adminToken, API_RATE_LIMIT: '1000000' });
  const rounds: RoundResult[] = [];
  try {
    const { accountId, key } = await createTenant(echo.url, adminToken, []);
    const system = { url: echo.url, adminToken, accountId, key, config: ctx.config };
    const expectation = new Expectation();
    for (const [i, wabaId] of WABAS.entries()) {
      const scenario = soakScenario({ wabaId, bodies: BODIES, secret: ctx.config.meta.appSecrets[0]! });
      const r = await runRound({ system, expectation, scenario, concurrency: CONCURRENCY });
      rounds.push(r);
      process.stdout.write(
        `  round ${i + 1}: ${r.bodies} bodies, ${r.events} events, applied in ${r.applySeconds.toFixed(1)} s; ${r.passed}/${r.checks} checks passed (${r.requests} API requests, ${r.readSeconds.toFixed(1)} s); ${r.retried} POSTs retried after 503, ${r.connectionErrors.length} after a broken connection\n`,
      );
    }
  } catch (err) {
    // What the EchoCue process said is usually the cause (a fetch failure only says the connection went away).
    const cause = (err as Error & { cause?: unknown }).cause;
    throw new Error(
      `${(err as Error).message}${cause ? ` (${String(cause)})` : ''}; EchoCue ${echo.running() ? 'still running' : 'exited'}: ${echo.output()}`,
      { cause: err },
    );
  } finally {
    await echo.stop();
  }
  return report(rounds, ctx.config.kafka.partitions);
}

function report(rounds: readonly RoundResult[], partitions: number): StageResult {
  const figures: Figure[] = [];
  rounds.forEach((r, i) => {
    figures.push(
      figure({
        name: `soak: round ${i + 1}, seconds to apply ${r.bodies} bodies (${r.events.toLocaleString('en-US')} events)`,
        value: r.applySeconds,
        unit: 's',
        lowerIsBetter: true,
        note: `${Math.round(r.events / r.applySeconds)} events/s; ${r.duplicates} duplicated bodies; ${r.retried} POSTs answered 503 and sent again; ${r.connectionErrors.length} POSTs lost their connection and were sent again${r.connectionErrors.length > 0 ? ` (first: ${r.connectionErrors[0]})` : ''}.`,
      }),
    );
    figures.push(
      figure({
        name: `soak: round ${i + 1}, checks failed (of ${r.checks}: every thread, message, contact, notification, template and window the REST API shows vs the folded state)`,
        value: r.failed,
        unit: 'checks',
        target: { op: '<=', value: 0, on: 'value' },
        note: r.failed > 0 ? `First differences: ${describeMismatches(r.mismatches, 10).replaceAll('\n', '; ')}` : null,
      }),
    );
  });
  const first = rounds[0];
  const last = rounds[rounds.length - 1];
  if (first && last && rounds.length > 1) {
    figures.push(
      figure({
        name: `soak: apply time of round ${rounds.length} over round 1 (same scenario size on a store holding ${rounds.length - 1} earlier rounds)`,
        value: last.applySeconds,
        unit: 's',
        baseline: { name: 'round 1, empty store', value: first.applySeconds },
        note: 'Ratio = round 3 seconds / round 1 seconds: above 1, applying the same amount of traffic got slower as the store filled up.',
      }),
    );
  }
  if (first && last && rounds.length > 1) {
    figures.push(
      figure({
        name: `soak: REST reads of round ${rounds.length}, ms per request (${last.requests} requests over ${rounds.length} rounds of data)`,
        value: (last.readSeconds * 1000) / last.requests,
        unit: 'ms',
        baseline: { name: `round 1 (${first.requests} requests)`, value: (first.readSeconds * 1000) / first.requests },
        note: 'Ratio = round 3 / round 1 time per request (8 requests at a time, comparison included): above 1, a read got slower as the store filled up. Each round reads everything so far, so it makes more requests.',
      }),
    );
  }
  const series: Series[] = [
    {
      chart: 'Soak: seconds to apply each round',
      label: 'ingest -> actors caught up',
      x: 'round',
      y: 'seconds',
      points: rounds.map((r, i) => ({ x: i + 1, y: r.applySeconds })),
    },
  ];
  const notes = [
    `Setup: EchoCue runs \`node src/cli/main.ts serve --role ingest,actors,api\` in one child process on the stage's topics (${partitions} partitions) and a fresh database; one tenant made through the admin API, a new WABA linked to it before each round. Each round POSTs the scenario of test/soak/scenario.ts (one WABA, two phone numbers: inbound messages of 12 types, keyword and user_preferences opt-outs and opt-ins, number changes, statuses sent/delivered/read/failed shuffled and repeated, template status/quality/category events; about 8 % of the bodies sent twice, every body moved out of Meta's time order) ${CONCURRENCY} at a time with its X-Hub-Signature-256. Everything shares this machine's ${cpus().length} cores with Kafka and the store.`,
    "Measure: seconds from the first POST of a round to the actors' consumer group having committed every record of the actor topics (lag 0, polled every 250 ms). Then every page of /api/thread/list and /api/template/list, every thread's messages and window, every contact and every outbound message (/api/notification/{wamid}) is read and compared with the state derived from the same bodies by the actors' own reducers (applyBatch on an in-memory store) and the API's own views; store-time stamps (updated_at from changed_at, ETags, cursors) are left out. Reading and comparing is not part of the apply time.",
    `Per round (bodies, distinct, duplicated, events, apply s, events/s, checks passed/failed, API requests, read s): ${rounds.map((r, i) => `${i + 1}: ${r.bodies}, ${r.distinct}, ${r.duplicates}, ${r.events}, ${r.applySeconds.toFixed(1)}, ${Math.round(r.events / r.applySeconds)}, ${r.passed}/${r.failed}, ${r.requests}, ${r.readSeconds.toFixed(1)}`).join(' | ')}.`,
  ];
  const raw = rounds.map((r) => ({ ...r, mismatches: r.mismatches.slice(0, 200), mismatchCount: r.mismatches.length }));
  return { stage: 'soak', figures, series, notes, raw };
}
