// Contacts: one person in one WABA, known by any of several identities (phone-based wa_id, BSUID, parent BSUID).
// Pure functions; the identity of a contact is a function of its alias set alone, so any order of events that
// links the same aliases ends in the same document (docs/decisions/0005-actors.md).
import { contactIdOf, parentUserAlias, userAlias, waAlias } from '../../store/doc-ids.ts';
import { type ConsentEntry, type ContactDoc, type Stamp } from '../../store/docs.ts';
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

function withConsent(doc: ContactDoc, entries: readonly ConsentEntry[]): ContactDoc {
  const byId = new Map(doc.consent.map((e) => [e.event_id, e]));
  for (const e of entries) byId.set(e.event_id, e);
  const consent = [...byId.values()].sort(compareStamps);
  const newest = consent[consent.length - 1];
  return { ...doc, consent, opted_out_at: newest && newest.value === 'stop' ? newest.at : null };
}

function pick<T>(a: { v: T; s: Stamp | null }, b: { v: T; s: Stamp | null }): { v: T; s: Stamp | null } {
  return b.s !== null && isNewer(b.s, a.s) ? b : a;
}

/** One contact out of several documents that turned out to be the same person, plus any new aliases. */
export function mergeContacts(wabaId: string, docs: readonly ContactDoc[], newAliases: readonly string[], updatedAt: Date): ContactDoc {
  const aliases = [...new Set([...docs.flatMap((d) => d.aliases), ...newAliases])].sort();
  let merged: ContactDoc = {
    _id: contactIdOf(wabaId, aliases),
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
    updated_at: updatedAt,
  };
  for (const d of docs) {
    const wa = pick({ v: merged.wa_id, s: merged.wa_id_stamp }, { v: d.wa_id, s: d.wa_id_stamp });
    const uid = pick({ v: merged.user_id, s: merged.user_id_stamp }, { v: d.user_id, s: d.user_id_stamp });
    const prof = pick({ v: [merged.name, merged.username] as const, s: merged.profile_stamp }, { v: [d.name, d.username] as const, s: d.profile_stamp });
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

export function applyConsent(doc: ContactDoc, entry: ConsentEntry, receivedAt: Date): ContactDoc {
  return withConsent({ ...doc, updated_at: maxDateOr(doc.updated_at, receivedAt) }, [entry]);
}

/** Whole-message opt-out keywords (trimmed, case-folded, NFKC, trailing punctuation dropped). docs/decisions/0005. */
export const STOP_KEYWORDS: ReadonlySet<string> = new Set(['stop', 'unsubscribe']);
export const RESUME_KEYWORDS: ReadonlySet<string> = new Set(['start', 'unstop', 'resume', 'subscribe']);

export function keywordConsent(text: string | null): 'stop' | 'resume' | null {
  if (text === null) return null;
  const t = text.normalize('NFKC').trim().toLowerCase().replace(/[\s.!?¡¿,;:]+$/u, '').trim();
  return STOP_KEYWORDS.has(t) ? 'stop' : RESUME_KEYWORDS.has(t) ? 'resume' : null;
}

/** Notes a thread of the contact (idempotent). */
export function withThread(doc: ContactDoc, threadId: string): ContactDoc {
  return doc.thread_ids.includes(threadId) ? doc : { ...doc, thread_ids: [...doc.thread_ids, threadId].sort() };
}

/** Replaces thread ids after threads were merged into one. */
export function withThreadsRenamed(doc: ContactDoc, renamed: ReadonlyMap<string, string>): ContactDoc {
  return { ...doc, thread_ids: [...new Set(doc.thread_ids.map((id) => renamed.get(id) ?? id))].sort() };
}
