// What a stored contact's fields mean, derived the same way by the actors (writing) and the views (reading).
import { type ConsentEntry, type ConsentScope, type ContactDoc } from './docs.ts';
import { isNewer } from './stamps.ts';

/** An entry's scope; entries stored before the two levels have none: a keyword was a global stop, Meta's
 *  user_preferences always only marketing. */
export function consentScope(e: ConsentEntry): ConsentScope {
  return e.scope ?? (e.source === 'keyword' ? 'all' : 'marketing');
}

/** The failure that still holds: none when the contact wrote after it. */
export function currentUnreachable(doc: ContactDoc): ContactDoc['unreachable'] {
  const u = doc.unreachable ?? null;
  return u && !(doc.last_inbound && isNewer(doc.last_inbound, u)) ? u : null;
}
