// Soak, short version: the real system (`echocue serve --role ingest,actors,api` as a child process) takes the same
// kind of Meta scenario three times in a row, each round on a new WABA of the same tenant, so every round lands in a
// store that already holds the previous rounds. Each scenario mixes inbound messages of many types, statuses out of
// order and repeated, template and consent events, keyword opt-outs and number changes, with duplicated bodies and
// out-of-order delivery (test/soak/scenario.ts). After each round, everything the REST API shows must equal the
// state derived from the same bodies by the actors' own reducers and the API's own views (test/soak/expected.ts).
// The long version is `node bench/run.ts soak`.
import { type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../harness/load/processes.ts';
import { createTenant } from '../../harness/load/tenant.ts';
import { FIXTURE_SECRET, testEnv, type TestEnv } from '../helpers/env.ts';
import { exited, serveProcess, healthzOf } from '../helpers/process.ts';
import { describeMismatches } from '../../harness/soak/compare.ts';
import { Expectation } from '../../harness/soak/expected.ts';
import { runRound, type SoakSystem } from '../../harness/soak/round.ts';
import { soakScenario } from '../../harness/soak/scenario.ts';

const ADMIN = 'admin-token-for-the-soak-test';
const BODIES = 200;
const ROUNDS = ['500000000000101', '500000000000102', '500000000000103'];

describe('soak: three rounds of a Meta scenario on one running system', () => {
  let env: TestEnv;
  let child: ChildProcess | undefined;
  let system: SoakSystem;
  const expectation = new Expectation();

  beforeAll(async () => {
    env = testEnv();
    const port = await freePort();
    child = serveProcess(env, 'ingest,actors,api', {
      PORT: String(port),
      ADMIN_TOKEN: ADMIN,
      API_RATE_LIMIT: '1000000',
      LOG_LEVEL: 'error',
    });
    const url = `http://127.0.0.1:${port}`;
    await healthzOf(child, url);
    const tenant = await createTenant(url, ADMIN, []);
    system = { url, adminToken: ADMIN, accountId: tenant.accountId, key: tenant.key, config: env.config };
  }, 120_000);

  afterAll(async () => {
    if (child) {
      child.kill('SIGTERM');
      await exited(child);
    }
    await env?.cleanup();
  });

  test.each(ROUNDS.map((wabaId, i) => [i + 1, wabaId] as const))(
    'round %i (WABA %s): the REST API shows exactly the folded state of every round so far',
    { timeout: 240_000 },
    async (_round, wabaId) => {
      const scenario = soakScenario({ wabaId, bodies: BODIES, secret: FIXTURE_SECRET });
      // The scenario really is what the soak is about: duplicates, and far more events than bodies.
      expect(scenario.duplicates).toBeGreaterThan(0);
      expect(scenario.events).toBeGreaterThan(4 * BODIES);

      const result = await runRound({ system, expectation, scenario });

      expect(result.checks).toBeGreaterThan(scenario.distinct);
      expect(result.failed, describeMismatches(result.mismatches)).toBe(0);
      expect(result.mismatches).toEqual([]);
    },
  );
});
