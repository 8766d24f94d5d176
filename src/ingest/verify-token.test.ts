import { describe, expect, test } from 'vitest';
import { checkHandshake } from './verify-token.ts';

const TOKEN = 'the-verify-token';

describe('ingest > verification handshake', () => {
  test('echoes the challenge when mode and token match', () => {
    expect(checkHandshake({ 'hub.mode': 'subscribe', 'hub.verify_token': TOKEN, 'hub.challenge': '1158201444' }, TOKEN)).toEqual({
      ok: true,
      challenge: '1158201444',
    });
  });

  test.each([
    [{ 'hub.mode': 'unsubscribe', 'hub.verify_token': TOKEN, 'hub.challenge': '1' }, /hub.mode/],
    [{ 'hub.mode': 'subscribe', 'hub.verify_token': 'wrong', 'hub.challenge': '1' }, /verify_token/],
    [{ 'hub.mode': 'subscribe', 'hub.verify_token': `${TOKEN}x`, 'hub.challenge': '1' }, /verify_token/],
    [{ 'hub.mode': 'subscribe', 'hub.challenge': '1' }, /verify_token/],
    [{ 'hub.mode': 'subscribe', 'hub.verify_token': [TOKEN, TOKEN], 'hub.challenge': '1' }, /verify_token/],
    [{ 'hub.mode': 'subscribe', 'hub.verify_token': TOKEN }, /challenge/],
  ])('refuses %o', (query, reason) => {
    const r = checkHandshake(query, TOKEN);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });
});
