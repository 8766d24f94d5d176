// Reads the environment once, validates it, and returns a frozen Config. Nothing else reads process.env.
import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { AppError } from '../core/errors.ts';

const isCidr = (s: string): boolean => {
  try {
    ipaddr.parseCIDR(s);
    return /\/\d{1,3}$/.test(s);
  } catch {
    return false;
  }
};

/** Local defaults: the stack started by deploy/local/stack.sh, and the fixture app secret of shared/fixtures/meta. */
export const LOCAL_DEFAULTS = {
  META_APP_SECRET: 'echocue-fixture-app-secret',
  META_VERIFY_TOKEN: 'echocue-local-verify-token',
  KAFKA_BROKERS: '127.0.0.1:19092',
  MONGODB_URI: 'mongodb://127.0.0.1:27027/echocue?retryWrites=false',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:18081/apis/ccompat/v7',
  /** A fixed, public development key: local data only. */
  MASTER_KEY: 'ZWNob2N1ZS1sb2NhbC1kZXZlbG9wbWVudC1rZXktMzI=',
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const intIn = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const brokerList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'each broker must be host:port'))
      .min(1, 'must name at least one broker (host:port, comma-separated)'),
  );

const secretList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().min(8, 'each secret must be at least 8 characters')).min(1, 'must hold at least one secret'));

const masterKeyList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(
        z
          .string()
          .regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'each key must be base64')
          .transform((k) => Buffer.from(k, 'base64'))
          .refine((b) => b.length === 32, 'each key must be 32 bytes, base64 encoded (openssl rand -base64 32)'),
      )
      .min(1, 'must hold at least one key'),
  );

const EnvSchema = z.object({
  NODE_ENV: z.string().optional(),
  META_APP_SECRET: secretList.optional(),
  META_VERIFY_TOKEN: z.string().min(8, 'must be at least 8 characters').optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: intIn(0, 65535).default(8080), // 0: any free port (tests)
  /** Prometheus metrics listen on their own address, off the public port (issue 17). */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: intIn(0, 65535).default(9464), // Prometheus' default exporter port; 0: any free port
  /** On SIGTERM: how long requests in flight may take to finish before their connections are closed. */
  SHUTDOWN_TIMEOUT_MS: intIn(0, 600_000).default(10_000),
  KAFKA_BROKERS: brokerList.optional(),
  KAFKA_CLIENT_ID: z.string().min(1).default('echocue'),
  KAFKA_REQUEST_TIMEOUT_MS: intIn(500, 120_000).default(10_000),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'may hold only letters, digits, ".", "_" and "-"')
    .default(''),
  KAFKA_PARTITIONS: intIn(1, 1000).default(6),
  /** How long a write of the actors and the delivery side (notifications, dead letters, next attempts) waits for
   *  Kafka's acknowledgement before the batch fails and is retried (ingest has INGEST_ACK_TIMEOUT_MS). */
  KAFKA_PRODUCE_TIMEOUT_MS: intIn(500, 120_000).default(10_000),
  /** How long a consumer group member may stay silent before the broker gives its partitions to another member: a
   *  crashed process's partitions wait this long. Within the broker's group.min/max.session.timeout.ms defaults. */
  KAFKA_SESSION_TIMEOUT_MS: intIn(6000, 300_000).default(30_000),
  KAFKA_REPLICATION_FACTOR: intIn(1, 10).default(1),
  KAFKA_MIN_INSYNC_REPLICAS: intIn(1, 10).optional(),
  KAFKA_ALLOW_UNSAFE_DURABILITY: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((v) => v === 'true')
    .default(false),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .optional(),
  SCHEMA_REGISTRY_URL: z.url({ message: 'must be an http(s) URL' }).optional(),
  INGEST_ACK_TIMEOUT_MS: intIn(100, 60000).default(5000),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  MASTER_KEY: masterKeyList.optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  API_RATE_LIMIT: intIn(1, 1_000_000).default(600),
  API_RATE_WINDOW_SECONDS: intIn(1, 86400).default(60),
  API_CHANGE_SETTLE_MS: intIn(0, 600000).default(5000),
  DELIVERY_DELAY_SCALE: z
    .string()
    .trim()
    .regex(/^(\d+(\.\d+)?|\d+\/\d+)$/, 'must be a number like 1, 0.001 or 1/1000')
    .transform((v) => (v.includes('/') ? Number(v.split('/')[0]) / Number(v.split('/')[1]) : Number(v)))
    .pipe(z.number().gt(0, 'must be above 0').max(1, 'must be at most 1 (delays are never lengthened)'))
    .default(1),
  DELIVERY_TIMEOUT_MS: intIn(100, 60000).default(10000),
  DELIVERY_ALLOW_CIDRS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().refine(isCidr, 'each entry must be a CIDR such as 127.0.0.1/32 or ::1/128')))
    .default([]),
  ENDPOINT_DISABLE_AFTER_SECONDS: intIn(1, 90 * 86400).default(5 * 86400),
  /** A streak of failed attempts this long writes a `failing` notice for the endpoint (GET /api/webhooks/notices). */
  ENDPOINT_FAILING_NOTICE_SECONDS: intIn(0, 90 * 86400).default(300),
  DELIVERY_CACHE_TTL_MS: intIn(0, 600_000).default(2000),
  /** Attempts in a row to one endpoint that timed out or could not connect, which open its circuit (its attempts then wait, unsent). */
  DELIVERY_BREAKER_FAILURES: intIn(1, 1000).default(5),
  /** How long an open circuit waits before one probe attempt (times DELIVERY_DELAY_SCALE, like the retry delays). */
  DELIVERY_BREAKER_COOLDOWN_MS: intIn(100, 3_600_000).default(30_000),
  /** Ended deliveries and their attempt logs are deleted after this many days without a change. */
  DELIVERY_RETENTION_DAYS: intIn(1, 3650).default(30),
  /** How often each delivery process sweeps for them. */
  DELIVERY_RETENTION_SWEEP_SECONDS: intIn(1, 86_400).default(3600),
  MONGODB_MAX_POOL_SIZE: intIn(1, 1000).default(20),
  MONGODB_TIMEOUT_MS: intIn(100, 600_000).default(15_000),
  ACTORS_CACHE_MAX_DOCS: intIn(0, 10_000_000).default(50_000),
  /** Partitions one actors process applies at once (each batch's store round trips overlap with the others'). */
  ACTORS_PARTITION_CONCURRENCY: intIn(1, 64).default(2),
  /** Partitions of the attempt tiers one delivery process works at once, and of the notifications its planner reads. */
  DELIVERY_PARTITION_CONCURRENCY: intIn(1, 64).default(6),
  /** How often ingest re-reads which account owns each WABA (a new link routes within this time). */
  TENANCY_REFRESH_MS: intIn(100, 600_000).default(5000),
  /** GET /readyz says a consumer is stuck when one batch has been in its handler longer than this. */
  READINESS_STUCK_AFTER_MS: intIn(1000, 3_600_000).default(60_000),
  /** The Meta app EchoCue signs up businesses with (Embedded Signup's code exchange needs its id and secret). */
  META_APP_ID: z
    .string()
    .regex(/^\d{5,20}$/, 'must be a Meta app id (5 to 20 digits)')
    .optional(),
  /** Meta's Graph API: its base URL (tests point it at a fake on loopback) and version. */
  META_GRAPH_URL: z.url({ message: 'must be an http(s) URL' }).default('https://graph.facebook.com'),
  META_GRAPH_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/, 'must be a Graph API version like v23.0')
    .default('v23.0'),
  /** Broadcast sends per second per phone number (Meta's throughput tier: 80 by default, up to 1,000). */
  BROADCAST_MESSAGES_PER_SECOND: intIn(1, 1000).default(80),
  /** Broadcast sends in flight at once per partition of the send topic. */
  BROADCAST_SEND_CONCURRENCY: intIn(1, 256).default(16),
  /** A broadcast send whose sender died mid-call is sent again only after this long without any status of it. */
  BROADCAST_IN_DOUBT_SECONDS: intIn(1, 7 * 86_400).default(900),
  /** Deadline of one Graph API call (connect, answer and body). */
  META_GRAPH_TIMEOUT_MS: intIn(100, 120_000).default(15_000),
});

export type Config = Readonly<{
  /** True when NODE_ENV=production: real secrets and endpoints are then required. */
  production: boolean;
  meta: Readonly<{ appSecrets: readonly string[]; verifyToken: string }>;
  http: Readonly<{ host: string; port: number; shutdownTimeoutMs: number }>;
  /** Where GET /metrics listens (METRICS_HOST, METRICS_PORT): never the public port. */
  metrics: Readonly<{ host: string; port: number }>;
  /** GET /readyz: a consumer with a batch in its handler for longer than stuckAfterMs is not ready. */
  readiness: Readonly<{ stuckAfterMs: number }>;
  kafka: Readonly<{
    brokers: readonly string[];
    clientId: string;
    /** How long the client waits for a broker's answer to one request before retrying it. */
    requestTimeoutMs: number;
    topicPrefix: string;
    partitions: number;
    replicationFactor: number;
    /** `min.insync.replicas` of the topics EchoCue creates: acks=all writes need this many replicas in sync. */
    minInsyncReplicas: number;
    /** What the existing topics must have at start-up (production without KAFKA_ALLOW_UNSAFE_DURABILITY), else null. */
    durabilityFloor: DurabilityFloor | null;
    /** How long the actors' and the delivery side's writes wait for acknowledgement. */
    produceTimeoutMs: number;
    /** The consumer groups' session timeout: how long a crashed member's partitions wait for another member. */
    sessionTimeoutMs: number;
  }>;
  mongo: Readonly<{
    uri: string;
    /** Connections per process (the driver's maxPoolSize). */
    maxPoolSize: number;
    /** Deadline of every store call: waiting for a pooled connection, and silence on an open one. */
    timeoutMs: number;
  }>;
  /** Documents the actors keep in memory for the partitions they own (0: read every document from the store), and
   *  how many partitions one process applies at once. */
  actors: Readonly<{ cacheMaxDocs: number; partitionConcurrency: number }>;
  registry: Readonly<{ url: string }>;
  ingest: Readonly<{ ackTimeoutMs: number; tenancyRefreshMs: number }>;
  log: Readonly<{ level: (typeof LOG_LEVELS)[number] }>;
  /** Keys that encrypt stored secrets (the first encrypts; all decrypt, for rotation). */
  secrets: Readonly<{ masterKeys: readonly Buffer[] }>;
  delivery: Readonly<{
    /** Multiplies every retry delay (tests: 0.001). */
    delayScale: number;
    timeoutMs: number;
    /** Private or loopback ranges deliveries may reach anyway (the SSRF guard refuses them otherwise). */
    allowCidrs: readonly string[];
    disableAfterMs: number;
    /** ENDPOINT_FAILING_NOTICE_SECONDS in ms. */
    failingNoticeAfterMs: number;
    /** DELIVERY_CACHE_TTL_MS: how long the delivery side keeps live endpoints in memory (docs/decisions/0010). */
    cacheTtlMs: number;
    partitionConcurrency: number;
    /** DELIVERY_RETENTION_DAYS and DELIVERY_RETENTION_SWEEP_SECONDS, in ms. */
    retentionMs: number;
    retentionSweepMs: number;
    /** DELIVERY_BREAKER_FAILURES and DELIVERY_BREAKER_COOLDOWN_MS. */
    breaker: Readonly<{ failures: number; cooldownMs: number }>;
  }>;
  api: Readonly<{ adminToken: string | null; rateLimit: Readonly<{ points: number; windowSeconds: number }>; changeSettleMs: number }>;
  /** Meta's Graph API, for the sending side (Embedded Signup, replies). `appId` null: signup answers that it is not
   *  configured. The app secret is the first META_APP_SECRET. */
  graph: Readonly<{ url: string; version: string; timeoutMs: number; appId: string | null; appSecret: string }>;
  /** The broadcast sender (run by the delivery role). */
  broadcast: Readonly<{ perSecond: number; concurrency: number; inDoubtMs: number }>;
  /** Names of the variables that fell back to a local default (said once at start-up). */
  defaultsUsed: readonly string[];
}>;

export type DurabilityFloor = Readonly<{ replicationFactor: number; minInsyncReplicas: number }>;

/** With NODE_ENV=production a topic needs this much to lose no acknowledged event when one broker fails (and to keep
 *  accepting writes meanwhile): three replicas, two of them in sync for every acks=all write. */
export const PRODUCTION_DURABILITY_FLOOR: DurabilityFloor = Object.freeze({ replicationFactor: 3, minInsyncReplicas: 2 });

/** Never echoed back in an error message. */
const SECRET_VARS: ReadonlySet<string> = new Set(['META_APP_SECRET', 'META_VERIFY_TOKEN', 'MASTER_KEY', 'ADMIN_TOKEN']);

/** A setting that is wrong: EC_CONFIG_INVALID, the message naming the variable. */
export class ConfigError extends AppError {
  override name = 'ConfigError';
  constructor(message: string) {
    super('EC_CONFIG_INVALID', message);
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !ArrayBuffer.isView(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Parses an environment (process.env in production, a plain object in tests). Throws ConfigError naming the variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Empty strings count as unset, so `PORT= make run` behaves like no PORT at all.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got = cleaned[name];
    const shown = SECRET_VARS.has(name) || got === undefined ? '' : ` (got "${got}")`;
    throw new ConfigError(`${name} ${issue.message}${shown}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const defaultsUsed: string[] = [];
  const orDefault = <K extends keyof typeof LOCAL_DEFAULTS, V>(name: K, value: V | undefined, fallback: V): V => {
    if (value !== undefined) return value;
    if (production) throw new ConfigError(`${name} must be set when NODE_ENV=production (no local default is used in production)`);
    defaultsUsed.push(name);
    return fallback;
  };
  const appSecrets = orDefault('META_APP_SECRET', e.META_APP_SECRET, [LOCAL_DEFAULTS.META_APP_SECRET]);
  if (production && appSecrets.includes(LOCAL_DEFAULTS.META_APP_SECRET)) {
    throw new ConfigError('META_APP_SECRET is the public fixture secret; set the real app secret in production');
  }
  const verifyToken = orDefault('META_VERIFY_TOKEN', e.META_VERIFY_TOKEN, LOCAL_DEFAULTS.META_VERIFY_TOKEN);
  if (production && verifyToken === LOCAL_DEFAULTS.META_VERIFY_TOKEN) {
    throw new ConfigError('META_VERIFY_TOKEN is the local default; set a real verify token in production');
  }
  const masterKeys = orDefault('MASTER_KEY', e.MASTER_KEY, [Buffer.from(LOCAL_DEFAULTS.MASTER_KEY, 'base64')]);
  if (production && masterKeys.some((k) => k.equals(Buffer.from(LOCAL_DEFAULTS.MASTER_KEY, 'base64')))) {
    throw new ConfigError('MASTER_KEY is the public development key; set a real key in production (openssl rand -base64 32)');
  }
  const replicationFactor = e.KAFKA_REPLICATION_FACTOR;
  const minInsyncReplicas = e.KAFKA_MIN_INSYNC_REPLICAS ?? Math.min(2, replicationFactor);
  if (minInsyncReplicas > replicationFactor) {
    throw new ConfigError(
      `KAFKA_MIN_INSYNC_REPLICAS must be at most KAFKA_REPLICATION_FACTOR (got ${minInsyncReplicas} with a replication factor of ${replicationFactor}: every acks=all write would fail)`,
    );
  }
  const enforceFloor = production && !e.KAFKA_ALLOW_UNSAFE_DURABILITY;
  if (enforceFloor) {
    const floor = PRODUCTION_DURABILITY_FLOOR;
    const low = [
      ...(replicationFactor < floor.replicationFactor
        ? [`KAFKA_REPLICATION_FACTOR is ${replicationFactor} (at least ${floor.replicationFactor})`]
        : []),
      ...(minInsyncReplicas < floor.minInsyncReplicas
        ? [`KAFKA_MIN_INSYNC_REPLICAS is ${minInsyncReplicas} (at least ${floor.minInsyncReplicas})`]
        : []),
    ];
    if (low.length > 0) {
      throw new ConfigError(
        `${low.join(' and ')}: below the durability NODE_ENV=production requires (a lost broker must not lose acknowledged events); raise it, or set KAFKA_ALLOW_UNSAFE_DURABILITY=true to run so anyway`,
      );
    }
  }
  if (e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT && e.METRICS_HOST === e.HOST)
    throw new ConfigError(`METRICS_PORT must differ from PORT (${e.PORT}): metrics stay off the public port`);
  return deepFreeze({
    production,
    meta: { appSecrets, verifyToken },
    http: { host: e.HOST, port: e.PORT, shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS },
    metrics: { host: e.METRICS_HOST, port: e.METRICS_PORT },
    readiness: { stuckAfterMs: e.READINESS_STUCK_AFTER_MS },
    kafka: {
      brokers: orDefault('KAFKA_BROKERS', e.KAFKA_BROKERS, LOCAL_DEFAULTS.KAFKA_BROKERS.split(',')),
      clientId: e.KAFKA_CLIENT_ID,
      requestTimeoutMs: e.KAFKA_REQUEST_TIMEOUT_MS,
      topicPrefix: e.KAFKA_TOPIC_PREFIX,
      partitions: e.KAFKA_PARTITIONS,
      replicationFactor,
      minInsyncReplicas,
      durabilityFloor: enforceFloor ? PRODUCTION_DURABILITY_FLOOR : null,
      produceTimeoutMs: e.KAFKA_PRODUCE_TIMEOUT_MS,
      sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
    },
    mongo: {
      uri: orDefault('MONGODB_URI', e.MONGODB_URI, LOCAL_DEFAULTS.MONGODB_URI),
      maxPoolSize: e.MONGODB_MAX_POOL_SIZE,
      timeoutMs: e.MONGODB_TIMEOUT_MS,
    },
    actors: { cacheMaxDocs: e.ACTORS_CACHE_MAX_DOCS, partitionConcurrency: e.ACTORS_PARTITION_CONCURRENCY },
    registry: { url: orDefault('SCHEMA_REGISTRY_URL', e.SCHEMA_REGISTRY_URL, LOCAL_DEFAULTS.SCHEMA_REGISTRY_URL) },
    ingest: { ackTimeoutMs: e.INGEST_ACK_TIMEOUT_MS, tenancyRefreshMs: e.TENANCY_REFRESH_MS },
    log: { level: e.LOG_LEVEL },
    secrets: { masterKeys },
    delivery: {
      delayScale: e.DELIVERY_DELAY_SCALE,
      timeoutMs: e.DELIVERY_TIMEOUT_MS,
      allowCidrs: e.DELIVERY_ALLOW_CIDRS,
      disableAfterMs: e.ENDPOINT_DISABLE_AFTER_SECONDS * 1000,
      failingNoticeAfterMs: e.ENDPOINT_FAILING_NOTICE_SECONDS * 1000,
      cacheTtlMs: e.DELIVERY_CACHE_TTL_MS,
      partitionConcurrency: e.DELIVERY_PARTITION_CONCURRENCY,
      retentionMs: e.DELIVERY_RETENTION_DAYS * 86_400_000,
      retentionSweepMs: e.DELIVERY_RETENTION_SWEEP_SECONDS * 1000,
      breaker: { failures: e.DELIVERY_BREAKER_FAILURES, cooldownMs: e.DELIVERY_BREAKER_COOLDOWN_MS },
    },
    api: {
      adminToken: e.ADMIN_TOKEN ?? null,
      rateLimit: { points: e.API_RATE_LIMIT, windowSeconds: e.API_RATE_WINDOW_SECONDS },
      changeSettleMs: e.API_CHANGE_SETTLE_MS,
    },
    graph: {
      url: e.META_GRAPH_URL.replace(/\/+$/, ''),
      version: e.META_GRAPH_VERSION,
      timeoutMs: e.META_GRAPH_TIMEOUT_MS,
      appId: e.META_APP_ID ?? null,
      appSecret: appSecrets[0]!,
    },
    broadcast: {
      perSecond: e.BROADCAST_MESSAGES_PER_SECOND,
      concurrency: e.BROADCAST_SEND_CONCURRENCY,
      inDoubtMs: e.BROADCAST_IN_DOUBT_SECONDS * 1000,
    },
    defaultsUsed,
  });
}
