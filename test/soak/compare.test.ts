// The soak's comparison is only as good as its ability to see a difference: an API answer equal to the expectation
// passes, and each kind of damage (a changed field, a missing message, a swapped list order, an extra contact, a
// 404) is reported with its entity, id and field. No services: the "API" here is the expectation itself, altered.
import { describe, expect, test } from 'vitest';
import { compareStates } from '../../harness/soak/compare.ts';
import { Expectation, type ExpectedState } from '../../harness/soak/expected.ts';
import { type ApiState } from '../../harness/soak/read-back.ts';
import { soakScenario } from '../../harness/soak/scenario.ts';

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
    // Two neighbours of different times (threads of the same time may come in any order: compare.ts says why).
    const i = api.threads.findIndex((t, k) => k > 0 && t['last_message_at'] !== api.threads[k - 1]!['last_message_at']);
    [api.threads[i - 1], api.threads[i]] = [api.threads[i]!, api.threads[i - 1]!];
    api.contacts.set('15559999999', { id: 'con_extra', waba_id: '500000000000999', wa_id: '15559999999', user_id: null, thread_ids: [] });
    const [contactId] = [...api.contacts.keys()];
    api.contacts.set(contactId!, { status: 404, body: { error: { code: 'EC_NOT_FOUND' } } });

    const r = compareStates(x, api, now);
    // Contacts and threads are named by who they are (compare.ts): found here by the part of the name they hold.
    const seen = (entity: string, id: string, field: string) =>
      r.mismatches.some((m) => m.entity === entity && m.id.includes(id) && m.field.startsWith(field));
    expect(seen('notification', wamid, 'delivery_status')).toBe(true);
    expect(r.mismatches.find((m) => m.entity === 'notification')).toMatchObject({ expected: 'read', got: 'delivered' });
    const thread = x.threads.find((t) => t['id'] === threadId)!;
    expect(
      seen(
        'message order',
        `${(thread['contact'] as Record<string, unknown>)['wa_id'] ?? '-'}|${(thread['contact'] as Record<string, unknown>)['user_id'] ?? '-'}|${thread['phone_number_id']}`,
        '.length',
      ),
    ).toBe(true);
    expect(seen('message', dropped['id'] as string, '(whole)')).toBe(true);
    expect(seen('thread order', 'all', `[${i - 1}]`)).toBe(true);
    expect(seen('contact', '15559999999', '(whole)')).toBe(true);
    expect(seen('contact', `asked as ${contactId}`, '(whole)')).toBe(true);
    // Six damages; the contact answered 404 is also missing under its name, and its threads and their windows name
    // a contact the API did not answer (two threads here): 6 + 1 + 2 + 2.
    expect(r.failed).toBe(11);
  });
});
