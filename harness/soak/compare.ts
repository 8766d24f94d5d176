// Expected (folded) state vs what the REST API returned: one check per entity (and per list order), and every
// difference named by entity, id, field, expected and got.
//
// Left out of the comparison: each view's `updated_at`, which comes from the store's changed_at (the time of the
// write, not a function of the events), and everything a list or answer carries about the read itself rather than
// the data (ETags, next_cursor, next_updated_since, rate-limit headers). Everything else must be equal.
//
// Contacts and threads are compared by who they are, not by their ids: an id is given when the contact or thread is
// created and kept (issue 14, rule 6; docs/decisions/0014-stable-ids.md), so when two contacts turn out to be one
// person, which id stays depends on which identity arrived first, and the actors see the bodies in another order
// than the fold. A contact is named by its WABA and current wa_id and BSUID (the newest sighting: the same in any
// order), a thread by its contact and phone number; every id and former id either state answers is renamed so, and
// former_ids are left out. A reference to an id the state does not name shows as "unknown ...".
import { type ApiState, type EntityViews } from './read-back.ts';
import { type ExpectedState } from './expected.ts';

type View = Record<string, unknown>;

export type Mismatch = { entity: string; id: string; field: string; expected: unknown; got: unknown };
export type Comparison = { checks: number; passed: number; failed: number; mismatches: Mismatch[] };

/** Store-time stamps, not derived from the events (see the header). */
const STAMPS = ['updated_at'];
const withoutStamps = (v: View): View => Object.fromEntries(Object.entries(v).filter(([k]) => !STAMPS.includes(k)));

/** Every leaf where two JSON values differ, as [path, expected, got]. */
function diff(expected: unknown, got: unknown, path = ''): [string, unknown, unknown][] {
  if (Object.is(expected, got)) return [];
  const bothObjects = typeof expected === 'object' && typeof got === 'object' && expected !== null && got !== null;
  if (!bothObjects || Array.isArray(expected) !== Array.isArray(got)) return [[path || '(whole)', expected, got]];
  if (Array.isArray(expected)) {
    const g = got as unknown[];
    if (expected.length !== g.length)
      return [[`${path}.length`, expected.length, g.length], ...diff(expected.slice(0, g.length), g.slice(0, expected.length), path)];
    return expected.flatMap((e, i) => diff(e, g[i], `${path}[${i}]`));
  }
  const e = expected as View;
  const o = got as View;
  return [...new Set([...Object.keys(e), ...Object.keys(o)])].flatMap((k) => diff(e[k], o[k], path ? `${path}.${k}` : k));
}

type Named = EntityViews & { windows: Map<string, View> };

/** The state with contacts and threads named by who they are (see the header). */
function namedByContent(s: Named): Named {
  const contactName = new Map<string, string>();
  const threadName = new Map<string, string>();
  const person = (waba: unknown, waId: unknown, userId: unknown) => `${waba}|${waId ?? '-'}|${userId ?? '-'}`;
  for (const c of s.contacts.values()) {
    if (typeof c['id'] !== 'string') continue; // not answered with 200: compared as it is
    for (const id of [c['id'], ...((c['former_ids'] as string[] | undefined) ?? [])])
      contactName.set(id, person(c['waba_id'], c['wa_id'], c['user_id']));
  }
  for (const t of s.threads) {
    const c = t['contact'] as View;
    for (const id of [t['id'] as string, ...((t['former_ids'] as string[] | undefined) ?? [])])
      threadName.set(id, `${person(t['waba_id'], c['wa_id'], c['user_id'])}|${t['phone_number_id']}`);
  }
  const name = (names: Map<string, string>, kind: string) => (id: unknown) =>
    typeof id === 'string' ? (names.get(id) ?? `unknown ${kind} ${id}`) : id;
  const cn = name(contactName, 'contact');
  const tn = name(threadName, 'thread');
  const lessFormer = ({ former_ids: _, ...v }: View): View => v;
  return {
    ...s,
    threads: s.threads.map((t) => ({
      ...lessFormer(t),
      id: tn(t['id']),
      contact: { ...(t['contact'] as View), id: cn((t['contact'] as View)['id']) },
    })),
    messages: new Map([...s.messages].map(([id, ms]) => [tn(id) as string, ms.map((m) => ({ ...m, thread_id: tn(m['thread_id']) }))])),
    contacts: new Map(
      [...s.contacts].map(([ref, c]) =>
        typeof c['id'] === 'string'
          ? [cn(c['id']) as string, { ...lessFormer(c), id: cn(c['id']), thread_ids: (c['thread_ids'] as string[]).map(tn).sort() }]
          : [`asked as ${ref}`, c],
      ),
    ),
    windows: new Map(
      [...s.windows].map(([id, w]) => [tn(id) as string, { ...w, thread_id: tn(w['thread_id']), contact_id: cn(w['contact_id']) }]),
    ),
  };
}

/** A list's order with the items of equal `key` (consecutive, as answered) sorted by name: ties among threads are
 *  broken by id, and ids depend on arrival order (see the header). The order between different keys stays as answered. */
function tiesByName(items: readonly View[], key: string): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < items.length;) {
    let j = i;
    while (j < items.length && items[j]![key] === items[i]![key]) j++;
    out.push(
      ...items
        .slice(i, j)
        .map((v) => v['id'] as string)
        .sort(),
    );
    i = j;
  }
  return out;
}

export function compareStates(expectedState: ExpectedState, apiState: ApiState, now: Date): Comparison {
  const expected = namedByContent({
    ...expectedState,
    windows: new Map(expectedState.threads.map((t) => [t['id'] as string, expectedState.window(t['id'] as string, now)])),
  });
  const api = namedByContent(apiState);
  const mismatches: Mismatch[] = [];
  let checks = 0;
  let failed = 0;
  const check = (entity: string, id: string, want: unknown, got: unknown) => {
    checks++;
    const found = diff(want, got).map(([field, e, g]) => ({ entity, id, field, expected: e, got: g }));
    if (found.length > 0) failed++;
    mismatches.push(...found);
  };
  const views = (entity: string, want: readonly View[], got: readonly View[], scope = '', tieKey: string | null = null) => {
    // The order of the list, then each item by id (so one misplaced item is one order failure, not many).
    const order = (vs: readonly View[]) => (tieKey ? tiesByName(vs, tieKey) : vs.map((v) => v['id']));
    check(`${entity} order`, scope || 'all', order(want), order(got));
    const byId = new Map(got.map((v) => [v['id'] as string, v]));
    for (const w of want)
      check(
        entity,
        w['id'] as string,
        withoutStamps(w),
        byId.has(w['id'] as string) ? withoutStamps(byId.get(w['id'] as string)!) : '(missing)',
      );
    const known = new Set(want.map((v) => v['id']));
    for (const g of got) if (!known.has(g['id'])) check(entity, g['id'] as string, '(absent)', withoutStamps(g));
  };

  views('thread', expected.threads, api.threads, '', 'last_message_at');
  views('template', expected.templates, api.templates);
  for (const t of expected.threads) {
    const id = t['id'] as string;
    views('message', expected.messages.get(id) ?? [], api.messages.get(id) ?? [], id);
    check('window', id, expected.windows.get(id), api.windows.get(id) ?? '(not read)');
  }
  for (const [id, c] of expected.contacts)
    check('contact', id, withoutStamps(c), api.contacts.has(id) ? withoutStamps(api.contacts.get(id)!) : '(not read)');
  for (const [id, c] of api.contacts) if (!expected.contacts.has(id)) check('contact', id, '(absent)', withoutStamps(c));
  for (const [wamid, n] of expected.notifications)
    check(
      'notification',
      wamid,
      withoutStamps(n),
      api.notifications.has(wamid) ? withoutStamps(api.notifications.get(wamid)!) : '(not read)',
    );
  return { checks, passed: checks - failed, failed, mismatches };
}

/** A short text of the first differences, for a failure message or a bench note. */
export function describeMismatches(m: readonly Mismatch[], max = 25): string {
  const line = (x: Mismatch) => `${x.entity} ${x.id} ${x.field}: expected ${JSON.stringify(x.expected)}, got ${JSON.stringify(x.got)}`;
  return [...m.slice(0, max).map(line), ...(m.length > max ? [`... and ${m.length - max} more`] : [])].join('\n');
}
