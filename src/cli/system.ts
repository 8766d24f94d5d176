// The composition root: the only place that creates MongoDB, Kafka, registry and HTTP clients and wires modules.
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Config } from '../config/index.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { AppError, type ErrorCode } from '../core/errors.ts';
import { type Logger } from '../core/log.ts';
import { createMetrics } from '../core/metrics.ts';
import { registerConsumerLag, type LagGroup } from '../events/consumer-lag.ts';
import { eventSerdeOf, kafkaEventsOf, topicSettingsOf } from './kafka.ts';
import { type RunningConsumer } from '../events/port.ts';
import { assertSamePartitionCount, assertTopicDurability } from '../events/topic-checks.ts';
import { topicNames } from '../events/topics.ts';
import { createIngestApp } from '../ingest/app.ts';
import { createApiApp } from '../api/app.ts';
import { ACTOR_EVENT_TYPES } from '../actors/apply.ts';
import { threadReadRecord } from '../events/thread-read.ts';
import { actorsGroup, startActors } from '../actors/consumer.ts';
import { createActorStore } from '../store/actor-store.ts';
import { createMongoClient } from '../store/client.ts';
import { createReadiness, type ReadinessCheck } from './readiness.ts';
import { judgeConsumers } from '../events/consumer-health.ts';
import { createAccountStore } from '../store/accounts.ts';
import { ensureIndexes } from '../store/collections.ts';
import { createThreadReads } from '../store/threads.ts';
import { createMessageReads } from '../store/messages.ts';
import { createTemplateReads } from '../store/templates.ts';
import { createContactReads } from '../store/contacts.ts';
import { createBroadcastStore } from '../store/broadcasts.ts';
import { createSecretBox } from '../core/secret-box.ts';
import { readFileSync } from 'node:fs';
import { createWebhookStore } from '../store/webhooks.ts';
import { createEndpointHealthStore } from '../store/endpoint-health.ts';
import { createEndpointRates } from '../store/endpoint-rates.ts';
import { deliveryGroups, startDeliveryRole } from '../delivery/role.ts';
import { createSender } from '../delivery/send.ts';
import { queueAttempts } from '../delivery/queue.ts';
import { startRetentionJob } from '../delivery/retention.ts';
import { startOwnerCache } from './owner-cache.ts';
import { createGraphClient } from '../sending/graph.ts';
import { signUp } from '../sending/signup.ts';
import { sendReply } from '../sending/reply.ts';
import { createConnectionStore } from '../store/connections.ts';
import { createSendStore } from '../store/sends.ts';
import { sentMessageRecord } from '../events/sent-message.ts';
import { createBroadcast } from '../sending/broadcast.ts';
import { broadcastSenderGroup, sendRecord, startBroadcastSender } from '../sending/broadcast-sender.ts';
import { createAudienceStore } from '../store/audiences.ts';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const ROLES = ['ingest', 'actors', 'delivery', 'api'] as const;

/** How long one Embedded Signup call holds its number: longer than its five Graph API calls at their deadline. */
const SIGNUP_LEASE_MS = 120_000;
export type Role = (typeof ROLES)[number];

/** `url`: the public listener (webhook, API, dashboard, probes); `metricsUrl`: the metrics listener's base URL. */
export type RunningSystem = Readonly<{ url: string; port: number; metricsUrl: string; stop(): Promise<void> }>;

/** One start-up step against a dependency: a failure stops start-up with `code` (the dependency that failed; never
 *  EC_CONFIG_INVALID for an outage), naming what was tried and what to do. An AppError of another code (a refused
 *  setting, say) passes through as it is. */
async function step<T>(code: ErrorCode, what: string, hint: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError && err.code !== code) throw err;
    throw new AppError(code, `${what}: ${String((err as Error).message).replace(/\.+$/, '')}. ${hint}`, { cause: err });
  }
}

/** Listens on host:port (0: any free port) and answers the port; a failure is EC_LISTEN_FAILED naming the variables. */
function listen(server: Server, host: string, port: number, vars: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', (err) => reject(new AppError('EC_LISTEN_FAILED', `cannot listen on ${host}:${port} (${vars}): ${err.message}`)));
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

const baseUrl = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

/** Stops taking connections and lets the requests in flight finish (a webhook POST waiting for Kafka, an API read),
 *  closing idle keep-alive connections at once; whatever still runs after `deadlineMs` is cut. Meta retries a POST
 *  cut that way; one answered 200 was on Kafka before its answer. Issue 16, defect 7. */
function drain(server: Server, deadlineMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), deadlineMs);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Stops a consumer within SHUTDOWN_TIMEOUT_MS (issue 16, defect 7): it finishes its batch in flight and commits
 *  it when it can; past the deadline (a store that hangs, say) the batch is abandoned uncommitted, and the
 *  partition's next owner applies it again (at least once, and applying twice gives the same documents). */
async function stopWithin(what: string, stop: () => Promise<void>, deadlineMs: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deadlineMs);
  });
  const outcome = await Promise.race([stop().then(() => 'stopped' as const), late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    log.warn(
      { deadlineMs },
      `${what} did not stop within SHUTDOWN_TIMEOUT_MS: the batch in flight is abandoned uncommitted and will be applied again by the partition's next owner`,
    );
  }
}

/** Starts the given roles in this process. Tests call this with their own Config; `echocue serve` with the env's. */
export async function startSystem(opts: { config: Config; roles: readonly Role[]; log: Logger; clock?: Clock }): Promise<RunningSystem> {
  const { config, roles, log } = opts;
  const clock = opts.clock ?? systemClock;
  const has = (r: Role) => roles.includes(r);
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => log.warn({ err }, 'error while stopping'));
  };
  const localHint = 'Is the local stack up? Run `make up` (or set the variable to a reachable service).';

  try {
    const metrics = createMetrics();
    const mongo = createMongoClient(config.mongo, { metrics });
    await step('EC_STORE_UNAVAILABLE', `cannot connect to MongoDB (MONGODB_URI)`, localHint, () => mongo.connect());
    stops.push(() => mongo.close());
    const db = mongo.db();
    await step('EC_STORE_UNAVAILABLE', 'cannot create MongoDB indexes', localHint, () => ensureIndexes(db));
    const secretBox = createSecretBox(config.secrets.masterKeys);
    const accounts = createAccountStore(db, secretBox);
    const webhooks = createWebhookStore(db, secretBox);
    const health = createEndpointHealthStore(db);
    const rates = createEndpointRates(db);
    const topics = topicNames(config.kafka.topicPrefix);
    const events = kafkaEventsOf(config, log);
    stops.push(() => events.close());
    await step('EC_KAFKA_UNAVAILABLE', `cannot reach Kafka at ${config.kafka.brokers.join(',')} (KAFKA_BROKERS)`, localHint, () =>
      events.admin.ensureTopics(topics.all, topicSettingsOf(config)),
    );
    const floor = config.kafka.durabilityFloor;
    if (floor) {
      await step('EC_KAFKA_UNAVAILABLE', "cannot read the topics' replication settings", localHint, () =>
        assertTopicDurability(events.admin, topics.all, floor),
      );
    } else if (config.production) {
      log.warn(
        { replicationFactor: config.kafka.replicationFactor, minInsyncReplicas: config.kafka.minInsyncReplicas },
        'KAFKA_ALLOW_UNSAFE_DURABILITY=true: topics are not checked for replication; a lost broker may lose acknowledged events',
      );
    }
    const serde = await step(
      'EC_SCHEMA_REGISTRY_UNAVAILABLE',
      `cannot register schemas at ${config.registry.url} (SCHEMA_REGISTRY_URL)`,
      localHint,
      () => eventSerdeOf(config, topics),
    );

    // Every role needs all three: the store (ingest's tenancy cache too), Kafka (every role produces) and the registry.
    const checks: Record<string, ReadinessCheck> = {
      store: async () => void (await db.command({ ping: 1 })),
      kafka: async () => void (await events.admin.partitionCounts([topics.raw])),
      registry: async () => {
        const res = await fetch(`${config.registry.url.replace(/\/$/, '')}/subjects`, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`the schema registry answered ${res.status}`);
      },
    };
    // A consumer role is ready once its members joined their groups, while none gave up and no batch is stuck.
    const consumerCheck =
      (running: RunningConsumer): ReadinessCheck =>
      async () => {
        const verdict = judgeConsumers(running.health(), clock.now().getTime(), config.readiness.stuckAfterMs);
        if (!verdict.ok) throw new Error(verdict.error);
        return verdict.detail;
      };
    const lagGroups: LagGroup[] = []; // the groups this process runs, for the consumer-lag metrics
    const apps: { prefix: string; handler: ReturnType<ReturnType<typeof createIngestApp>['callback']> }[] = [];
    if (has('ingest')) {
      const owners = await startOwnerCache(() => accounts.allWabaOwners(), config.ingest.tenancyRefreshMs, log);
      stops.push(async () => owners.stop());
      const producer = await step('EC_KAFKA_UNAVAILABLE', 'cannot start the Kafka producer', localHint, () => events.createProducer());
      stops.push(() => producer.disconnect());
      const ingest = createIngestApp({
        appSecrets: config.meta.appSecrets,
        verifyToken: config.meta.verifyToken,
        ackTimeoutMs: config.ingest.ackTimeoutMs,
        producer,
        serde,
        topics,
        accountOf: owners.get,
        log,
        metrics,
        clock,
      });
      apps.push({ prefix: '/v1/whatsapp/', handler: ingest.callback() });
    }
    if (has('actors')) {
      await step('EC_CONFIG_INVALID', 'the actor topics are not co-partitioned', 'Give every topic the same partition count.', () =>
        assertSamePartitionCount(
          events.admin,
          ACTOR_EVENT_TYPES.map((t) => topics.events[t]),
        ),
      );
      const dlqProducer = await step('EC_KAFKA_UNAVAILABLE', 'cannot start the Kafka producer', localHint, () => events.createProducer());
      stops.push(() => dlqProducer.disconnect());
      const actorGroup = actorsGroup(config.kafka.topicPrefix, topics);
      lagGroups.push(actorGroup);
      const actors: RunningConsumer = await startActors({
        events,
        serde,
        topics,
        groupId: actorGroup.groupId,
        store: createActorStore(db, { clock, settleMs: config.api.changeSettleMs }),
        producer: dlqProducer,
        log,
        metrics,
        cacheMaxDocs: config.actors.cacheMaxDocs,
        concurrency: config.actors.partitionConcurrency,
        produceTimeoutMs: config.kafka.produceTimeoutMs,
      });
      stops.push(() => stopWithin('the actors', () => actors.stop(), config.http.shutdownTimeoutMs, log));
      checks['actors'] = consumerCheck(actors);
    }
    if (has('delivery')) {
      const producer = await step('EC_KAFKA_UNAVAILABLE', 'cannot start the Kafka producer', localHint, () => events.createProducer());
      stops.push(() => producer.disconnect());
      const sender = createSender({ timeoutMs: config.delivery.timeoutMs, allow: config.delivery.allowCidrs });
      stops.push(() => sender.close());
      const delivery = await startDeliveryRole({
        events,
        groupPrefix: config.kafka.topicPrefix,
        topics,
        webhooks,
        accounts,
        sender,
        producer,
        clock,
        delayScale: config.delivery.delayScale,
        disableAfterMs: config.delivery.disableAfterMs,
        failingNoticeAfterMs: config.delivery.failingNoticeAfterMs,
        health,
        rates,
        breaker: config.delivery.breaker,
        cacheTtlMs: config.delivery.cacheTtlMs,
        concurrency: config.delivery.partitionConcurrency,
        produceTimeoutMs: config.kafka.produceTimeoutMs,
        log,
        metrics,
      });
      const retention = startRetentionJob({
        webhooks,
        health,
        rates,
        clock,
        retentionMs: config.delivery.retentionMs,
        everyMs: config.delivery.retentionSweepMs,
        log,
        metrics,
      });
      stops.push(() => retention.stop());
      const graph = createGraphClient(config.graph);
      stops.push(() => graph.close());
      const broadcastGroup = broadcastSenderGroup(config.kafka.topicPrefix, topics);
      const templates = createTemplateReads(db);
      const broadcastSender = await startBroadcastSender({
        events,
        groupId: broadcastGroup.groupId,
        topics,
        broadcasts: createBroadcastStore(db),
        connections: createConnectionStore(db, secretBox),
        contacts: createContactReads(db),
        accounts,
        templateByName: (wabaId, name, language) => templates.byNameLanguage(wabaId, name, language),
        graph,
        producer,
        clock,
        log,
        perSecond: config.broadcast.perSecond,
        concurrency: config.broadcast.concurrency,
        inDoubtMs: config.broadcast.inDoubtMs,
        partitions: config.delivery.partitionConcurrency,
        produceTimeoutMs: config.kafka.produceTimeoutMs,
      });
      stops.push(() => stopWithin('the broadcast sender', () => broadcastSender.stop(), config.http.shutdownTimeoutMs, log));
      lagGroups.push(...deliveryGroups(config.kafka.topicPrefix, topics), broadcastGroup);
      stops.push(() => stopWithin('the delivery worker', () => delivery.stop(), config.http.shutdownTimeoutMs, log));
      checks['delivery'] = async () => {
        const details = [await consumerCheck(delivery)(), await consumerCheck(broadcastSender)()];
        return details.filter(Boolean).join('; ');
      };
    }
    if (has('api')) {
      const apiProducer = await step('EC_KAFKA_UNAVAILABLE', 'cannot start the Kafka producer', localHint, () => events.createProducer());
      stops.push(() => apiProducer.disconnect());
      const graph = createGraphClient(config.graph);
      stops.push(() => graph.close());
      const connections = createConnectionStore(db, secretBox);
      const sends = createSendStore(db);
      const threads = createThreadReads(db);
      const contacts = createContactReads(db);
      const templates = createTemplateReads(db);
      const broadcasts = createBroadcastStore(db);
      const api = createApiApp({
        accounts,
        threads,
        messages: createMessageReads(db),
        templates,
        contacts,
        broadcasts,
        audiences: createAudienceStore(db),
        createBroadcast: (req) =>
          createBroadcast(req, {
            broadcasts,
            connections,
            contacts,
            templateByName: (wabaId, name, language) => templates.byNameLanguage(wabaId, name, language),
            queueSends: (records) =>
              apiProducer.send(
                records.map((r) => sendRecord(topics, r)),
                { timeoutMs: config.kafka.produceTimeoutMs },
              ),
            clock,
          }),
        sending: {
          connections,
          threads,
          signUp: (input) => signUp(input, { graph, connections, accounts, clock, leaseMs: SIGNUP_LEASE_MS }),
          reply: (input) =>
            sendReply(input, {
              graph,
              sends,
              connections,
              contacts,
              templateByName: (wabaId, name, language) => templates.byNameLanguage(wabaId, name, language),
              writeSent: (m) => apiProducer.send([sentMessageRecord(topics, serde, m)], { timeoutMs: config.ingest.ackTimeoutMs }),
              clock,
            }),
        },
        webhooks,
        health,
        queueAttempts: (records) =>
          queueAttempts(
            apiProducer,
            topics,
            records.map((record) => ({ record, tier: 0 })),
            { timeoutMs: config.kafka.produceTimeoutMs },
          ),
        allowCidrs: config.delivery.allowCidrs,
        adminToken: config.api.adminToken,
        rateLimit: config.api.rateLimit,
        settleMs: config.api.changeSettleMs,
        markRead: (mark) => apiProducer.send([threadReadRecord(topics, serde, mark)], { timeoutMs: config.ingest.ackTimeoutMs }),
        version: PACKAGE_VERSION,
        clock,
        log,
        metrics,
      });
      apps.push({ prefix: '/api/', handler: api.callback() });
      apps.push({ prefix: '/dashboard/', handler: api.callback() });
    }

    registerConsumerLag(metrics.registry, { admin: events.admin, groups: lagGroups, log });
    const readiness = createReadiness(checks);
    const server: Server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/readyz') {
        readiness.check().then((r) => res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(r)));
        return;
      }
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', roles, pid: process.pid }));
        return;
      }
      const app = apps.find((a) => path.startsWith(a.prefix) || path === a.prefix.slice(0, -1));
      if (app) return void app.handler(req, res);
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'EC_NOT_FOUND', message: `no route for ${req.method} ${path}` } }));
    });
    // Metrics on a listener of their own (METRICS_HOST:METRICS_PORT), so the public port never shows them.
    const metricsServer: Server = createServer((req, res) => {
      if ((req.url ?? '/').split('?')[0] !== '/metrics')
        return void res.writeHead(404, { 'content-type': 'text/plain' }).end('only /metrics here\n');
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    const metricsPort = await listen(metricsServer, config.metrics.host, config.metrics.port, 'METRICS_HOST/METRICS_PORT');
    stops.push(() => drain(metricsServer, config.http.shutdownTimeoutMs));
    const port = await listen(server, config.http.host, config.http.port, 'HOST/PORT');
    stops.push(() => drain(server, config.http.shutdownTimeoutMs));
    const url = baseUrl(config.http.host, port);
    const metricsUrl = baseUrl(config.metrics.host, metricsPort);
    log.info({ url, metricsUrl, roles }, 'EchoCue is running');
    return { url, port, metricsUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
