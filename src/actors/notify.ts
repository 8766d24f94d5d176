// What the actors tell outbound webhooks after a batch is stored: for each applied event of an outbound category,
// a notification carrying the resulting state in the same JSON shapes as the REST API (src/views). Reads only the
// session's documents (already loaded and written), so it costs no store round trip.
import { deterministicId } from '../core/ids.ts';
import { type Category, type Notification } from '../events/outbound.ts';
import { aliasesOf } from './contact/reduce.ts';
import { messageIdOf, templateDocId } from '../store/doc-ids.ts';
import { contactView } from '../views/contact.ts';
import { messageView, notificationView } from '../views/message.ts';
import { templateView } from '../views/template.ts';
import { threadView } from '../views/thread.ts';
import { isMarketingRefusal, recipientAliases, type DecodedEvent } from './apply.ts';
import { type Session } from './session.ts';
import { consentScope } from '../store/contact-state.ts';
import { type ContactDoc } from '../store/docs.ts';

const note = (category: Category, d: DecodedEvent, data: Record<string, unknown>): Notification => ({
  id: deterministicId('evt', category, d.event.event_id),
  category,
  waba_id: d.event.waba_id,
  created_at: new Date(d.event.received_at).toISOString(),
  data,
});

/** The consent change an event implied (a typed STOP, a 131050 failure), as its own consent.event notification. */
function derivedConsent(d: DecodedEvent, c: ContactDoc, entryId: string): Notification[] {
  const e = c.consent.find((x) => x.event_id === entryId);
  if (!e) return [];
  const data = { value: e.value, scope: consentScope(e), source: e.source, at: e.at.toISOString(), contact: contactView(c) };
  return [{ ...note('consent.event', d, data), id: deterministicId('evt', 'consent.event', e.event_id) }];
}

/** Notifications for the applied events of a batch, in event order (after Session.flush). */
export async function notificationsOf(s: Session, applied: readonly DecodedEvent[]): Promise<Notification[]> {
  const out: Notification[] = [];
  for (const d of applied) {
    switch (d.type) {
      case 'message.inbound': {
        const m = await s.get('message', messageIdOf(d.event.waba_id, d.event.wamid));
        const t = m?.thread_id ? await s.get('thread', m.thread_id) : null;
        if (m && t) out.push(note('message.inbound', d, { message: messageView(m), thread: threadView(t) }));
        // A typed STOP / START is also a consent change.
        const c = t ? await s.get('contact', t.contact_id) : null;
        if (c) out.push(...derivedConsent(d, c, `${d.event.event_id}:keyword`));
        break;
      }
      case 'message.status': {
        const m = await s.get('message', messageIdOf(d.event.waba_id, d.event.wamid));
        if (m) out.push(note('message.status', d, { status: d.event.status, notification: notificationView(m) }));
        // A 131050 failure is also a marketing opt-out.
        if (isMarketingRefusal(d.event)) {
          const [c] = await s.contactsByAliases(d.event.waba_id, recipientAliases(d.event));
          if (c) out.push(...derivedConsent(d, c, `${d.event.event_id}:131050`));
        }
        break;
      }
      case 'template.status':
      case 'template.quality': {
        const t = await s.get('template', templateDocId(d.event.waba_id, d.event.template_id));
        if (!t) break;
        const trigger =
          d.type === 'template.status'
            ? { event: d.event.event, reason: d.event.reason }
            : { previous_quality_score: d.event.previous_quality_score, new_quality_score: d.event.new_quality_score };
        out.push(note(d.type, d, { ...trigger, template: templateView(t) }));
        break;
      }
      case 'consent.event': {
        const [c] = await s.contactsByAliases(d.event.waba_id, aliasesOf({ wa_id: d.event.wa_id, user_id: d.event.user_id }));
        if (c)
          out.push(
            note('consent.event', d, {
              value: d.event.value,
              scope: 'marketing',
              source: 'user_preferences',
              category: d.event.category,
              contact: contactView(c),
            }),
          );
        break;
      }
      default:
        break;
    }
  }
  return out;
}
