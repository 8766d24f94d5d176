// The soak derives its expected state by folding the bodies in the order they were sent, while the real actors see
// them in another order (each event type has its own topic, batches interleave). That is sound only if the fold does
// not depend on the order, which is what the actors promise (docs/decisions/0005-actors.md: order-free reducers).
// Checked here on the full-size scenario of the bench stage, folded as sent and reversed; the same comparison as
// the soak names any difference.
import { describe, expect, test } from 'vitest';
import { compareStates, describeMismatches } from '../../harness/soak/compare.ts';
import { Expectation, type ExpectedState } from '../../harness/soak/expected.ts';
import { type ApiState } from '../../harness/soak/read-back.ts';
import { soakScenario } from '../../harness/soak/scenario.ts';

async function folded(bodies: readonly string[]): Promise<ExpectedState> {
  const e = new Expectation();
  await e.fold(bodies);
  expect(e.rejected).toEqual([]);
  return e.render();
}

const asAnswered = (x: ExpectedState, now: Date): ApiState => ({
  threads: x.threads,
  templates: x.templates,
  messages: x.messages,
  contacts: x.contacts,
  notifications: x.notifications,
  windows: new Map(x.threads.map((t) => [t['id'] as string, x.window(t['id'] as string, now)])),
  requests: 0,
});

describe('soak > expected state', () => {
  test('the full-size scenario folds to the same state as sent and in reverse order', { timeout: 120_000 }, async () => {
    const bodies = soakScenario({ wabaId: '500000000001001', bodies: 600, secret: 'test-secret' }).posts.map((p) => p.body);
    const now = new Date();
    const sent = await folded(bodies);
    const reversed = await folded([...bodies].reverse());
    const r = compareStates(sent, asAnswered(reversed, now), now);
    expect(r.checks).toBeGreaterThan(bodies.length);
    expect(r.mismatches, describeMismatches(r.mismatches)).toEqual([]);
  });
});
