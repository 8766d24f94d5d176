// The linter's one config (`make lint`, part of `make check` and `make test`). It states the architecture as rules
// (docs/architecture.md) and leaves layout to Prettier (.prettierrc.json). Decision: docs/decisions/0015-lint-and-format.md.
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Which top-level folders of src/ each folder may import: data flows ingest -> events -> actors -> store, delivery, sending and
 * api read the store, cli is the one composition root; core (errors, clock, ids) is the base everyone shares. A folder not listed here is a lint error.
 */
export const LAYERS = {
  core: [],
  config: ['core'],
  events: ['core', 'config'],
  store: ['core', 'config'],
  ingest: ['events', 'core', 'config'],
  views: ['events', 'store', 'core', 'config'],
  actors: ['events', 'views', 'store', 'core', 'config'],
  delivery: ['events', 'views', 'store', 'core', 'config'],
  sending: ['events', 'views', 'store', 'core', 'config'],
  api: ['delivery', 'sending', 'views', 'events', 'store', 'core', 'config'],
  cli: ['ingest', 'actors', 'delivery', 'sending', 'api', 'views', 'events', 'store', 'core', 'config'],
};

// A new folder in src/ needs its place in the layers first, else nothing would restrict what it imports.
const unplaced = readdirSync(new URL('./src/', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory() && !(d.name in LAYERS))
  .map((d) => `src/${d.name}`);
if (unplaced.length > 0) throw new Error(`${unplaced.join(', ')}: not in the layers of eslint.config.js (LAYERS); give it its place`);

/** Import-direction zones: each folder of src/ imports only its allowed layers; src/ never imports the tooling. */
function layerZones() {
  const folders = Object.keys(LAYERS);
  const zones = folders.map((folder) => ({
    target: `./src/${folder}`,
    from: './src',
    except: [`./${folder}`, ...LAYERS[folder].map((f) => `./${f}`)],
    message: `src/${folder} may import only ${[folder, ...LAYERS[folder]].map((f) => `src/${f}`).join(', ')} (eslint.config.js LAYERS)`,
  }));
  // The tooling: the harness (load generation, isolation, the soak model) serves both tests and benchmarks; neither
  // src/ nor the harness imports a test or a benchmark, and tests and benchmarks do not import each other.
  zones.push(
    { target: './src', from: ['./test', './bench', './harness', './scripts'], message: 'src/ never imports tests, benchmarks or tooling' },
    { target: './harness', from: ['./test', './bench'], message: 'the harness serves test/ and bench/ and imports neither' },
    { target: './bench', from: './test', message: 'a benchmark imports the harness (harness/), never test/' },
    { target: './test', from: './bench', message: 'a test imports the harness (harness/), never bench/' },
  );
  return zones;
}

const KAFKA_CLIENTS = ['kafkajs', '@platformatic/kafka', '@confluentinc/kafka-javascript', 'node-rdkafka'];
const kafkaRule = {
  paths: KAFKA_CLIENTS.map((name) => ({ name, message: 'only src/events/kafka/ (the events port) imports a Kafka client' })),
  patterns: KAFKA_CLIENTS.map((c) => ({ group: [`${c}/*`], message: 'only src/events/kafka/ (the events port) imports a Kafka client' })),
};
const mongoRule = {
  paths: [{ name: 'mongodb', message: 'only src/store/ (the store port) imports the MongoDB driver' }],
  patterns: [{ group: ['mongodb/*'], message: 'only src/store/ (the store port) imports the MongoDB driver' }],
};

export default tseslint.config(
  { ignores: ['.cache/**', 'node_modules/**', 'src/events/generated/**', 'benchmarks/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layerZones() }],
      'import-x/no-cycle': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'prefer-const': ['error', { destructuring: 'all' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'error',
    },
  },
  // src/: the Kafka client and the MongoDB driver stay behind their ports; only src/config reads the environment.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/events/kafka/**', 'src/store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [...kafkaRule.paths, ...mongoRule.paths], patterns: [...kafkaRule.patterns, ...mongoRule.patterns] },
      ],
    },
  },
  { files: ['src/events/kafka/**/*.ts'], rules: { 'no-restricted-imports': ['error', mongoRule] } },
  { files: ['src/store/**/*.ts'], rules: { 'no-restricted-imports': ['error', kafkaRule] } },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**', 'src/cli/main.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'only src/config reads the environment' }],
    },
  },
  // A unit test beside its module may build its input with other folders' code and the test fixtures, and use `any`
  // to feed a function what its types forbid; it still never imports a benchmark.
  {
    files: ['src/**/*.test.ts'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        { zones: [{ target: './src', from: './bench', message: 'tests never import benchmarks' }] },
      ],
      'no-restricted-imports': 'off',
    },
  },
  { files: ['**/*.test.ts', 'test/**', 'harness/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // Tooling prints to the terminal; tests and tooling may use a client directly to observe topics and the store
  // independently of the ports they check. Benchmarks' baselines measure the raw clients on purpose.
  { files: ['scripts/**', 'bench/**', 'harness/**', 'test/**', 'bin/**'], rules: { 'no-console': 'off' } },
  {
    files: ['src/api/dashboard/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-console': 'error' },
  },
);
