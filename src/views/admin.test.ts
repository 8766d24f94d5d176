// Accounts and API keys as the admin API shows them: a listed key is never the key or its secret (EchoCue keeps a
// hash and a sealed secret, neither shown); a new key is shown once, with both.
import { describe, expect, test } from 'vitest';
import { type ApiKeyDoc } from '../store/accounts.ts';
import { Account, accountView, ApiKey, keySummary, NewKey, newKeyView } from './admin.ts';

const t0 = new Date('2026-03-01T10:00:00.000Z');

const key = (extra: Partial<ApiKeyDoc> = {}): ApiKeyDoc => ({
  _id: 'key_1',
  account_id: 'acc_1',
  key_hash: 'HASH-OF-THE-KEY',
  prefix: 'ec_live_ab12',
  signing_secret: { v: 1, kid: 'kek_1', iv: 'IV-BYTES', tag: 'TAG-BYTES', ct: 'SEALED-SECRET' },
  created_at: t0,
  revoked_at: null,
  ...extra,
});

describe('views > admin', () => {
  test('a listed key shows its prefix and dates, never its hash or its (sealed) signing secret', () => {
    const view = keySummary(key());
    expect(view).toEqual({
      id: 'key_1',
      account_id: 'acc_1',
      prefix: 'ec_live_ab12',
      created_at: '2026-03-01T10:00:00.000Z',
      revoked_at: null,
    });
    const text = JSON.stringify(keySummary(key({ revoked_at: new Date('2026-03-02T00:00:00.000Z') })));
    for (const secret of ['HASH-OF-THE-KEY', 'SEALED-SECRET', 'IV-BYTES', 'TAG-BYTES', 'kek_1']) expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toMatchObject({ revoked_at: '2026-03-02T00:00:00.000Z' });
    expect(ApiKey.parse(view)).toEqual(view);
  });

  test('a new key is shown once with the key and its signing secret in the clear', () => {
    const view = newKeyView({
      id: 'key_2',
      account_id: 'acc_1',
      key: 'ec_live_cd34.SECRET',
      signing_secret: 'whsec',
      prefix: 'ec_live_cd34',
      created_at: t0,
    });
    expect(view).toEqual({
      id: 'key_2',
      account_id: 'acc_1',
      prefix: 'ec_live_cd34',
      created_at: '2026-03-01T10:00:00.000Z',
      key: 'ec_live_cd34.SECRET',
      signing_secret: 'whsec',
    });
    expect(NewKey.parse(view)).toEqual(view);
  });

  test('an account lists the WABAs linked to it', () => {
    const view = accountView({ _id: 'acc_1', name: 'Acme', created_at: t0 }, ['waba1', 'waba2']);
    expect(view).toEqual({ id: 'acc_1', name: 'Acme', created_at: '2026-03-01T10:00:00.000Z', waba_ids: ['waba1', 'waba2'] });
    expect(Account.parse(view)).toEqual(view);
  });
});
