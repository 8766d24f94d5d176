// The soak's comparison is only as good as its ability to see a difference: an API answer equal to the expectation
// passes, and each kind of damage (a changed field, a missing message, a swapped list order, an extra contact, a
// 404) is reported with its entity, id and field. No services: the "API" here is the expectation itself, altered.
import { describe, expect, test } from 'vitest';
import { compareStates } from './compare.ts';
import { Expectation, type ExpectedState } from './expected.ts';
import { type ApiState } from './read-back.ts';
import { soakScenario } from './scenario.ts';

const now = new Date();

async function expected(): Promise<ExpectedState> {
  const e = new Expectation();
  await e.fold(soakScenario({ wabaId: '500000000000999', bodies: 60, secret: 'test-secret' }).posts.map((p) => p.body));
  expect(e.rejected).toEqual([]);
  return e.render();
}

/** What a perfect API would answer (store stamps set to something else: they are not compared). */
function perfectApi(x: ExpectedState): ApiState {
  const stamped = <T extends Record<string, unknown>>(v: T): T => structuredClone({ ...v, updated_at: '2030-01-01T00:00:00.000Z' });
  return {
    threads: x.threads.map(stamped),
    templates: x.templates.map(stamped),
    messages: new Map([...x.messages].map(([id, ms]) => [id, ms.map(stamped)])),
    contacts: new Map([...x.contacts].map(([id, c]) => [id, stamped(c)])),
    notifications: new Map([...x.notifications].map(([id, n]) => [id, stamped(n)])),
    windows: new Map(x.threads.map((t) => [t['id'] as string, x.window(t['id'] as string, now)])),
    requests: 0,
  };
}

describe('soak > compare', () => {
  test('an API answering exactly the folded state passes every check', async () => {
    const x = await expected();
    const r = compareStates(x, perfectApi(x), now);
    expect(r.mismatches).toEqual([]);
    expect(r.checks).toBe(r.passed);
    expect(r.checks).toBeGreaterThan(x.threads.length + x.contacts.size + x.notifications.size);
  });

  test('each kind of difference is reported by entity, id and field', async () => {
    const x = await expected();
    const api = perfectApi(x);
    const [wamid, n] = [...api.notifications].find(([, v]) => v['delivery_status'] === 'read')!;
    api.notifications.set(wamid, { ...n, delivery_status: 'delivered' });
    const [threadId, ms] = [...api.messages].find(([, v]) => v.length >= 2)!;
    const dropped = ms.pop()!;
    [api.threads[0], api.threads[1]] = [api.threads[1]!, api.threads[0]!];
    api.contacts.set('con_extra', { id: 'con_extra' });
    const [contactId] = [...api.contacts.keys()];
    api.contacts.set(contactId!, { status: 404, body: { error: { code: 'EC_NOT_FOUND' } } });

    const r = compareStates(x, api, now);
    const seen = (entity: string, id: string, field: string) => r.mismatches.some((m) => m.entity === entity && m.id === id && m.field.startsWith(field));
    expect(seen('notification', wamid, 'delivery_status')).toBe(true);
    expect(r.mismatches.find((m) => m.entity === 'notification')).toMatchObject({ expected: 'read', got: 'delivered' });
    expect(seen('message order', `thread ${threadId}`, '.length')).toBe(true);
    expect(seen('message', dropped['id'] as string, '(whole)')).toBe(true);
    expect(seen('thread order', 'all', '[0]')).toBe(true);
    expect(seen('contact', 'con_extra', '(whole)')).toBe(true);
    expect(seen('contact', contactId!, 'id')).toBe(true);
    expect(r.failed).toBe(6);
  });
});
