import { describe, expect, test } from 'vitest';
import { ConfigError, LOCAL_DEFAULTS, loadConfig } from './index.ts';

describe('config > loadConfig', () => {
  test('runs on local defaults with nothing set, and says which defaults it used', () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(8080);
    expect(c.kafka.brokers).toEqual([LOCAL_DEFAULTS.KAFKA_BROKERS]);
    expect(c.mongo.uri).toBe(LOCAL_DEFAULTS.MONGODB_URI);
    expect(c.registry.url).toBe(LOCAL_DEFAULTS.SCHEMA_REGISTRY_URL);
    expect(c.defaultsUsed).toEqual([
      'META_APP_SECRET',
      'META_VERIFY_TOKEN',
      'MASTER_KEY',
      'KAFKA_BROKERS',
      'MONGODB_URI',
      'SCHEMA_REGISTRY_URL',
    ]);
    expect(Object.isFrozen(c) && Object.isFrozen(c.kafka) && Object.isFrozen(c.kafka.brokers)).toBe(true);
  });

  test('the tunables once written as literals in the code are settings with their old values as defaults', () => {
    const c = loadConfig({});
    expect([c.actors.partitionConcurrency, c.delivery.partitionConcurrency, c.kafka.produceTimeoutMs, c.ingest.tenancyRefreshMs]).toEqual([
      2, 6, 10_000, 5000,
    ]);
    const set = loadConfig({
      ACTORS_PARTITION_CONCURRENCY: '4',
      DELIVERY_PARTITION_CONCURRENCY: '12',
      KAFKA_PRODUCE_TIMEOUT_MS: '3000',
      TENANCY_REFRESH_MS: '1000',
    });
    expect([
      set.actors.partitionConcurrency,
      set.delivery.partitionConcurrency,
      set.kafka.produceTimeoutMs,
      set.ingest.tenancyRefreshMs,
    ]).toEqual([4, 12, 3000, 1000]);
  });

  test('splits comma-separated app secrets (rotation) and brokers', () => {
    const c = loadConfig({ META_APP_SECRET: 'new-secret-1, old-secret-2', KAFKA_BROKERS: 'k1:9092,k2:9092' });
    expect(c.meta.appSecrets).toEqual(['new-secret-1', 'old-secret-2']);
    expect(c.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
  });

  test.each([
    [{ PORT: 'abc' }, /^PORT must be a whole number from 0 to 65535 \(got "abc"\)$/],
    [{ PORT: '70000' }, /^PORT must be at most 65535/],
    [{ KAFKA_BROKERS: 'localhost' }, /^KAFKA_BROKERS each broker must be host:port/],
    [{ MONGODB_URI: 'postgres://x' }, /^MONGODB_URI must start with mongodb:\/\//],
    [{ SCHEMA_REGISTRY_URL: 'not a url' }, /^SCHEMA_REGISTRY_URL must be an http\(s\) URL/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL /],
    [{ KAFKA_TOPIC_PREFIX: 'bad prefix' }, /^KAFKA_TOPIC_PREFIX may hold only/],
    [{ KAFKA_MIN_INSYNC_REPLICAS: '0' }, /^KAFKA_MIN_INSYNC_REPLICAS must be at least 1/],
    [
      { KAFKA_MIN_INSYNC_REPLICAS: '2' },
      /^KAFKA_MIN_INSYNC_REPLICAS must be at most KAFKA_REPLICATION_FACTOR \(got 2 with a replication factor of 1/,
    ],
    [{ KAFKA_ALLOW_UNSAFE_DURABILITY: 'yes' }, /^KAFKA_ALLOW_UNSAFE_DURABILITY must be true or false \(got "yes"\)$/],
    [{ ACTORS_PARTITION_CONCURRENCY: '0' }, /^ACTORS_PARTITION_CONCURRENCY must be at least 1/],
    [{ DELIVERY_PARTITION_CONCURRENCY: '65' }, /^DELIVERY_PARTITION_CONCURRENCY must be at most 64/],
    [{ KAFKA_PRODUCE_TIMEOUT_MS: '10s' }, /^KAFKA_PRODUCE_TIMEOUT_MS must be a whole number/],
    [{ KAFKA_SESSION_TIMEOUT_MS: '1000' }, /^KAFKA_SESSION_TIMEOUT_MS must be /],
    [{ TENANCY_REFRESH_MS: '50' }, /^TENANCY_REFRESH_MS must be at least 100/],
    [{ PORT: '9000', METRICS_PORT: '9000' }, /^METRICS_PORT must differ from PORT \(9000\): metrics stay off the public port$/],
  ])('rejects %o with a message naming the variable, as EC_CONFIG_INVALID', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(expect.objectContaining({ code: 'EC_CONFIG_INVALID', retriable: false, exitCode: 2 }));
    expect(() => loadConfig(env)).toThrow(message);
  });

  test('never echoes a secret in its error', () => {
    let err: unknown;
    try {
      loadConfig({ META_APP_SECRET: 'short' });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/^META_APP_SECRET each secret must be at least 8 characters$/);
    expect((err as Error).message).not.toContain('short');
  });

  test('API settings: master keys (rotation list, 32 bytes each), admin token, rate limit, never echoing a key', () => {
    const k1 = Buffer.alloc(32, 1).toString('base64');
    const k2 = Buffer.alloc(32, 2).toString('base64');
    const c = loadConfig({
      MASTER_KEY: `${k1}, ${k2}`,
      ADMIN_TOKEN: 'a-long-admin-token',
      API_RATE_LIMIT: '5',
      API_RATE_WINDOW_SECONDS: '10',
    });
    expect(c.secrets.masterKeys.map((k) => k.toString('base64'))).toEqual([k1, k2]);
    expect(c.api).toEqual({ adminToken: 'a-long-admin-token', rateLimit: { points: 5, windowSeconds: 10 }, changeSettleMs: 5000 });
    expect(loadConfig({}).api.adminToken).toBeNull();
    const short = Buffer.alloc(16, 3).toString('base64');
    expect(() => loadConfig({ MASTER_KEY: short })).toThrow(/^MASTER_KEY each key must be 32 bytes/);
    expect(() => loadConfig({ MASTER_KEY: short })).not.toThrow(short);
    expect(() => loadConfig({ ADMIN_TOKEN: 'short' })).toThrow(/^ADMIN_TOKEN must be at least 16 characters$/);
    expect(() => loadConfig({ API_RATE_LIMIT: '0' })).toThrow(/^API_RATE_LIMIT must be at least 1/);
    expect(loadConfig({ DELIVERY_ALLOW_CIDRS: '127.0.0.1/32, ::1/128', DELIVERY_DELAY_SCALE: '1/1000' }).delivery).toMatchObject({
      allowCidrs: ['127.0.0.1/32', '::1/128'],
      delayScale: 0.001,
    });
    for (const bad of ['1.2.3.4/99', '999.1.1.1/8', '127.0.0.1'])
      expect(() => loadConfig({ DELIVERY_ALLOW_CIDRS: bad })).toThrow(/^DELIVERY_ALLOW_CIDRS each entry must be a CIDR/);
    expect(() => loadConfig({ DELIVERY_DELAY_SCALE: '2' })).toThrow(/^DELIVERY_DELAY_SCALE must be at most 1/);
  });

  test('min.insync.replicas defaults to two, or the replication factor when that is lower; set, it is taken as is', () => {
    expect(loadConfig({}).kafka).toMatchObject({ replicationFactor: 1, minInsyncReplicas: 1, durabilityFloor: null });
    expect(loadConfig({ KAFKA_REPLICATION_FACTOR: '2' }).kafka.minInsyncReplicas).toBe(2);
    expect(loadConfig({ KAFKA_REPLICATION_FACTOR: '5' }).kafka.minInsyncReplicas).toBe(2);
    expect(loadConfig({ KAFKA_REPLICATION_FACTOR: '5', KAFKA_MIN_INSYNC_REPLICAS: '3' }).kafka.minInsyncReplicas).toBe(3);
    expect(loadConfig({ KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '1' }).kafka.minInsyncReplicas).toBe(1); // allowed outside production
  });

  describe('with NODE_ENV=production', () => {
    const real = {
      NODE_ENV: 'production',
      META_APP_SECRET: 'a-real-app-secret',
      META_VERIFY_TOKEN: 'a-real-verify-token',
      KAFKA_BROKERS: 'kafka:9092',
      MONGODB_URI: 'mongodb://mongo/echocue',
      SCHEMA_REGISTRY_URL: 'http://registry:8081',
      MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      KAFKA_REPLICATION_FACTOR: '3',
    };

    test('starts with real settings', () => {
      expect(loadConfig(real).production).toBe(true);
    });

    test.each(['META_APP_SECRET', 'META_VERIFY_TOKEN', 'KAFKA_BROKERS', 'MONGODB_URI', 'SCHEMA_REGISTRY_URL', 'MASTER_KEY'])(
      'refuses to start without %s',
      (name) => {
        expect(() => loadConfig({ ...real, [name]: undefined })).toThrow(new RegExp(`^${name} must be set when NODE_ENV=production`));
      },
    );

    test('requires three replicas and two in sync of the topics, and holds existing topics to that floor', () => {
      expect(loadConfig(real).kafka).toMatchObject({
        replicationFactor: 3,
        minInsyncReplicas: 2,
        durabilityFloor: { replicationFactor: 3, minInsyncReplicas: 2 },
      });
      expect(() => loadConfig({ ...real, KAFKA_REPLICATION_FACTOR: undefined })).toThrow(
        /^KAFKA_REPLICATION_FACTOR is 1 \(at least 3\) and KAFKA_MIN_INSYNC_REPLICAS is 1 \(at least 2\): below the durability NODE_ENV=production requires .*KAFKA_ALLOW_UNSAFE_DURABILITY=true/,
      );
      expect(() => loadConfig({ ...real, KAFKA_REPLICATION_FACTOR: '2' })).toThrow(/^KAFKA_REPLICATION_FACTOR is 2 \(at least 3\): below/);
      expect(() => loadConfig({ ...real, KAFKA_MIN_INSYNC_REPLICAS: '1' })).toThrow(
        /^KAFKA_MIN_INSYNC_REPLICAS is 1 \(at least 2\): below/,
      );
      expect(loadConfig({ ...real, KAFKA_REPLICATION_FACTOR: '5', KAFKA_MIN_INSYNC_REPLICAS: '3' }).kafka).toMatchObject({
        replicationFactor: 5,
        minInsyncReplicas: 3,
      });
    });

    test('KAFKA_ALLOW_UNSAFE_DURABILITY=true accepts fewer replicas, and then checks no existing topic either', () => {
      const unsafe = loadConfig({ ...real, KAFKA_REPLICATION_FACTOR: '1', KAFKA_ALLOW_UNSAFE_DURABILITY: 'true' });
      expect(unsafe.kafka).toMatchObject({ replicationFactor: 1, minInsyncReplicas: 1, durabilityFloor: null });
      expect(() => loadConfig({ ...real, KAFKA_REPLICATION_FACTOR: '1', KAFKA_ALLOW_UNSAFE_DURABILITY: 'false' })).toThrow(
        /^KAFKA_REPLICATION_FACTOR is 1/,
      );
    });

    test('refuses the public fixture secret and the local verify token', () => {
      expect(() => loadConfig({ ...real, META_APP_SECRET: LOCAL_DEFAULTS.META_APP_SECRET })).toThrow(/fixture secret/);
      expect(() => loadConfig({ ...real, META_VERIFY_TOKEN: LOCAL_DEFAULTS.META_VERIFY_TOKEN })).toThrow(/local default/);
      expect(() => loadConfig({ ...real, MASTER_KEY: LOCAL_DEFAULTS.MASTER_KEY })).toThrow(/public development key/);
    });
  });
});
