// What an operator sees from `echocue serve` with every role: no client warning printed at each start (kafkajs's
// "Limiting retries for the idempotent producer may invalidate EoS guarantees" came with its producer, issue 13;
// Node's TimeoutNegativeWarning with its consumer on Node >= 23), while the fixtures are ingested and applied.
import { type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixtures, testEnv, waitFor, type TestEnv } from '../helpers/env.ts';
import { postFixture } from '../helpers/http.ts';
import { exited, lastLogLines, serveProcess } from '../helpers/process.ts';
import { waitForActors } from '../../harness/topics.ts';

describe('cli > serve output', () => {
  let env: TestEnv;
  let child: ChildProcess | undefined;
  let stderr = '';

  beforeAll(() => {
    env = testEnv();
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await env?.cleanup();
  });

  test('all roles start, take the fixtures and stop without a client warning on stdout or stderr', { timeout: 120_000 }, async () => {
    child = serveProcess(env, 'ingest,actors,delivery,api', { LOG_LEVEL: 'info' }, { captureStderr: true });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const url = await waitFor(
      async () => /"url":"(http:\/\/[^"]+)".*EchoCue is running/.exec(lastLogLines(child!))?.[1],
      60_000,
      'the serve process to listen',
    );
    for (const f of fixtures()) expect((await postFixture(url, f)).status, f.file).toBe(200);
    await waitForActors(env.config, 60_000);
    child.kill('SIGTERM');
    await exited(child);
    const output = `${lastLogLines(child)}\n${stderr}`;
    expect(output).toContain('EchoCue is running');
    expect(output).not.toMatch(/Limiting retries|invalidate EoS|TimeoutNegativeWarning/);
    expect(stderr).toBe('');
  });
});
