// Contacts: one person in one WABA, known by any of several identities (phone-based wa_id, BSUID, parent BSUID).
// Pure functions. A contact's id is given once, when it is created (from the aliases of the event that created
// it), and never changes: a new number or BSUID adds an alias, and two contacts that turn out to be one person keep
// the smaller id, the other staying resolvable as a former id (issue 14, rule 6; docs/decisions/0014-stable-ids.md).
// Any order of events that links the same aliases ends in the same content under, at most, another id.
import { contactIdOf, parentUserAlias, userAlias, waAlias } from '../../store/doc-ids.ts';
import { consentScope } from '../../store/contact-state.ts';
import { type ConsentEntry, type ConsentScope, type ContactDoc, type Stamp } from '../../store/docs.ts';
import { compareStamps, isNewer, maxDateOr } from '../stamp.ts';

export type Identity = { wa_id?: string | null; user_id?: string | null; parent_user_id?: string | null };

export function aliasesOf(...ids: Identity[]): string[] {
  const out = new Set<string>();
  for (const i of ids) {
    if (i.wa_id) out.add(waAlias(i.wa_id));
    if (i.user_id) out.add(userAlias(i.user_id));
    if (i.parent_user_id) out.add(parentUserAlias(i.parent_user_id));
  }
  return [...out].sort();
}

export { contactIdOf };

/** When the newest entry of a scope is a stop, its time; else null. */
function stoppedAt(consent: readonly ConsentEntry[], scope: ConsentScope): Date | null {
  const newest = consent.filter((e) => consentScope(e) === scope).at(-1);
  return newest && newest.value === 'stop' ? newest.at : null;
}

function withConsent(doc: ContactDoc, entries: readonly ConsentEntry[]): ContactDoc {
  const byId = new Map(doc.consent.map((e) => [e.event_id, e]));
  for (const e of entries) byId.set(e.event_id, e);
  const consent = [...byId.values()].sort(compareStamps);
  return { ...doc, consent, opted_out_at: stoppedAt(consent, 'all'), marketing_opted_out_at: stoppedAt(consent, 'marketing') };
}

function pick<T>(a: { v: T; s: Stamp | null }, b: { v: T; s: Stamp | null }): { v: T; s: Stamp | null } {
  return b.s !== null && isNewer(b.s, a.s) ? b : a;
}

/** One contact out of several documents that turned out to be the same person, plus any new aliases (no
 *  documents: a new contact). It keeps the smallest of their ids; the others are its former ids. */
export function mergeContacts(wabaId: string, docs: readonly ContactDoc[], newAliases: readonly string[], updatedAt: Date): ContactDoc {
  const aliases = [...new Set([...docs.flatMap((d) => d.aliases), ...newAliases])].sort();
  const [id = contactIdOf(wabaId, aliases), ...others] = docs.map((d) => d._id).sort();
  const formerIds = [...new Set([...docs.flatMap((d) => d.former_ids ?? []), ...others])].sort();
  let merged: ContactDoc = {
    _id: id,
    ...(formerIds.length > 0 ? { former_ids: formerIds } : {}),
    waba_id: wabaId,
    aliases,
    wa_id: null,
    wa_id_stamp: null,
    user_id: null,
    user_id_stamp: null,
    name: null,
    username: null,
    profile_stamp: null,
    consent: [],
    thread_ids: [],
    opted_out_at: null,
    marketing_opted_out_at: null,
    unreachable: null,
    last_inbound: null,
    needs_review: null,
    updated_at: updatedAt,
  };
  for (const d of docs) {
    const wa = pick({ v: merged.wa_id, s: merged.wa_id_stamp }, { v: d.wa_id, s: d.wa_id_stamp });
    const uid = pick({ v: merged.user_id, s: merged.user_id_stamp }, { v: d.user_id, s: d.user_id_stamp });
    const prof = pick(
      { v: [merged.name, merged.username] as const, s: merged.profile_stamp },
      { v: [d.name, d.username] as const, s: d.profile_stamp },
    );
    merged = withConsent(
      {
        ...merged,
        wa_id: wa.v ?? merged.wa_id ?? d.wa_id,
        wa_id_stamp: wa.s,
        user_id: uid.v ?? merged.user_id ?? d.user_id,
        user_id_stamp: uid.s,
        name: prof.v[0],
        username: prof.v[1],
        profile_stamp: prof.s,
        thread_ids: [...new Set([...merged.thread_ids, ...d.thread_ids])].sort(),
        unreachable: newest(merged.unreachable ?? null, d.unreachable ?? null),
        last_inbound: newest(merged.last_inbound ?? null, d.last_inbound ?? null),
        needs_review: newest(merged.needs_review ?? null, d.needs_review ?? null),
        updated_at: maxDateOr(merged.updated_at, d.updated_at),
      },
      d.consent,
    );
  }
  return merged;
}

export type Sighting = {
  stamp: Stamp;
  receivedAt: Date;
  wa_id?: string | null;
  user_id?: string | null;
  name?: string | null;
  username?: string | null;
};

/** What an event says about the person now: the newest sighting sets the current wa_id, BSUID and profile. */
export function applySighting(doc: ContactDoc, s: Sighting): ContactDoc {
  const next = { ...doc, updated_at: maxDateOr(doc.updated_at, s.receivedAt) };
  if (s.wa_id && isNewer(s.stamp, doc.wa_id_stamp)) Object.assign(next, { wa_id: s.wa_id, wa_id_stamp: s.stamp });
  if (s.user_id && isNewer(s.stamp, doc.user_id_stamp)) Object.assign(next, { user_id: s.user_id, user_id_stamp: s.stamp });
  if ((s.name || s.username) && isNewer(s.stamp, doc.profile_stamp)) {
    Object.assign(next, { name: s.name ?? doc.name, username: s.username ?? doc.username, profile_stamp: s.stamp });
  }
  return next;
}

/** The newer of two stamped values (either may be absent). */
function newest<T extends Stamp>(a: T | null, b: T | null): T | null {
  return a === null ? b : b === null ? a : isNewer(b, a) ? b : a;
}

/** Profile fields from a contacts block that carries no identity news (a status's recipient block): name and
 *  username when present and newer, never blanked. */
export function applyProfile(doc: ContactDoc, stamp: Stamp, profile: { name?: string | null; username?: string | null }): ContactDoc {
  if (!(profile.name || profile.username) || !isNewer(stamp, doc.profile_stamp)) return doc;
  return { ...doc, name: profile.name || doc.name, username: profile.username || doc.username, profile_stamp: stamp };
}

/** Meta's failure codes that mean a message cannot reach this user (docs/meta-webhooks.md §9): 131026 message
 *  undeliverable (not on WhatsApp, terms not accepted, old client), 131021 recipient cannot be the sender, 131030
 *  recipient not in the allowed list. 131050 is a marketing opt-out instead (applyConsent); 131047 and 131049 are
 *  about timing and limits, not the user. */
export const UNREACHABLE_CODES: ReadonlySet<number> = new Set([131026, 131021, 131030]);

/** The stamped fields of a contact that keep their newest value: `unreachable` (a failure that means the contact
 *  cannot be reached), `last_inbound` (the newest message the contact wrote: a failure before it no longer holds),
 *  `needs_review` (the newest near-miss opt-out). */
type NewestField = 'unreachable' | 'last_inbound' | 'needs_review';

/** Keeps the newer of the field's value and `value` (any order of events, one result); the same doc when unchanged. */
export function withNewest<K extends NewestField>(doc: ContactDoc, key: K, value: NonNullable<ContactDoc[K]>): ContactDoc {
  const current = (doc[key] ?? null) as Stamp | null;
  const kept = newest(current, value as Stamp);
  return kept === current ? doc : { ...doc, [key]: kept };
}

export function applyConsent(doc: ContactDoc, entry: ConsentEntry, receivedAt: Date): ContactDoc {
  return withConsent({ ...doc, updated_at: maxDateOr(doc.updated_at, receivedAt) }, [entry]);
}

/** Whole-message opt-out keywords (trimmed, case-folded, NFKC, trailing punctuation dropped). docs/decisions/0005. */
export const STOP_KEYWORDS: ReadonlySet<string> = new Set(['stop', 'unsubscribe']);
export const RESUME_KEYWORDS: ReadonlySet<string> = new Set(['start', 'unstop', 'resume', 'subscribe']);

const normalised = (text: string) =>
  text
    .normalize('NFKC')
    .trim()
    .toLowerCase()
    .replace(/[\s.!?¡¿,;:]+$/u, '')
    .trim();

export function keywordConsent(text: string | null): 'stop' | 'resume' | null {
  if (text === null) return null;
  const t = normalised(text);
  return STOP_KEYWORDS.has(t) ? 'stop' : RESUME_KEYWORDS.has(t) ? 'resume' : null;
}

/** A stop keyword as a word of a longer text ("stop please", "please unsubscribe me", "don't stop the reminders"):
 *  not an opt-out (a false positive silences a customer who still wants service messages), but one a person should
 *  look at (docs/meta-webhooks.md §8.2). */
const STOP_WORD = new RegExp(`(?:^|[^\\p{L}\\p{N}])(?:${[...STOP_KEYWORDS].join('|')})(?:$|[^\\p{L}\\p{N}])`, 'u');

export function isStopNearMiss(text: string | null): boolean {
  if (text === null) return false;
  const t = normalised(text);
  return !STOP_KEYWORDS.has(t) && STOP_WORD.test(t);
}

/** Notes a thread of the contact (idempotent). */
export function withThread(doc: ContactDoc, threadId: string): ContactDoc {
  return doc.thread_ids.includes(threadId) ? doc : { ...doc, thread_ids: [...doc.thread_ids, threadId].sort() };
}

/** Replaces thread ids after threads were merged into one. */
export function withThreadsRenamed(doc: ContactDoc, renamed: ReadonlyMap<string, string>): ContactDoc {
  return { ...doc, thread_ids: [...new Set(doc.thread_ids.map((id) => renamed.get(id) ?? id))].sort() };
}
