// Expected (folded) state vs what the REST API returned: one check per entity (and per list order), and every
// difference named by entity, id, field, expected and got.
//
// Left out of the comparison: each view's `updated_at`, which comes from the store's changed_at (the time of the
// write, not a function of the events), and everything a list or answer carries about the read itself rather than
// the data (ETags, next_cursor, next_updated_since, rate-limit headers). Everything else must be equal.
import { type ApiState } from './read-back.ts';
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
    if (expected.length !== g.length) return [[`${path}.length`, expected.length, g.length], ...diff(expected.slice(0, g.length), g.slice(0, expected.length), path)];
    return expected.flatMap((e, i) => diff(e, g[i], `${path}[${i}]`));
  }
  const e = expected as View;
  const o = got as View;
  return [...new Set([...Object.keys(e), ...Object.keys(o)])].flatMap((k) => diff(e[k], o[k], path ? `${path}.${k}` : k));
}

export function compareStates(expected: ExpectedState, api: ApiState, now: Date): Comparison {
  const mismatches: Mismatch[] = [];
  let checks = 0;
  let failed = 0;
  const check = (entity: string, id: string, want: unknown, got: unknown) => {
    checks++;
    const found = diff(want, got).map(([field, e, g]) => ({ entity, id, field, expected: e, got: g }));
    if (found.length > 0) failed++;
    mismatches.push(...found);
  };
  const views = (entity: string, want: readonly View[], got: readonly View[], scope = '') => {
    // The order of the list, then each item by id (so one misplaced item is one order failure, not many).
    check(`${entity} order`, scope || 'all', want.map((v) => v['id']), got.map((v) => v['id']));
    const byId = new Map(got.map((v) => [v['id'] as string, v]));
    for (const w of want) check(entity, w['id'] as string, withoutStamps(w), byId.has(w['id'] as string) ? withoutStamps(byId.get(w['id'] as string)!) : '(missing)');
    const known = new Set(want.map((v) => v['id']));
    for (const g of got) if (!known.has(g['id'])) check(entity, g['id'] as string, '(absent)', withoutStamps(g));
  };

  views('thread', expected.threads, api.threads);
  views('template', expected.templates, api.templates);
  for (const t of expected.threads) {
    const id = t['id'] as string;
    views('message', expected.messages.get(id) ?? [], api.messages.get(id) ?? [], `thread ${id}`);
    check('window', id, expected.window(id, now), api.windows.get(id) ?? '(not read)');
  }
  for (const [id, c] of expected.contacts) check('contact', id, withoutStamps(c), api.contacts.has(id) ? withoutStamps(api.contacts.get(id)!) : '(not read)');
  for (const [id, c] of api.contacts) if (!expected.contacts.has(id)) check('contact', id, '(absent)', withoutStamps(c));
  for (const [wamid, n] of expected.notifications) check('notification', wamid, withoutStamps(n), api.notifications.has(wamid) ? withoutStamps(api.notifications.get(wamid)!) : '(not read)');
  return { checks, passed: checks - failed, failed, mismatches };
}

/** A short text of the first differences, for a failure message or a bench note. */
export function describeMismatches(m: readonly Mismatch[], max = 25): string {
  const line = (x: Mismatch) => `${x.entity} ${x.id} ${x.field}: expected ${JSON.stringify(x.expected)}, got ${JSON.stringify(x.got)}`;
  return [...m.slice(0, max).map(line), ...(m.length > max ? [`... and ${m.length - max} more`] : [])].join('\n');
}
