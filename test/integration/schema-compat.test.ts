// Every schema in schemas/ must stay BACKWARD compatible with every version of it ever committed: new readers
// read old records. Checked with avsc's resolver and by the real registry, so a breaking edit fails this test
// before it fails a deploy.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import avro from 'avsc';
import { Compatibility, SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { EVENT_CATALOG, EVENT_TYPES } from '../../src/events/topics.ts';
import { services, uniqueName } from '../helpers/env.ts';
import { ROOT } from '../helpers/services.ts';

const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });

/** Every committed text of a schema file, oldest first. */
function history(file: string): string[] {
  const commits = git('log', '--format=%H', '--reverse', '--', `schemas/${file}`).split('\n').filter(Boolean);
  return commits.map((c) => git('show', `${c}:schemas/${file}`));
}

/** Throws when data written with `older` cannot be read with `newer`. */
function assertBackward(newer: string, older: string): void {
  avro.Type.forSchema(JSON.parse(newer) as avro.Schema).createResolver(avro.Type.forSchema(JSON.parse(older) as avro.Schema));
}

describe('schemas > backward compatibility', () => {
  const registry = new SchemaRegistryClient({ baseURLs: [services().SCHEMA_REGISTRY_URL] });
  const subjects: string[] = [];
  afterAll(async () => {
    for (const s of subjects) await registry.deleteSubject(s, false).catch(() => undefined);
  });

  test('the check itself catches a breaking change', () => {
    const v1 = JSON.stringify({ type: 'record', name: 'X', fields: [{ name: 'a', type: 'string' }] });
    const added = JSON.stringify({
      type: 'record',
      name: 'X',
      fields: [
        { name: 'a', type: 'string' },
        { name: 'b', type: 'string' },
      ],
    });
    const retyped = JSON.stringify({ type: 'record', name: 'X', fields: [{ name: 'a', type: 'int' }] });
    expect(() => assertBackward(added, v1)).toThrow();
    expect(() => assertBackward(retyped, v1)).toThrow();
  });

  test.each(EVENT_TYPES.map((t) => [EVENT_CATALOG[t].schema] as const))('%s reads every committed version of itself', async (file) => {
    const current = readFileSync(`${ROOT}schemas/${file}`, 'utf8');
    const versions = history(file);
    for (const old of versions) assertBackward(current, old);
    // The registry agrees: under BACKWARD, the working copy registers after each committed version.
    for (const old of versions) {
      const subject = `${uniqueName('compat.')}-value`;
      subjects.push(subject);
      await registry.updateConfig(subject, { compatibility: Compatibility.BACKWARD });
      for (const text of [old, current]) {
        await registry.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(JSON.parse(text)) }, false);
      }
    }
  });
});
