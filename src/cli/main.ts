// `echocue` command line: serve the system, or manage accounts, WABAs and keys. The process entry point.
import { createMongoClient } from '../store/client.ts';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config/index.ts';
import { AppError } from '../core/errors.ts';
import { createLogger } from '../core/log.ts';
import { systemClock } from '../core/clock.ts';
import { signBody } from '../ingest/verify-signature.ts';
import { silenceKafkajsTimeoutWarning } from '../events/kafka/index.ts';
import { eventSerdeOf, kafkaEventsOf, topicSettingsOf } from './kafka.ts';
import { tail, topicCatalog } from './data-tools.ts';
import { replayCommand } from './replay-command.ts';
import { reportText } from './replay.ts';
import { createProgress } from './progress.ts';
import { topicNames } from '../events/topics.ts';
import { createAccountStore, WABA_ID } from '../store/accounts.ts';
import { createSecretBox } from '../core/secret-box.ts';
import { keySummary, newKeyView, wabaLinkView } from '../views/admin.ts';
import { ensureIndexes } from '../store/collections.ts';
import { ROLES, startSystem, type Role } from './system.ts';

const USAGE = `usage: echocue [command] [options]
  serve [--role all|ingest,actors,api]     run EchoCue (default: all roles in one process)
  create-topics                            create the Kafka topics (idempotent)
  accounts create --name NAME [--json]     create an account (tenant)
  wabas link --account ID --waba WABA_ID   link a WhatsApp Business Account to an account
  keys create --account ID [--json]        create an API key (printed once, stored only as a hash)
  keys list --account ID [--json]          list an account's keys (ids, prefixes, revocation)
  keys revoke --account ID --key KEY_ID    revoke a key (refused from the next request on)
  sign FILE                                print the X-Hub-Signature-256 of FILE under META_APP_SECRET's first secret
  topics [--json]                          the topic catalog: every topic, its format, schema and consumers
  tail TOPIC [--from-beginning] [--key WABA_ID] [--since TIME] [--max N]
                                           print TOPIC's records as JSON lines, values decoded (Avro through the
                                           registry); TOPIC as in \`echocue topics\` or an event type (message.inbound)
  replay --into DB_OR_URI [--from TIME] [--diff-only] [--json]
                                           re-drive the actors from the raw topic into a fresh database and report
                                           how it differs from the live one (exit 0: none, 3: different);
                                           docs/operations/replay.md
Environment variables: see README.md ("Configuration").`;

/** A call of `echocue` it cannot run: EC_USAGE (exit 2). */
const usageError = (message: string) => new AppError('EC_USAGE', message);

function parseRoles(value: string | undefined): Role[] {
  if (value === undefined || value === 'all') return [...ROLES];
  const roles = value.split(',').map((r) => r.trim());
  for (const r of roles)
    if (!(ROLES as readonly string[]).includes(r)) throw usageError(`--role must be "all" or a list of ${ROLES.join(', ')} (got "${r}")`);
  return roles as Role[];
}

async function withStore<T>(config: Config, fn: (store: ReturnType<typeof createAccountStore>) => Promise<T>): Promise<T> {
  const client = createMongoClient(config.mongo);
  try {
    await client.connect();
  } catch (err) {
    throw new AppError('EC_STORE_UNAVAILABLE', `cannot connect to MongoDB (MONGODB_URI): ${(err as Error).message}`);
  }
  try {
    await ensureIndexes(client.db());
    return await fn(createAccountStore(client.db(), createSecretBox(config.secrets.masterKeys)));
  } finally {
    await client.close();
  }
}

/** --since, --from: an ISO 8601 time (2026-12-02T08:00:00Z) or a duration back from now (90s, 15m, 2h, 7d). */
function timeOf(v: string, option: string): Date {
  const ago = /^(\d+)(s|m|h|d)$/.exec(v.trim());
  if (ago)
    return new Date(systemClock.now().getTime() - Number(ago[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's']);
  const at = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(at.getTime()))
    throw usageError(`--${option} must be an ISO 8601 time or a duration such as 15m (got "${v}")`);
  return at;
}

function maxOf(v: string): number {
  if (!/^\d+$/.test(v)) throw usageError(`--max must be a whole number (got "${v}")`);
  return Number(v);
}

const required = (v: string | undefined, name: string): string => {
  if (v === undefined || v.trim() === '') throw usageError(`--${name} is required`);
  return v.trim();
};

/** The command line's options; an unknown option or a missing value is EC_USAGE. */
function parseArguments(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        role: { type: 'string' },
        name: { type: 'string' },
        account: { type: 'string' },
        waba: { type: 'string' },
        key: { type: 'string' },
        'from-beginning': { type: 'boolean', default: false },
        from: { type: 'string' },
        into: { type: 'string' },
        'diff-only': { type: 'boolean', default: false },
        since: { type: 'string' },
        max: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw usageError(`${(err as Error).message}\n${USAGE}`);
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArguments(argv);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const [cmd = 'serve', sub] = positionals;
  const config = loadConfig(process.env);
  const log = createLogger({ level: config.log.level });
  const print = (human: string, json: unknown) => process.stdout.write(values.json ? `${JSON.stringify(json)}\n` : `${human}\n`);
  const now = systemClock.now();

  switch (`${cmd}${sub ? ` ${sub}` : ''}`) {
    case 'serve': {
      if (config.defaultsUsed.length > 0) {
        log.warn(
          { defaults: config.defaultsUsed },
          `using local defaults for ${config.defaultsUsed.join(', ')} (fine for the local stack; never in production)`,
        );
      }
      const system = await startSystem({ config, roles: parseRoles(values.role), log });
      log.info(
        `try it: README.md "Trying it by hand" (npx echocue accounts create --name NAME, wabas link, keys create, then POST to ${system.url}/v1/whatsapp/webhook)`,
      );
      const shutdown = (signal: string) => {
        log.info({ signal }, 'stopping');
        system.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      return;
    }
    case 'create-topics': {
      const topics = topicNames(config.kafka.topicPrefix);
      const events = kafkaEventsOf(config, log);
      try {
        await events.admin.ensureTopics(topics.all, topicSettingsOf(config));
      } finally {
        await events.close();
      }
      print(topics.all.join('\n'), { topics: topics.all });
      return;
    }
    case 'accounts create': {
      const account = await withStore(config, (s) => s.createAccount(required(values.name, 'name'), now));
      print(`created account ${account._id} (${account.name})`, { id: account._id, name: account.name });
      return;
    }
    case 'wabas link': {
      const accountId = required(values.account, 'account');
      const wabaId = required(values.waba, 'waba');
      if (!WABA_ID.test(wabaId)) throw usageError('--waba must be a WhatsApp Business Account id (5 to 20 digits)');
      const link = await withStore(config, (s) => s.linkWaba(wabaId, accountId, now));
      print(`linked WABA ${wabaId} to account ${accountId}`, wabaLinkView(link));
      return;
    }
    case 'keys create': {
      const accountId = required(values.account, 'account');
      const key = await withStore(config, (s) => s.createApiKey(accountId, now));
      print(
        `API key ${key.id} for account ${accountId} (shown once, store it now):\n${key.key}\nsigning secret for outbound webhooks (X-EchoCue-Signature):\n${key.signing_secret}`,
        newKeyView(key),
      );
      return;
    }
    case 'keys list': {
      const accountId = required(values.account, 'account');
      const rows = (await withStore(config, (s) => s.listApiKeys(accountId))).map(keySummary);
      print(
        rows.map((r) => `${r.id}  ${r.prefix}…  created ${r.created_at}${r.revoked_at ? `  revoked ${r.revoked_at}` : ''}`).join('\n') ||
          'no keys',
        { keys: rows },
      );
      return;
    }
    case 'keys revoke': {
      const accountId = required(values.account, 'account');
      const keyId = required(values.key, 'key');
      const key = await withStore(config, (s) => s.revokeApiKey(accountId, keyId, now));
      print(`revoked key ${keyId}`, { ...keySummary(key), revoked: true });
      return;
    }
    default:
      if (cmd === 'tail') {
        const topics = topicNames(config.kafka.topicPrefix);
        const opts = {
          topic:
            sub ??
            (() => {
              throw usageError('tail needs a TOPIC (`echocue topics` lists them)');
            })(),
          fromBeginning: values['from-beginning'],
          key: values.key ?? null,
          since: values.since === undefined ? null : timeOf(values.since, 'since'),
          max: values.max === undefined ? null : maxOf(values.max),
        };
        // stdout carries the records only: the clients' logs go to stderr, and only errors.
        const stderrLog = createLogger({ level: 'error', destination: process.stderr });
        const events = kafkaEventsOf(config, stderrLog);
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        process.once('SIGTERM', () => stop.abort());
        try {
          const write = (line: string) => process.stdout.write(`${line}\n`);
          await tail(
            { events, serde: () => eventSerdeOf(config, topics), topics, prefix: config.kafka.topicPrefix, log: stderrLog, write },
            opts,
            stop.signal,
          );
        } finally {
          await events.close();
        }
        return;
      }
      if (cmd === 'replay' && sub === undefined) {
        const opts = {
          into: required(values.into, 'into'),
          from: values.from === undefined ? null : timeOf(values.from, 'from'),
          diffOnly: values['diff-only'],
        };
        // stdout carries the report only; progress and the clients' errors go to stderr.
        const stderrLog = createLogger({ level: 'error', destination: process.stderr });
        const report = await replayCommand(config, opts, stderrLog, createProgress(process.stderr));
        print(reportText(report), report);
        // Like diff(1), a difference is an answer, not a failure: exit 3 (1 stays "the command failed").
        if (report.difference) process.exitCode = 3;
        return;
      }
      if (cmd === 'topics' && sub === undefined) {
        const catalog = topicCatalog(topicNames(config.kafka.topicPrefix));
        print(catalog.map((t) => `${t.topic}  (${t.format}${t.schema ? `, ${t.schema}` : ''})\n    ${t.description}`).join('\n'), {
          topics: catalog,
        });
        return;
      }
      if (cmd === 'sign') {
        process.stdout.write(`${signBody(readFileSync(required(sub, 'FILE')), config.meta.appSecrets[0]!)}\n`);
        return;
      }
      throw usageError(`unknown command "${positionals.join(' ')}"\n${USAGE}`);
  }
}

silenceKafkajsTimeoutWarning();

main(process.argv.slice(2)).catch((err: unknown) => {
  // One line, no stack trace: what failed and what to do.
  const msg = !(err instanceof AppError)
    ? `unexpected error (EC_INTERNAL): ${(err as Error).message ?? String(err)}`
    : err.code === 'EC_CONFIG_INVALID'
      ? `invalid configuration: ${err.message}`
      : err.code === 'EC_USAGE'
        ? err.message
        : `${err.code}: ${err.message}`;
  process.stderr.write(`echocue: ${msg}\n`);
  process.exit(err instanceof AppError ? err.exitCode : 1);
});
