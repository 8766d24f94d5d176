// One soak round against a running EchoCue (ingest, actors and api): link the round's WABA to the tenant, POST the
// scenario's signed bodies `concurrency` at a time, wait until the actors have applied every event, then read
// everything back through the REST API and compare it with the expected state of all rounds so far.
// Shared by test/e2e/soak.test.ts and bench/stages/soak.ts; no vitest in here.
import { type Config } from '../../src/config/index.ts';
import { waitForActors } from '../topics.ts';
import { compareStates, type Comparison } from './compare.ts';
import { type Expectation } from './expected.ts';
import { apiReader, inParallel } from './read-back.ts';
import { type SoakScenario } from './scenario.ts';

export type SoakSystem = { url: string; adminToken: string; accountId: string; key: string; config: Config };

export type RoundResult = Comparison & {
  wabaId: string;
  bodies: number;
  distinct: number;
  duplicates: number;
  events: number;
  /** POSTs answered 503 (Kafka did not acknowledge in time) and sent again, as Meta does. */
  retried: number;
  /** POSTs whose connection broke (no answer at all), each sent again; the errors as fetch reported them. */
  connectionErrors: string[];
  /** From the first POST to the actors' consumer group having committed every record. */
  applySeconds: number;
  /** Reading everything back and comparing. */
  readSeconds: number;
  requests: number;
};

async function admin(system: SoakSystem, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${system.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
}

/** POSTs a body as Meta does: signed, and sent again after a 503 or a broken connection (Meta retries both), up to
 *  `attempts` times, waiting a little longer each time. Returns what had to be retried, so a caller can report it. */
export async function deliver(
  url: string,
  body: string,
  signature: string,
  attempts = 6,
): Promise<{ retried503: number; connectionErrors: string[] }> {
  const out = { retried503: 0, connectionErrors: [] as string[] };
  const last = attempts - 1;
  for (let attempt = 0; ; attempt++) {
    let status: number;
    let text: string;
    try {
      const res = await fetch(`${url}/v1/whatsapp/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
        body,
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
      out.connectionErrors.push(`${(err as Error).message}: ${cause?.code ?? ''} ${cause?.message ?? ''}`.trim());
      if (attempt >= last) throw err;
      await new Promise((r) => setTimeout(r, Math.min(500 * (attempt + 1), 3000)));
      continue;
    }
    if (status === 200) return out;
    if (status !== 503 || attempt >= last) throw new Error(`webhook POST answered ${status}: ${text}`);
    out.retried503++;
    await new Promise((r) => setTimeout(r, Math.min(500 * (attempt + 1), 3000)));
  }
}

export async function runRound(o: {
  system: SoakSystem;
  expectation: Expectation;
  scenario: SoakScenario;
  concurrency?: number;
  actorsTimeoutMs?: number;
}): Promise<RoundResult> {
  const { system, scenario } = o;
  // Folded first, so the expectation holds every round that was sent even when a round fails half-way.
  await o.expectation.fold(scenario.posts.map((p) => p.body));
  if (o.expectation.rejected.length > 0)
    throw new Error(`the scenario holds events the actors reject: ${o.expectation.rejected.slice(0, 5).join('; ')}`);
  await admin(system, `/api/admin/accounts/${system.accountId}/wabas`, { waba_id: scenario.wabaId });
  const started = performance.now();
  const delivered = await inParallel(scenario.posts, o.concurrency ?? 8, (p) => deliver(system.url, p.body, p.signature));
  await waitForActors(system.config, o.actorsTimeoutMs ?? 180_000);
  const applySeconds = (performance.now() - started) / 1000;

  const readStarted = performance.now();
  const { comparison, requests } = await readBackAndCompare(system.url, system.key, o.expectation);
  return {
    ...comparison,
    wabaId: scenario.wabaId,
    bodies: scenario.posts.length,
    distinct: scenario.distinct,
    duplicates: scenario.duplicates,
    events: scenario.events,
    retried: delivered.reduce((n, d) => n + d.retried503, 0),
    connectionErrors: delivered.flatMap((d) => d.connectionErrors),
    applySeconds,
    readSeconds: (performance.now() - readStarted) / 1000,
    requests,
  };
}

/** Reads everything the tenant's key can see through the REST API and compares it with the expectation's state. */
export async function readBackAndCompare(
  url: string,
  key: string,
  expectation: Expectation,
): Promise<{ comparison: Comparison; requests: number }> {
  const expected = expectation.render();
  // Contacts by a Meta id (their current wa_id, else BSUID): the id the actors gave a contact may be another than
  // the fold's (test/soak/compare.ts says why); every Meta id of a contact finds it.
  const contactRefs = [...expected.contacts.values()].map((c) => (c['wa_id'] ?? c['user_id']) as string);
  const api = await apiReader(url, key).read({ contactIds: contactRefs, wamids: expected.notifications.keys() });
  return { comparison: compareStates(expected, api, new Date()), requests: api.requests };
}
