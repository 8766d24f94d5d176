// Single-resource reads: the 24-hour window, a notification (outbound message), a contact.
import { z } from 'zod';
import { type Clock } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { type ContactReads } from '../../store/contacts.ts';
import { type MessageReads } from '../../store/messages.ts';
import { type ThreadReads } from '../../store/threads.ts';
import { defineRoute, type Route } from '../route.ts';
import { Contact, contactView } from '../../views/contact.ts';
import { Notification, notificationView } from '../../views/message.ts';
import { Window, windowView } from '../../views/window.ts';

export type LookupRouteDeps = Readonly<{ threads: ThreadReads; messages: MessageReads; contacts: ContactReads; clock: Clock }>;

const contactRef = z.string().min(1).max(256);

const contactParam = z.object({ id: contactRef.meta({ description: 'EchoCue contact id (con_...), wa_id, or business-scoped user id.' }) });

export function lookupRoutes(deps: LookupRouteDeps): Route[] {
  /** The contact `id` names within the caller's WABAs, or EC_NOT_FOUND (another tenant's is missing too). */
  const contactOf = async (wabaIds: readonly string[], id: string) => {
    const c = await deps.contacts.byIdOrAlias(wabaIds, id);
    if (!c) throw new AppError('EC_NOT_FOUND', `no contact ${id}`);
    return c;
  };
  return [
    defineRoute({
      method: 'get',
      path: '/api/whatsapp/window',
      operationId: 'getWindow',
      tag: 'contacts',
      summary: 'Is the 24-hour window open for a contact on a phone number, and until when',
      description: 'A contact who never wrote to the number (or is unknown) has a closed window.',
      access: 'api_key',
      query: z.strictObject({
        phone_number_id: z.string().min(1).meta({ description: 'The business phone number id.' }),
        contact: contactRef.meta({ description: 'EchoCue contact id (con_...), wa_id, or business-scoped user id.' }),
      }),
      response: Window,
      errors: [400],
      handle: async ({ query, caller }) => {
        // The number belongs to one of the account's WABAs, and the person is one contact per WABA: the window is
        // the thread of that number with the contact of its WABA (not the contact changed last, on another WABA).
        const found = await deps.contacts.allByIdOrAlias(caller.wabaIds, query.contact);
        const threads = await Promise.all(found.map((c) => deps.threads.ofContact(c, query.phone_number_id)));
        const at = threads.findIndex((t) => t !== null);
        const contact = at >= 0 ? found[at]! : (found[0] ?? null);
        return windowView(query.phone_number_id, contact?._id ?? null, at >= 0 ? threads[at]! : null, deps.clock.now());
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/notification/{id}',
      operationId: 'getNotification',
      tag: 'messages',
      summary: "One outbound message's delivery state and failure",
      access: 'api_key',
      params: z.object({ id: z.string().min(1).max(512).meta({ description: "EchoCue message id (msg_...) or Meta's wamid." }) }),
      response: Notification,
      errors: [404],
      handle: async ({ params, caller }) => {
        const m = await deps.messages.byIdOrWamid(caller.wabaIds, params.id);
        if (!m || m.direction !== 'outbound') throw new AppError('EC_NOT_FOUND', `no outbound message ${params.id}`);
        return notificationView(m);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/contact/{id}',
      operationId: 'getContact',
      tag: 'contacts',
      summary: 'A contact, with its consent history (look for opted_out_at)',
      access: 'api_key',
      params: contactParam,
      response: Contact,
      errors: [404],
      handle: async ({ params, caller }) => {
        const c = await contactOf(caller.wabaIds, params.id);
        return contactView(c, { reviewCleared: await deps.contacts.reviewCleared(c) });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/contact/{id}/review/clear',
      operationId: 'clearContactReview',
      tag: 'contacts',
      summary: "Clear the contact's review flag (needs_review) once a person has looked at it",
      access: 'api_key',
      params: contactParam,
      response: Contact,
      errors: [404],
      handle: async ({ params, caller }) => {
        const c = await contactOf(caller.wabaIds, params.id);
        await deps.contacts.clearReview(c, deps.clock.now());
        return contactView(c, { reviewCleared: c.needs_review !== null && c.needs_review !== undefined });
      },
    }),
  ];
}
