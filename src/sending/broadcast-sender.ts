// The broadcast sender: reads the send records (one per recipient, keyed by broadcast) and sends each pending
// recipient its template through the Graph API, throttled per phone number, at most once. Before each send it checks
// again what may have changed since the broadcast was created: the broadcast stopped, its template no longer
// approved (the broadcast then stops, and its remaining recipients are skipped as such), the contact opted out
// anywhere in the account. A recipient is claimed (sending) before Meta is called; a sender that dies mid-call leaves
// it in doubt, and the in-doubt sweep sends it again only when no status of its message came back within
// BROADCAST_IN_DOUBT_SECONDS (the message names its recipient in biz_opaque_callback_data; src/actors/apply.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { type Clock } from '../core/clock.ts';
import { isAppError, type AppError } from '../core/errors.ts';
import { type Logger } from '../core/log.ts';
import { type ConsumedRecord, type EventProducer, type Events, type RunningConsumer } from '../events/port.ts';
import { type Topics } from '../events/topics.ts';
import { type AccountStore } from '../store/accounts.ts';
import { type BroadcastDoc, type BroadcastStore } from '../store/broadcasts.ts';
import { type ConnectionStore } from '../store/connections.ts';
import { type ContactReads } from '../store/contacts.ts';
import { type BroadcastRecipientDoc, type TemplateDoc } from '../store/docs.ts';
import { type BroadcastSendRecord } from './broadcast.ts';
import { type GraphClient } from './graph.ts';
import { graphMessage } from './reply.ts';
import { isMarketing } from './rules.ts';
import { createThrottle } from './throttle.ts';

/** The sender's consumer group. Deliberately no autoscaling trigger (deploy/k8s/delivery.yaml): its backlog is paced
 *  by Meta's throughput tier, not by the number of replicas, and a broadcast's records sit on one partition. */
export const broadcastSenderGroup = (groupPrefix: string, topics: Topics) =>
  ({ groupId: `${groupPrefix}echocue.broadcast.sender`, topics: [topics.broadcastSends] }) as const;

export type BroadcastSenderDeps = Readonly<{
  events: Events;
  groupId: string;
  topics: Topics;
  broadcasts: BroadcastStore;
  connections: Pick<ConnectionStore, 'get' | 'openToken'>;
  contacts: Pick<ContactReads, 'optOutsByWaId'>;
  accounts: Pick<AccountStore, 'wabasOf'>;
  templateByName: (wabaId: string, name: string, language: string) => Promise<TemplateDoc | null>;
  graph: Pick<GraphClient, 'sendMessage'>;
  producer: EventProducer;
  clock: Clock;
  log: Logger;
  /** BROADCAST_MESSAGES_PER_SECOND: each phone number's throughput (Meta's tier: 80 by default, up to 1,000). */
  perSecond: number;
  /** BROADCAST_SEND_CONCURRENCY: sends in flight at once per partition batch. */
  concurrency: number;
  /** BROADCAST_IN_DOUBT_SECONDS in ms. */
  inDoubtMs: number;
  /** Partitions worked at once. */
  partitions: number;
  produceTimeoutMs: number;
  /** The first rate-limit backoff (doubling per attempt, at most 60 s); tests shorten it. */
  backoffMs?: number;
}>;

/** Meta's template errors that end a broadcast: the template does not exist, is paused, or is disabled. */
const TEMPLATE_STOPS: Readonly<Record<number, string>> = {
  132001: 'template_deleted',
  132015: 'template_paused',
  132016: 'template_disabled',
};
/** Sends of one recipient tried before its batch fails (and comes again later). */
const MAX_ATTEMPTS = 6;
/** How long a template's state is trusted before it is read again (a pause mid-broadcast stops within this). */
const TEMPLATE_TTL_MS = 500;

export const sendRecord = (topics: Topics, r: BroadcastSendRecord) => ({
  topic: topics.broadcastSends,
  key: r.broadcast_id,
  value: Buffer.from(JSON.stringify(r)),
});

function parse(r: ConsumedRecord): BroadcastSendRecord | null {
  try {
    const v = JSON.parse(r.value?.toString('utf8') ?? '') as Partial<BroadcastSendRecord>;
    return typeof v.broadcast_id === 'string' && typeof v.recipient_id === 'string'
      ? { broadcast_id: v.broadcast_id, recipient_id: v.recipient_id }
      : null;
  } catch {
    return null;
  }
}

export async function startBroadcastSender(deps: BroadcastSenderDeps): Promise<RunningConsumer> {
  const log = deps.log.child({ component: 'broadcast-sender' });
  const throttle = createThrottle(deps.perSecond, deps.clock);
  const backoffMs = deps.backoffMs ?? 1000;
  const templates = new Map<string, { at: number; doc: TemplateDoc | null }>();

  async function templateOf(b: BroadcastDoc): Promise<TemplateDoc | null> {
    const key = `${b.waba_id}|${b.template.name}|${b.template.language}`;
    const cached = templates.get(key);
    const now = deps.clock.now().getTime();
    if (cached && now - cached.at < TEMPLATE_TTL_MS) return cached.doc;
    const doc = await deps.templateByName(b.waba_id, b.template.name, b.template.language);
    templates.set(key, { at: now, doc });
    return doc;
  }

  /** Why this recipient is not sent now (the broadcast stopped, the template changed, the contact opted out). */
  async function reasonToSkip(b: BroadcastDoc, r: BroadcastRecipientDoc, wabaIds: readonly string[]): Promise<string | null> {
    const fresh = await deps.broadcasts.broadcastById(b._id);
    if (fresh?.stopped) return `broadcast_stopped:${fresh.stopped.reason}`;
    const template = await templateOf(b);
    if (!template?.broadcastable) {
      const reason = `template_${template?.whatsapp_status ?? 'deleted'}`;
      await deps.broadcasts.stop(b._id, reason, deps.clock.now());
      log.warn({ broadcast: b._id, reason }, 'broadcast stopped: its template is no longer sent by Meta');
      return `broadcast_stopped:${reason}`;
    }
    const optOut = (await deps.contacts.optOutsByWaId(wabaIds, [r.wa_id!])).get(r.wa_id!);
    if (optOut?.all) return 'opted_out';
    if (optOut?.marketing && isMarketing(template.category)) return 'marketing_opted_out';
    return null;
  }

  async function sendOne(b: BroadcastDoc, rec: BroadcastSendRecord, token: string, wabaIds: readonly string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const r = await deps.broadcasts.recipient(rec.recipient_id);
      // Sent (a status of its message names it), skipped, failed, or in doubt (the sweep's): nothing to do here.
      if (!r || r.status !== 'pending' || r.wamid || !r.wa_id) return;
      const skip = await reasonToSkip(b, r, wabaIds);
      if (skip) return deps.broadcasts.skip(r._id, skip, deps.clock.now());
      await throttle.take(b.phone_number_id);
      if (!(await deps.broadcasts.claim(r._id, deps.clock.now()))) return;
      let failure: AppError;
      try {
        const { wamid } = await deps.graph.sendMessage(
          b.phone_number_id,
          token,
          graphMessage(r.wa_id, { type: 'template', template: { ...b.template, components: b.template.components ?? undefined } }, r._id),
        );
        await deps.broadcasts.accepted(r._id, wamid, deps.clock.now());
        return;
      } catch (err) {
        if (!isAppError(err)) throw err;
        failure = err;
      }
      const meta = (failure.details?.['meta_error'] as { code: number | null; message: string } | null) ?? null;
      if (failure.code === 'EC_GRAPH_REFUSED') {
        await deps.broadcasts.failed(r._id, { code: meta?.code ?? null, message: meta?.message ?? failure.message }, deps.clock.now());
        const stop = meta?.code != null ? TEMPLATE_STOPS[meta.code] : undefined;
        if (stop) await deps.broadcasts.stop(b._id, stop, deps.clock.now());
        return;
      }
      if (failure.details?.['outcome_unknown'] === true) {
        log.warn({ broadcast: b._id, recipient: r._id }, 'a send reached Meta and no answer came: in doubt until a status names it');
        return;
      }
      await deps.broadcasts.release(r._id, deps.clock.now());
      const wait = Math.min(backoffMs * 2 ** (attempt - 1), 60_000);
      if (failure.details?.['rate_limited'] === true && meta?.code !== 131056) throttle.pause(b.phone_number_id, wait);
      else await sleep(wait); // the pair rate limit (131056) and other transient failures: this recipient waits
      if (attempt >= MAX_ATTEMPTS) throw failure; // the batch comes again later
    }
  }

  async function handleBatch(records: readonly ConsumedRecord[]): Promise<void> {
    const recs = records.map(parse).filter((r): r is BroadcastSendRecord => r !== null);
    const byBroadcast = new Map<string, { b: BroadcastDoc | null; token: string | null; wabaIds: readonly string[] }>();
    for (const id of new Set(recs.map((r) => r.broadcast_id))) {
      const b = await deps.broadcasts.broadcastById(id);
      const connection = b ? await deps.connections.get(b.account_id, b.phone_number_id) : null;
      const token = connection?.state === 'connected' ? deps.connections.openToken(connection) : null;
      if (b && token === null) await deps.broadcasts.stop(b._id, 'number_not_connected', deps.clock.now());
      byBroadcast.set(id, { b, token, wabaIds: b ? await deps.accounts.wabasOf(b.account_id) : [] });
    }
    let next = 0;
    const worker = async () => {
      while (next < recs.length) {
        const rec = recs[next++]!;
        const { b, token, wabaIds } = byBroadcast.get(rec.broadcast_id)!;
        if (!b) continue; // a record of no broadcast (deleted data): nothing to send
        if (token === null) {
          const r = await deps.broadcasts.recipient(rec.recipient_id);
          if (r?.status === 'pending') await deps.broadcasts.skip(r._id, 'broadcast_stopped:number_not_connected', deps.clock.now());
          continue;
        }
        await sendOne(b, rec, token, wabaIds);
      }
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency, recs.length) }, worker));
  }

  /** In-doubt sends older than the grace period, with no status naming them: pending again, and queued. */
  async function sweep(): Promise<void> {
    const stuck = await deps.broadcasts.inDoubt(new Date(deps.clock.now().getTime() - deps.inDoubtMs), 500);
    const requeue: BroadcastSendRecord[] = [];
    for (const r of stuck)
      if (await deps.broadcasts.resetInDoubt(r, deps.clock.now())) requeue.push({ broadcast_id: r.broadcast_id, recipient_id: r._id });
    if (requeue.length === 0) return;
    await deps.producer.send(
      requeue.map((r) => sendRecord(deps.topics, r)),
      { timeoutMs: deps.produceTimeoutMs },
    );
    log.warn({ recipients: requeue.length }, 'in-doubt broadcast sends with no status since BROADCAST_IN_DOUBT_SECONDS: sent again');
  }

  const consumer = await deps.events.runBatchConsumer({
    groupId: deps.groupId,
    topics: [deps.topics.broadcastSends],
    log,
    concurrency: deps.partitions,
    handleBatch,
  });
  let sweeping: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      sweeping = sweeping.then(sweep).catch((err: unknown) => log.warn({ err }, 'the in-doubt sweep failed; it runs again'));
    },
    Math.max(500, Math.min(deps.inDoubtMs / 2, 60_000)),
  );
  return {
    health: () => consumer.health(),
    stop: async () => {
      clearInterval(timer);
      await sweeping;
      await consumer.stop();
    },
  };
}
