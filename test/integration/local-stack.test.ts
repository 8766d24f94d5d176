// Nothing is mocked: on the local stack, the services are real processes of the real programs.
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { services } from '../helpers/env.ts';

describe('deploy > local stack', () => {
  test.runIf(services().via === 'local-stack')('runs a real kafka.Kafka JVM, a ferretdb process and the Apicurio registry', () => {
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n');
    expect(ps.some((l) => /\bjava\b.*\bkafka\.Kafka\b/.test(l))).toBe(true);
    expect(ps.some((l) => /\/ferretdb --listen-addr=/.test(l))).toBe(true);
    expect(ps.some((l) => /\bjava\b.*quarkus-run\.jar/.test(l))).toBe(true);
  });

  test('the registry answers the Confluent API the client uses', async () => {
    const res = await fetch(`${services().SCHEMA_REGISTRY_URL}/subjects`);
    expect(res.status).toBe(200);
    expect(Array.isArray(await res.json())).toBe(true);
  });
});
