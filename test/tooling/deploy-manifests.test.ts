// deploy/ validated without a cluster or a Docker engine (issue 17; docs/decisions/0016-deploy-manifests.md):
// every Kubernetes manifest against the Kubernetes 1.36 and KEDA 2.19 schemas (kubernetes-models and
// @kubernetes-models/keda, generated from the upstream OpenAPI and CRDs), compose.yaml against the Compose
// Specification's JSON schema (the copy dclint keeps), and both against what the code expects: a workload per
// role, probes, the configuration, and KEDA triggers that name the real consumer groups and topics.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { Ajv } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { describe, expect, test } from 'vitest';
import { actorsGroup } from '../../src/actors/consumer.ts';
import { ROLES, type Role } from '../../src/cli/system.ts';
import { deliveryGroups } from '../../src/delivery/role.ts';
import { broadcastSenderGroup } from '../../src/sending/broadcast-sender.ts';
import { loadConfig } from '../../src/config/index.ts';
import { topicNames } from '../../src/events/topics.ts';
import { ROOT } from '../helpers/services.ts';

const require = createRequire(import.meta.url);
const K8S_DIR = join(ROOT, 'deploy/k8s');

/** The schema of each kind the manifests may use; a kind missing here fails the test (add its model first). */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

/** The variables EchoCue treats as secrets: only from the Secret, never in the ConfigMap (MONGODB_URI carries credentials). */
const SECRET_KEYS = ['META_APP_SECRET', 'META_VERIFY_TOKEN', 'MASTER_KEY', 'ADMIN_TOKEN', 'MONGODB_URI'];

type Manifest = { file: string; doc: any; label: string };

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Every document of every YAML file under deploy/k8s (examples/ too); a YAML syntax error is a failure naming the file. */
function loadManifests(): { manifests: Manifest[]; parseErrors: string[] } {
  const manifests: Manifest[] = [];
  const parseErrors: string[] = [];
  for (const path of yamlFiles(K8S_DIR)) {
    const file = relative(ROOT, path);
    for (const d of parseAllDocuments(readFileSync(path, 'utf8'))) {
      if (d.errors.length > 0) parseErrors.push(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
      const doc = d.toJS();
      if (doc == null) continue;
      manifests.push({ file, doc, label: `${file}: ${doc.kind ?? '(no kind)'} ${doc.metadata?.name ?? '(no name)'}` });
    }
  }
  return { manifests, parseErrors };
}

const { manifests, parseErrors } = loadManifests();
const applied = manifests.filter((m) => !m.file.includes('/examples/'));
const configMap = applied.find((m) => m.doc.kind === 'ConfigMap' && m.doc.metadata.name === 'echocue-config')?.doc;
const settings: Record<string, string> = configMap?.data ?? {};
const deployments = applied.filter((m) => m.doc.kind === 'Deployment');
const roleOf = (d: any): string | undefined => {
  const args: string[] = d.spec.template.spec.containers[0]?.args ?? [];
  return args[0] === 'serve' && args[1] === '--role' ? args[2] : undefined;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** The consumer groups each role joins, with the topics each reads, as the code derives them from KAFKA_TOPIC_PREFIX:
 *  the actors and the delivery role export their groups (src/actors/consumer.ts, src/delivery/role.ts). */
function consumerGroups(prefix: string): Record<string, { role: Role; topics: readonly string[] }> {
  const topics = topicNames(prefix);
  return {
    [actorsGroup(prefix, topics).groupId]: { role: 'actors', topics: actorsGroup(prefix, topics).topics },
    ...Object.fromEntries(deliveryGroups(prefix, topics).map((g) => [g.groupId, { role: 'delivery' as const, topics: g.topics }])),
    [broadcastSenderGroup(prefix, topics).groupId]: { role: 'delivery', topics: broadcastSenderGroup(prefix, topics).topics },
  };
}

describe('deploy > kubernetes manifests', () => {
  test('every manifest validates against the Kubernetes 1.36 and KEDA 2.19 schemas', () => {
    expect(parseErrors).toEqual([]);
    expect(manifests.length).toBeGreaterThan(0);
    const failures: string[] = [];
    for (const { doc, label } of manifests) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      if (!doc.metadata?.name) failures.push(`${label}: metadata.name is missing`);
      if (!Model) {
        failures.push(`${label}: no schema for apiVersion "${doc.apiVersion}", kind "${doc.kind}" (add its model to MODELS)`);
        continue;
      }
      try {
        new Model(doc).validate();
      } catch (err) {
        failures.push(`${label}: ${(err as Error).message}`);
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
  });

  test('a Deployment per role runs `serve --role ROLE` from one image, with its probes, resources and settings', () => {
    expect(deployments.map((m) => roleOf(m.doc)).sort()).toEqual([...ROLES].sort());
    const images = new Set<string>();
    for (const { doc, label } of [...deployments, ...applied.filter((m) => m.doc.kind === 'Job')]) {
      const pod = doc.spec.template.spec;
      expect(pod.containers, label).toHaveLength(1);
      const c = pod.containers[0];
      images.add(c.image);
      expect(c.envFrom, label).toEqual([{ configMapRef: { name: 'echocue-config' } }, { secretRef: { name: 'echocue-secrets' } }]);
      expect(c.resources?.requests?.cpu, `${label}: resources.requests.cpu`).toBeDefined();
      expect(c.resources?.requests?.memory, `${label}: resources.requests.memory`).toBeDefined();
      expect(c.resources?.limits?.memory, `${label}: resources.limits.memory`).toBeDefined();
      expect(pod.securityContext?.runAsNonRoot, `${label}: runAsNonRoot`).toBe(true);
      if (doc.kind !== 'Deployment') continue;
      const port = (name: string) => c.ports?.find((p: any) => p.name === name)?.containerPort;
      expect(port('http'), `${label}: the http port is PORT`).toBe(Number(settings['PORT']));
      expect(port('metrics'), `${label}: the metrics port is METRICS_PORT`).toBe(Number(settings['METRICS_PORT']));
      expect(doc.spec.template.metadata.annotations?.['prometheus.io/port'], label).toBe(settings['METRICS_PORT']);
      for (const probe of ['startupProbe', 'livenessProbe'])
        expect(c[probe]?.httpGet, `${label}: ${probe}`).toEqual({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe?.httpGet, `${label}: readinessProbe`).toEqual({ path: '/readyz', port: 'http' });
      expect(matches(doc.spec.selector.matchLabels, doc.spec.template.metadata.labels), `${label}: selector matches its pods`).toBe(true);
      // The probes and the graceful stop (SHUTDOWN_TIMEOUT_MS per step) must fit in the grace period.
      expect(doc.spec.template.spec.terminationGracePeriodSeconds * 1000, label).toBeGreaterThan(
        3 * Number(settings['SHUTDOWN_TIMEOUT_MS']),
      );
    }
    expect([...images], 'every workload runs the same image').toHaveLength(1);
  });

  test('each Deployment has a PodDisruptionBudget and an autoscaler that owns its replica count; Services reach pods', () => {
    const scalers = applied.filter((m) => m.doc.kind === 'HorizontalPodAutoscaler' || m.doc.kind === 'ScaledObject');
    for (const { doc, label } of deployments) {
      const labels = doc.spec.template.metadata.labels;
      const pdbs = applied.filter((m) => m.doc.kind === 'PodDisruptionBudget' && matches(m.doc.spec.selector.matchLabels, labels));
      expect(pdbs, `${label}: one PodDisruptionBudget selects its pods`).toHaveLength(1);
      const owners = scalers.filter((m) => m.doc.spec.scaleTargetRef.name === doc.metadata.name);
      expect(owners, `${label}: one autoscaler targets it`).toHaveLength(1);
      // A replica count in the Deployment would be reset by every apply, fighting the autoscaler.
      expect(doc.spec.replicas, `${label}: no spec.replicas (the autoscaler owns it)`).toBeUndefined();
    }
    for (const { doc, label } of applied.filter((m) => m.doc.kind === 'Service')) {
      const target = deployments.find((m) => matches(doc.spec.selector, m.doc.spec.template.metadata.labels));
      expect(target, `${label}: selects a Deployment's pods`).toBeDefined();
      const names = target!.doc.spec.template.spec.containers[0].ports.map((p: any) => p.name);
      for (const p of doc.spec.ports) expect(names, `${label}: targetPort ${p.targetPort}`).toContain(p.targetPort);
    }
    for (const role of ['ingest', 'api'])
      expect(applied.some((m) => m.doc.kind === 'Service' && m.doc.metadata.name === `echocue-${role}`)).toBe(true);
  });

  test('the ConfigMap is a valid production configuration once the Secret is added, and holds no secret', () => {
    expect(configMap, 'deploy/k8s has the ConfigMap echocue-config').toBeDefined();
    expect(Object.keys(settings).filter((k) => SECRET_KEYS.includes(k))).toEqual([]);
    // A misspelt variable would be ignored silently: every key is one src/config reads.
    const schemaSource = readFileSync(join(ROOT, 'src/config/index.ts'), 'utf8');
    expect(Object.keys(settings).filter((k) => !new RegExp(`^\\s+${k}: `, 'm').test(schemaSource))).toEqual([]);
    const example = manifests.find((m) => m.doc.kind === 'Secret' && m.doc.metadata.name === 'echocue-secrets');
    expect(example, 'deploy/k8s/examples has the Secret echocue-secrets').toBeDefined();
    expect(Object.keys(example!.doc.stringData).sort()).toEqual([...SECRET_KEYS].sort());
    const config = loadConfig({
      ...settings,
      META_APP_SECRET: 'a-real-app-secret-from-meta',
      META_VERIFY_TOKEN: 'a-real-verify-token',
      MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      ADMIN_TOKEN: 'an-admin-token-of-some-length',
      MONGODB_URI: 'mongodb://user:password@mongodb:27017/echocue',
    });
    expect(config.production).toBe(true);
    expect(config.defaultsUsed).toEqual([]);
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.metrics.host, 'METRICS_HOST must let Prometheus reach the pod').toBe('0.0.0.0');
  });

  test('the ScaledObjects scale actors and delivery on the lag of the groups and topics the code names, at most one replica per partition', () => {
    const prefix = settings['KAFKA_TOPIC_PREFIX'] ?? '';
    const groups = consumerGroups(prefix);
    const partitions = Number(settings['KAFKA_PARTITIONS']);
    expect(partitions, 'KAFKA_PARTITIONS is set in the ConfigMap').toBeGreaterThan(0);
    const scaled = applied.filter((m) => m.doc.kind === 'ScaledObject');
    const watched = new Map<string, Set<string>>();
    for (const { doc, label } of scaled) {
      const target = deployments.find((m) => m.doc.metadata.name === doc.spec.scaleTargetRef.name);
      expect(target, `${label}: scaleTargetRef names a Deployment`).toBeDefined();
      const role = roleOf(target!.doc);
      expect(doc.spec.maxReplicaCount, `${label}: maxReplicaCount <= KAFKA_PARTITIONS (${partitions})`).toBeLessThanOrEqual(partitions);
      expect(doc.spec.minReplicaCount, label).toBeLessThanOrEqual(doc.spec.maxReplicaCount);
      for (const t of doc.spec.triggers) {
        const where = `${label}: trigger ${t.name ?? t.type}`;
        expect(t.type, where).toBe('kafka');
        const m = t.metadata;
        const group = groups[m.consumerGroup];
        expect(group, `${where}: consumerGroup "${m.consumerGroup}" is one of ${Object.keys(groups).join(', ')}`).toBeDefined();
        expect(group!.role, `${where}: the group belongs to the role the target runs`).toBe(role);
        expect(group!.topics, `${where}: topic "${m.topic}" is read by ${m.consumerGroup}`).toContain(m.topic);
        expect(m.allowIdleConsumers, `${where}: allowIdleConsumers "false" keeps replicas <= partitions`).toBe('false');
        expect(m.offsetResetPolicy, `${where}: the consumers start a new group from the earliest offset`).toBe('earliest');
        expect(m.lagThreshold, where).toMatch(/^[1-9]\d*$/);
        if (m.bootstrapServersFromEnv !== undefined) expect(m.bootstrapServersFromEnv, where).toBe('KAFKA_BROKERS');
        else expect(m.bootstrapServers, where).toBe(settings['KAFKA_BROKERS']);
        watched.set(m.consumerGroup, (watched.get(m.consumerGroup) ?? new Set()).add(m.topic));
      }
    }
    // Every group is watched but the broadcast sender (its backlog is paced by Meta's throughput tier: more replicas
    // would not send it sooner); the actors' group on every topic it reads; the delivery worker on its first attempts
    // only (the retry tiers hold records waiting for their due time, which is no backlog to scale for).
    const unscaled = broadcastSenderGroup(prefix, topicNames(prefix)).groupId;
    expect([...watched.keys()].sort()).toEqual(
      Object.keys(groups)
        .filter((g) => g !== unscaled)
        .sort(),
    );
    expect([...watched.get(`${prefix}echocue.actors`)!].sort()).toEqual([...groups[`${prefix}echocue.actors`]!.topics].sort());
    expect([...watched.get(`${prefix}echocue.delivery.worker`)!]).toEqual([topicNames(prefix).deliveryTiers[0]]);
    expect(scaled.map((m) => roleOf(deployments.find((d) => d.doc.metadata.name === m.doc.spec.scaleTargetRef.name)!.doc)).sort()).toEqual([
      'actors',
      'delivery',
    ]);
  });
});

describe('deploy > compose', () => {
  const compose = parseYaml(readFileSync(join(ROOT, 'deploy/compose.yaml'), 'utf8'), { merge: true });

  test('compose.yaml validates against the Compose Specification', () => {
    const schema = JSON.parse(readFileSync(join(require.resolve('dclint/package.json'), '../schemas/compose.schema.json'), 'utf8'));
    // Draft-07 under its https address, which Ajv knows by its http one (dclint renames it the same way), and the
    // options dclint validates with.
    schema.$schema = 'http://json-schema.org/draft-07/schema#';
    const validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, logger: false }).compile(schema);
    const ok = validate(compose);
    const errors = (validate.errors ?? []).map(
      (e) => `deploy/compose.yaml: ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
    );
    expect(errors, errors.join('\n')).toEqual([]);
    expect(ok).toBe(true);
  });

  test('it runs Kafka, MongoDB and the registry on their loopback ports, the topics one-shot, and a service per role', () => {
    const s = compose.services;
    expect(s.kafka.ports).toEqual(['127.0.0.1:19092:19092']);
    expect(s.mongo.ports).toEqual(['127.0.0.1:27027:27017']);
    expect(s.registry.ports).toEqual(['127.0.0.1:18081:8080']);
    expect(s['create-topics'].command).toEqual(['create-topics']);
    expect(s.kafka.environment.KAFKA_ADVERTISED_LISTENERS).toContain(`//${s['create-topics'].environment.KAFKA_BROKERS}`);
    for (const role of ROLES) {
      const svc = s[role];
      expect(svc, `a service "${role}"`).toBeDefined();
      expect(svc.command).toEqual(['serve', '--role', role]);
      expect(svc.depends_on['create-topics'].condition).toBe('service_completed_successfully');
      expect(svc.healthcheck.test.join(' ')).toContain('/readyz');
      // As Compose interpolates it with nothing set in the shell: ${VAR:-default} is the default.
      const env = Object.fromEntries(
        Object.entries(svc.environment as Record<string, string>).map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')]),
      );
      expect(() => loadConfig(env), role).not.toThrow();
    }
  });
});

describe('deploy > image', () => {
  test('src/ and bin/ import only runtime dependencies (the image installs with --omit=dev)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const runtime = new Set(Object.keys(pkg.dependencies));
    const files = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(`${dir}/${e.name}`) : /\.(ts|js)$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [`${dir}/${e.name}`] : [],
      );
    const missing: string[] = [];
    for (const file of [...files('src'), ...files('bin')]) {
      for (const [, spec] of readFileSync(join(ROOT, file), 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^'.][^']*)'/gm)) {
        if (spec!.startsWith('node:')) continue;
        const name = spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!;
        if (!runtime.has(name)) missing.push(`${file}: ${spec}`);
      }
    }
    expect(missing, 'imported from src/ but not in "dependencies"').toEqual([]);
  });

  test('the Dockerfile builds on Node 24, copies what the runtime reads and runs as a non-root user', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM node:(\d+)/gm)?.every((l) => l === 'FROM node:24')).toBe(true);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    for (const path of ['package.json', 'bin', 'schemas', 'src']) expect(dockerfile).toMatch(new RegExp(`^COPY .*\\b${path}\\b`, 'm'));
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/echocue\.js"\]$/m);
  });
});
