// Koa receiver for Meta: GET handshake, POST with raw-body signature check -> typed events -> Kafka (acks=all) -> 200.
// Acknowledges only when Kafka holds every event of the POST; otherwise 503 so that Meta redelivers.
import Koa, { type Context } from 'koa';
import Router from '@koa/router';
import getRawBody from 'raw-body';
import { AppError } from '../core/errors.ts';
import { errorMiddleware } from '../core/http-errors.ts';
import { type Logger } from '../core/log.ts';
import { type Metrics } from '../core/metrics.ts';
import { requestContext, requestLog } from '../core/request-id.ts';
import { type Clock } from '../core/clock.ts';
import { type EventRecord, type EventProducer } from '../events/port.ts';
import { type EventSerde } from '../events/serde.ts';
import { type Topics } from '../events/topics.ts';
import { parseJsonLossless } from './parse-json.ts';
import { splitPayload } from './split/split-payload.ts';
import { checkHandshake } from './verify-token.ts';
import { verifySignature } from './verify-signature.ts';

export const WEBHOOK_PATH = '/v1/whatsapp/webhook';
/** Meta sends up to 3 MB (1000 batched updates): docs/meta-webhooks.md §1.2. 3 MiB is the largest body accepted. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export type IngestDeps = Readonly<{
  appSecrets: readonly string[];
  verifyToken: string;
  ackTimeoutMs: number;
  producer: EventProducer;
  serde: EventSerde;
  topics: Topics;
  /** Which EchoCue account owns a WABA (null: none yet). */
  accountOf: (wabaId: string) => string | null;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
}>;

async function readBody(ctx: Context): Promise<Buffer> {
  try {
    return await getRawBody(ctx.req, { limit: MAX_BODY_BYTES, length: ctx.get('content-length') || undefined });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      throw new AppError('EC_BODY_TOO_LARGE', `request body exceeds ${MAX_BODY_BYTES} bytes`);
    }
    throw new AppError('EC_BODY_NOT_JSON', `request body could not be read: ${(err as Error).message}`, { cause: err });
  }
}

export function createIngestApp(deps: IngestDeps): Koa {
  const log = deps.log.child({ component: 'ingest' });
  const router = new Router();

  router.get(WEBHOOK_PATH, (ctx) => {
    const result = checkHandshake(ctx.query as Record<string, unknown>, deps.verifyToken);
    if (!result.ok) throw new AppError('EC_VERIFY_TOKEN_INVALID', result.reason);
    ctx.type = 'text/plain';
    ctx.body = result.challenge;
  });

  router.post(WEBHOOK_PATH, async (ctx) => {
    const started = performance.now();
    try {
      await handlePost(ctx);
    } catch (err) {
      if (err instanceof AppError) deps.metrics.webhookRejected.inc({ code: err.code });
      throw err;
    } finally {
      deps.metrics.ingestLatency.observe((performance.now() - started) / 1000);
    }
  });

  async function handlePost(ctx: Context): Promise<void> {
    if (!ctx.is('application/json')) {
      throw new AppError('EC_UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
    }
    const raw = await readBody(ctx);
    const sig = verifySignature(raw, ctx.get('x-hub-signature-256') || undefined, deps.appSecrets);
    if (!sig.ok) throw new AppError(sig.code, sig.reason);

    let body: unknown;
    try {
      body = parseJsonLossless(raw.toString('utf8'));
    } catch (err) {
      throw new AppError('EC_BODY_NOT_JSON', `body is not valid JSON: ${(err as Error).message}`);
    }

    const receivedAt = deps.clock.now().getTime();
    const outcome = splitPayload(body, { receivedAt, accountOf: deps.accountOf });
    const events = outcome.kind === 'events' ? outcome.events : [];
    // Encode everything before writing anything: a value that does not fit its schema fails the whole POST.
    const records: EventRecord[] = events.map((e) => ({
      topic: deps.topics.events[e.eventType],
      key: e.key,
      value: deps.serde.encode(deps.topics.events[e.eventType], e.value),
      headers: { event_type: e.eventType, event_id: String(e.value['event_id']) },
    }));
    // The exact bytes of every signed JSON POST go to the raw topic too, for audit and replay.
    records.push({
      topic: deps.topics.raw,
      key: (outcome.kind === 'events' ? outcome.wabaIds[0] : undefined) ?? 'none',
      value: raw,
      headers: {
        'content-type': ctx.get('content-type'),
        'x-hub-signature-256': ctx.get('x-hub-signature-256'),
        'user-agent': ctx.get('user-agent'),
        'received-at': new Date(receivedAt).toISOString(),
        'event-count': String(events.length),
      },
    });
    await deps.producer.send(records, { timeoutMs: deps.ackTimeoutMs });

    if (outcome.kind === 'ignored') {
      // A signed body that is not a WhatsApp Business Account payload: 200, or Meta would retry it for 7 days.
      deps.metrics.webhookIgnored.inc();
      requestLog(ctx, log).warn({ reason: outcome.reason }, 'ignored a signed webhook that is not a WABA payload');
      ctx.body = { status: 'ignored', reason: outcome.reason };
      return;
    }
    for (const e of events) {
      deps.metrics.eventsProduced.inc({ event_type: e.eventType });
      if (e.value['account_id'] === null) deps.metrics.unownedWabaEvents.inc();
    }
    // EchoCue's event ids only (hashes): a wamid encodes the phone number, a body holds the texts.
    requestLog(ctx, log).debug({ eventIds: events.map((e) => String(e.value['event_id'])) }, 'webhook accepted');
    ctx.body = { status: 'accepted', events: events.length };
  }

  const app = new Koa();
  app.use(requestContext(log));
  app.use(async (ctx, next) => {
    await next(); // outside the error middleware, so failures are counted with their final status
    if (ctx.path === WEBHOOK_PATH && ctx.method === 'POST') deps.metrics.webhookRequests.inc({ status: String(ctx.status) });
  });
  app.use(errorMiddleware(log));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
