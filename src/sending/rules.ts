// What may be sent to a contact, decided from stored state alone (pure, tested without I/O): the number must be
// connected, the person must not have opted out of everything on any of the account's numbers and WABAs ("opted out
// across all channels"), a marketing template needs no marketing opt-out either, a template must be one Meta still
// sends (approved or flagged), and a free-form message needs the 24-hour customer service window open.
import { type ConnectionDoc } from '../store/connections.ts';
import { type ContactDoc, type TemplateDoc, type ThreadDoc } from '../store/docs.ts';

export type RefusalReason =
  'not_connected' | 'no_recipient' | 'opted_out' | 'marketing_opted_out' | 'template_unknown' | 'template_not_approved' | 'window_closed';

export type Refusal = { reason: RefusalReason; message: string };

/** A template's category counts as marketing unless Meta said UTILITY or AUTHENTICATION (unknown: the cautious reading). */
export const isMarketing = (category: string | null | undefined): boolean =>
  !['UTILITY', 'AUTHENTICATION'].includes((category ?? '').toUpperCase());

export type SendCheck = Readonly<{
  now: Date;
  thread: ThreadDoc;
  connection: ConnectionDoc | null;
  /** Every contact of the account that is this person (one per WABA; matched by wa_id or BSUID). */
  person: readonly ContactDoc[];
  /** null: a free-form message (text or media). */
  template: { name: string; language: string; doc: TemplateDoc | null } | null;
}>;

export function sendRefusal(c: SendCheck): Refusal | null {
  const phone = c.thread.phone_number_id;
  if (c.connection === null || c.connection.state !== 'connected')
    return {
      reason: 'not_connected',
      message: `phone number ${phone ?? '(none)'} is not connected to this account through Embedded Signup${c.connection ? ` (it is ${c.connection.state})` : ''}`,
    };
  if (!c.thread.contact.wa_id)
    return {
      reason: 'no_recipient',
      message: "the thread's contact has no phone-based wa_id to send to (a contact known by its BSUID alone cannot be sent to yet)",
    };
  const stopped = c.person.find((p) => p.opted_out_at !== null);
  if (stopped)
    return {
      reason: 'opted_out',
      message: `the contact opted out of all messages on ${stopped.opted_out_at!.toISOString()}${stopped.waba_id !== c.thread.waba_id ? ` (on WABA ${stopped.waba_id})` : ''}`,
    };
  if (c.template) {
    const t = c.template.doc;
    if (t === null)
      return {
        reason: 'template_unknown',
        message: `no template "${c.template.name}" in language ${c.template.language} on WABA ${c.thread.waba_id}`,
      };
    if (!t.broadcastable) return { reason: 'template_not_approved', message: `template "${t.name}" is ${t.whatsapp_status}, not approved` };
    const marketingStop = c.person.find((p) => (p.marketing_opted_out_at ?? null) !== null);
    if (isMarketing(t.category) && marketingStop)
      return {
        reason: 'marketing_opted_out',
        message: `the contact opted out of marketing messages on ${marketingStop.marketing_opted_out_at!.toISOString()}, and template "${t.name}" is ${t.category ?? 'of unknown category (treated as marketing)'}`,
      };
    return null;
  }
  const expires = c.thread.window_expires_at;
  if (expires === null || expires.getTime() <= c.now.getTime())
    return {
      reason: 'window_closed',
      message: `the 24-hour window is closed${expires ? ` since ${expires.toISOString()}` : ' (the contact never wrote to this number)'}: only a template may be sent`,
    };
  return null;
}
