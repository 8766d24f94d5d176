// Signed webhook bodies for the load generators: the shared Meta fixtures (a realistic mix of one update per POST)
// and generated batches of statuses and inbound messages, signed as Meta does.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { signBody } from '../../src/ingest/verify-signature.ts';
import { splitPayload } from '../../src/ingest/split/split-payload.ts';

export const FIXTURES_DIR = fileURLToPath(new URL('../../../shared/fixtures/meta/', import.meta.url));

/** One request body as sent: the exact bytes, its X-Hub-Signature-256, and how many events ingest splits it into. */
export type SignedBody = { body: string; signature: string; events: number };

/** Events ingest makes of a body (the same splitter, so events/s counts what EchoCue writes). */
export const eventCount = (body: string): number => {
  const out = splitPayload(JSON.parse(body), { receivedAt: Date.now(), accountOf: () => null });
  return out.kind === 'events' ? out.events.length : 0;
};

export const signed = (body: string, secret: string): SignedBody => ({ body, signature: signBody(body, secret), events: eventCount(body) });

/** Every fixture of shared/fixtures/meta, as stored (messages, statuses, templates, account and user updates). */
export function fixtureMix(secret: string): SignedBody[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => signed(readFileSync(join(FIXTURES_DIR, f), 'utf8'), secret));
}

export const WABA_A = '104719385562013';
export const PHONE_A = '112356789045671';

type Json = Record<string, unknown>;

export const statusItem = (wamid: string, recipient: string, seconds: number, status = 'delivered'): Json => ({
  id: wamid,
  status,
  timestamp: String(seconds),
  recipient_id: recipient,
  pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'utility' },
});

export const inboundItem = (wamid: string, from: string, seconds: number, text: string): Json => ({
  from,
  id: wamid,
  timestamp: String(seconds),
  type: 'text',
  text: { body: text },
});

/** The `value` of a `messages` change on one phone number. */
export const messagesValue = (phoneNumberId: string, parts: { contacts?: Json[]; messages?: Json[]; statuses?: Json[] }): Json => ({
  messaging_product: 'whatsapp',
  metadata: { display_phone_number: `1555${phoneNumberId.slice(-7)}`, phone_number_id: phoneNumberId },
  ...(parts.contacts ? { contacts: parts.contacts } : {}),
  ...(parts.messages ? { messages: parts.messages } : {}),
  ...(parts.statuses ? { statuses: parts.statuses } : {}),
});

export const webhookBody = (wabaId: string, values: Json[]): string =>
  JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: wabaId, changes: values.map((value) => ({ value, field: 'messages' })) }],
  });

/** `count` different bodies of `size` delivery statuses each (WABA A), as Meta batches them under load. */
export function statusBatches(secret: string, count: number, size = 100): SignedBody[] {
  const t = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, b) => {
    const statuses = Array.from({ length: size }, (_, i) =>
      statusItem(`wamid.bench.${t}.${b}.${i}`, `1555020${String(i).padStart(4, '0')}`, t + i, i % 3 === 0 ? 'read' : 'delivered'),
    );
    return signed(webhookBody(WABA_A, [messagesValue(PHONE_A, { statuses })]), secret);
  });
}

/** The traffic of the end-to-end stage: one POST per WABA batch, `size` events in all. */
export type E2eBatch = SignedBody & { probeWaId: string; probeWamid: string };

/**
 * A batch of `size` events on one WABA, like Meta's batched deliveries: 90 % delivery statuses of new outbound
 * messages, the rest inbound texts from a pool of 500 contacts, plus one inbound text from a new contact on the
 * probe phone number (its thread shows up in `GET /api/thread/list?phone_number_id=<probe phone>`). The first
 * status is the status probe (`GET /api/notification/{wamid}`).
 */
export function e2eBatch(
  secret: string,
  o: { run: string; seq: number; wabaId: string; phoneId: string; probePhoneId: string; size: number },
): E2eBatch {
  const t = Math.floor(Date.now() / 1000);
  const statusCount = Math.max(1, Math.round((o.size - 1) * 0.9));
  const inboundCount = Math.max(0, o.size - 1 - statusCount);
  const statuses = Array.from({ length: statusCount }, (_, i) =>
    statusItem(`wamid.e2e.${o.run}.${o.seq}.${i}`, `1555030${String(i).padStart(4, '0')}`, t),
  );
  const pool = Array.from({ length: inboundCount }, (_, i) => `155540${String((o.seq * inboundCount + i) % 500).padStart(5, '0')}`);
  const probeWaId = `1999${o.run}${String(o.seq).padStart(6, '0')}`;
  const body = webhookBody(o.wabaId, [
    messagesValue(o.phoneId, {
      contacts: pool.map((wa_id) => ({ profile: { name: `Contact ${wa_id.slice(-4)}` }, wa_id })),
      messages: pool.map((wa_id, i) => inboundItem(`wamid.e2e.${o.run}.${o.seq}.in${i}`, wa_id, t, `Hello, is ${i + 1} pm free?`)),
      statuses,
    }),
    messagesValue(o.probePhoneId, {
      contacts: [{ profile: { name: `Probe ${o.seq}` }, wa_id: probeWaId }],
      messages: [inboundItem(`wamid.e2e.${o.run}.${o.seq}.probe`, probeWaId, t, 'Probe: can I book a cleaning?')],
    }),
  ]);
  return { ...signed(body, secret), probeWaId, probeWamid: String(statuses[0]!['id']) };
}
