// Actor documents named by what they are rather than by the ids they were given. A contact's or thread's id is
// given when it is created and kept (issue 14, rule 6; docs/decisions/0014-stable-ids.md), so which id a document
// carries depends on which of its identities arrived first, and two runs of the same events in other orders (a
// shuffle, a crash and replay, a backlog applied by topic) may give other ids to the same documents. Comparisons of
// two runs rename: a contact by its WABA and alias set, a thread by its contact and phone number, and every
// reference to them (thread contact_id, contact thread_ids, message thread_id); former_ids are left out (what they
// resolve to is checked where ids are the point: src/actors/apply.test.ts, test/e2e/stable-ids.test.ts).
import { contactIdOf, threadIdOf } from '../src/store/doc-ids.ts';

type Doc = Record<string, any> & { _id: string };

/** `docs`: documents by collection, named either as the actors' collections (contact, thread, message) or as the
 *  store's (ec_contact, ec_thread, ec_message). Returns the same shape, renamed and sorted by _id. */
export function withCanonicalIds<T extends Record<string, readonly unknown[]>>(docs: T): T {
  const pick = (short: string) => (short in docs ? short : `ec_${short}`);
  const [contacts, threads, messages] = (['contact', 'thread', 'message'] as const).map((c) => (docs[pick(c)] ?? []) as Doc[]);
  const contactName = new Map(contacts!.map((c) => [c._id, contactIdOf(c['waba_id'], c['aliases'])]));
  const cn = (id: string) => contactName.get(id) ?? `missing:${id}`;
  const threadName = new Map(threads!.map((t) => [t._id, threadIdOf(t['waba_id'], t['phone_number_id'], cn(t['contact_id']))]));
  const tn = (id: string) => threadName.get(id) ?? `missing:${id}`;
  const byId = (a: Doc, b: Doc) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
  return {
    ...docs,
    [pick('contact')]: contacts!
      .map(({ former_ids: _, ...c }) => ({ ...c, _id: cn(c._id), thread_ids: (c['thread_ids'] as string[]).map(tn).sort() }))
      .sort(byId),
    [pick('thread')]: threads!.map(({ former_ids: _, ...t }) => ({ ...t, _id: tn(t._id), contact_id: cn(t['contact_id']) })).sort(byId),
    [pick('message')]: messages!.map((m) => ({ ...m, thread_id: m['thread_id'] === null ? null : tn(m['thread_id']) })).sort(byId),
  };
}
