// The architecture rules in eslint.config.js, each broken once: a file that breaks a rule is refused, naming the
// rule, and the same file without the break passes. Linted in memory under a path where such a file would live.
import { ESLint } from 'eslint';
import { describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/services.ts';

const eslint = new ESLint({ cwd: ROOT });

async function problems(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${path}` });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('architecture rules (eslint.config.js)', () => {
  test.each([
    ['src/store/x.ts', "import { createApiApp } from '../api/app.ts';", 'src/store may import only'],
    ['src/events/x.ts', "import { contactView } from '../views/contact.ts';", 'src/events may import only'],
    ['src/actors/x.ts', "import { createIngestApp } from '../ingest/app.ts';", 'src/actors may import only'],
    ['src/core/x.ts', "import { parseJsonLossless } from '../ingest/parse-json.ts';", 'src/core may import only'],
    ['src/api/x.ts', "import { startSystem } from '../cli/system.ts';", 'src/api may import only'],
    ['src/actors/x.ts', "import { MemoryActorStore } from '../../harness/memory-actor-store.ts';", 'src/ never imports tests'],
    ['bench/x.ts', "import { ROOT } from '../test/helpers/services.ts';", 'never test/'],
    ['test/x.test.ts', "import { percentile } from '../bench/lib.ts';", 'never bench/'],
    ['harness/x.ts', "import { ROOT } from '../test/helpers/services.ts';", 'imports neither'],
  ])('%s: %s is refused', async (path, code, reason) => {
    const found = await problems(path, `${code}\nexport const used = [${code.match(/\{ (\w+)/)![1]}];\n`);
    expect(found.join('\n')).toContain('import-x/no-restricted-paths');
    expect(found.join('\n')).toContain(reason);
  });

  test.each([
    ['src/actors/x.ts', 'kafkajs', 'src/events/kafka/'],
    ['src/api/x.ts', '@platformatic/kafka', 'src/events/kafka/'],
    ['src/store/x.ts', 'kafkajs', 'src/events/kafka/'],
    ['src/delivery/x.ts', 'mongodb', 'only src/store/'],
    ['src/events/kafka/x.ts', 'mongodb', 'only src/store/'],
  ])('%s may not import the client %s', async (path, pkg, reason) => {
    const found = await problems(path, `import * as client from '${pkg}';\nexport const used = client;\n`);
    expect(found.join('\n')).toContain(`no-restricted-imports`);
    expect(found.join('\n')).toContain(reason);
  });

  test('only src/config reads the environment, and src/ logs through pino, never the console', async () => {
    const code = 'export const port = process.env.PORT;\nconsole.log(port);\n';
    const found = (await problems('src/delivery/x.ts', code)).join('\n');
    expect(found).toContain('no-restricted-properties: ');
    expect(found).toContain('only src/config reads the environment');
    expect(found).toContain('no-console');
    expect(await problems('src/config/x.ts', 'export const port = process.env.PORT;\n')).toEqual([]);
  });

  test('the allowed edges pass: ports imported by their own side, a layer importing a lower one', async () => {
    expect(await problems('src/events/kafka/x.ts', "import { Kafka } from 'kafkajs';\nexport const used = Kafka;\n")).toEqual([]);
    expect(await problems('src/store/x.ts', "import { MongoClient } from 'mongodb';\nexport const used = MongoClient;\n")).toEqual([]);
    expect(
      await problems('src/api/x.ts', "import { contactView } from '../views/contact.ts';\nexport const used = contactView;\n"),
    ).toEqual([]);
    expect(await problems('bench/x.ts', "import { prng } from '../harness/load/prng.ts';\nexport const used = prng;\n")).toEqual([]);
    expect(await problems('test/x.test.ts', "import { prng } from '../harness/load/prng.ts';\nexport const used = prng;\n")).toEqual([]);
  });

  test('the repository itself passes', async () => {
    const results = await eslint.lintFiles(['src', 'test', 'harness', 'bench', 'scripts']);
    const errors = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.ruleId}: ${m.message}`));
    expect(errors).toEqual([]);
  });
});
