import { describe, expect, test } from 'vitest';
import { newEndpointSecret, standardHeaders, verifyStandard } from './standard-signature.ts';

// The test vector of the Standard Webhooks reference libraries (standard-webhooks/standard-webhooks, libraries/*/test).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: new Date(1_614_265_330_000),
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signing', () => {
  test("matches the reference libraries' test vector", () => {
    expect(standardHeaders({ secrets: [VECTOR.secret], id: VECTOR.id, timestamp: VECTOR.timestamp, body: VECTOR.body })).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': VECTOR.signature,
    });
  });

  test('during a rotation every live secret signs: one v1 signature each, newest first; either verifies', () => {
    const [fresh, old] = [newEndpointSecret(), VECTOR.secret];
    const h = standardHeaders({ secrets: [fresh, old], id: 'evt_1', timestamp: VECTOR.timestamp, body: '{}' });
    const sigs = h['webhook-signature']!.split(' ');
    expect(sigs).toHaveLength(2);
    expect(sigs.every((s) => /^v1,[A-Za-z0-9+/]{43}=$/.test(s))).toBe(true);
    const input = { body: '{}', id: 'evt_1', timestamp: h['webhook-timestamp'], signature: h['webhook-signature'] };
    for (const secret of [fresh, old]) expect(verifyStandard({ ...input, secret }, { now: VECTOR.timestamp })).toBe(true);
    expect(verifyStandard({ ...input, secret: newEndpointSecret() }, { now: VECTOR.timestamp })).toBe(false);
  });

  test('the receiver check refuses a changed body, id or timestamp, and a timestamp outside the tolerance (a replay)', () => {
    const h = standardHeaders({ secrets: [VECTOR.secret], id: VECTOR.id, timestamp: VECTOR.timestamp, body: VECTOR.body });
    const ok = {
      body: VECTOR.body,
      id: VECTOR.id,
      timestamp: h['webhook-timestamp'],
      signature: h['webhook-signature'],
      secret: VECTOR.secret,
    };
    const at = (s: number) => ({ now: new Date(VECTOR.timestamp.getTime() + s * 1000) });
    expect(verifyStandard(ok, at(299))).toBe(true);
    expect(verifyStandard(ok, at(301))).toBe(false);
    expect(verifyStandard(ok, at(-301))).toBe(false);
    expect(verifyStandard({ ...ok, body: '{"test": 2432232315}' }, at(0))).toBe(false);
    expect(verifyStandard({ ...ok, id: 'msg_other' }, at(0))).toBe(false);
    expect(verifyStandard({ ...ok, timestamp: '1614265331' }, at(0))).toBe(false);
    expect(verifyStandard({ ...ok, signature: undefined }, at(0))).toBe(false);
  });

  test('refuses to sign without a secret, with a malformed secret or an id the scheme cannot carry', () => {
    const base = { id: 'evt_1', timestamp: VECTOR.timestamp, body: '{}' };
    expect(() => standardHeaders({ ...base, secrets: [] })).toThrow(/no signing secret/);
    expect(() => standardHeaders({ ...base, secrets: ['ecs_not-a-whsec'] })).toThrow(/not a whsec_ key/);
    expect(() => standardHeaders({ ...base, secrets: [VECTOR.secret], id: 'a.b' })).toThrow(/dot or space/);
    expect(newEndpointSecret()).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  });
});
