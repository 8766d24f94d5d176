// Applies one batch of decoded events, in order, through a Session: load -> pure reducers -> one write at the end.
// An event that cannot be applied (impossible data) is returned as rejected, for the dead-letter topic; the rest
// of the batch still applies.
import { AppError } from '../core/errors.ts';
import { deterministicId } from '../core/ids.ts';
import {
  type AccountUpdateEvent,
  type ConsentEventEvent,
  type IdentityChangeEvent,
  type MessageInboundEvent,
  type MessageOutboundEvent,
  type MessageStatusEvent,
  type TemplateCategoryEvent,
  type TemplateComponentsEvent,
  type TemplateQualityEvent,
  type TemplateStatusEvent,
  type ThreadReadEvent,
} from '../events/generated/event-types.ts';
import { type EventType } from '../events/topics.ts';
import { type ConsentEntry, type ContactDoc, type ThreadDoc } from '../store/docs.ts';
import { applyAccountUpdate, emptyWabaState } from './account/reduce.ts';
import {
  aliasesOf,
  applyConsent,
  applyProfile,
  applySighting,
  isStopNearMiss,
  keywordConsent,
  UNREACHABLE_CODES,
  mergeContacts,
  withNewest,
  withThread,
  withThreadsRenamed,
  type Identity,
} from './contact/reduce.ts';
import { applyReaction, reactionOf } from './message/reactions.ts';
import { applySent, applyStatus, emptyMessage, messageIdOf, withInboundMessage } from './message/reduce.ts';
import { messageKind } from '../store/message-kind.ts';
import { consentScope } from '../store/contact-state.ts';
import { isRecipientId } from '../store/doc-ids.ts';
import { type Session } from './session.ts';
import { maxDateOr, metaTimeToDate } from './stamp.ts';
import {
  applyTemplateCategory,
  applyTemplateComponents,
  applyTemplateQuality,
  applyTemplateStatus,
  emptyTemplate,
  templateDocId,
} from './template/reduce.ts';
import { applyInbound, applyOutbound, applyRead, emptyThread, mergeThreads, threadIdOf } from './thread/reduce.ts';

/** The event types the actors consume (webhook.error and unknown are for people and data teams). */
export const ACTOR_EVENT_TYPES = [
  'message.inbound',
  'message.status',
  'template.status',
  'template.quality',
  'template.category',
  'template.components',
  'consent.event',
  'identity.change',
  'account.update',
  'thread.read',
  'message.outbound',
] as const satisfies readonly EventType[];
export type ActorEventType = (typeof ACTOR_EVENT_TYPES)[number];

export type DecodedEvent =
  | { type: 'message.inbound'; event: MessageInboundEvent }
  | { type: 'message.status'; event: MessageStatusEvent }
  | { type: 'template.status'; event: TemplateStatusEvent }
  | { type: 'template.quality'; event: TemplateQualityEvent }
  | { type: 'template.category'; event: TemplateCategoryEvent }
  | { type: 'template.components'; event: TemplateComponentsEvent }
  | { type: 'consent.event'; event: ConsentEventEvent }
  | { type: 'identity.change'; event: IdentityChangeEvent }
  | { type: 'account.update'; event: AccountUpdateEvent }
  | { type: 'thread.read'; event: ThreadReadEvent }
  | { type: 'message.outbound'; event: MessageOutboundEvent };

const unapplicable = (reason: string) => new AppError('EC_EVENT_UNAPPLICABLE', reason);
const at = (t: string | number | null, receivedAt: number) => metaTimeToDate(t) ?? new Date(receivedAt);

/** Finds every contact holding any of the aliases and makes them one contact: the smallest id stays, the others
 *  become its former ids (issue 14, rule 6). Their threads join per phone number the same way. */
async function resolveContact(s: Session, wabaId: string, aliases: string[], receivedAt: Date): Promise<ContactDoc> {
  const docs = await s.contactsByAliases(wabaId, aliases);
  if (docs.length === 1 && aliases.every((a) => docs[0]!.aliases.includes(a))) return docs[0]!;
  let merged = mergeContacts(wabaId, docs, aliases, receivedAt);
  if (docs.length > 1) merged = await joinThreads(s, docs, merged);
  for (const d of docs) if (d._id !== merged._id) s.delete('contact', d._id);
  s.put('contact', merged);
  return merged;
}

/** The threads of contacts that turned out to be one person: those of one phone number become one thread, which
 *  keeps the smallest id (the others still resolve to it); a thread alone on its number keeps its id and moves. */
async function joinThreads(s: Session, docs: readonly ContactDoc[], contact: ContactDoc): Promise<ContactDoc> {
  const byPhone = new Map<string | null, ThreadDoc[]>();
  for (const d of docs)
    for (const t of await s.threadsOf(d)) byPhone.set(t.phone_number_id, [...(byPhone.get(t.phone_number_id) ?? []), t]);
  const renamed = new Map<string, string>();
  for (const threads of byPhone.values()) {
    const joined = mergeThreads(threads, contact);
    s.put('thread', joined);
    for (const t of threads) {
      if (t._id === joined._id) continue;
      s.delete('thread', t._id);
      s.repointMessages(t._id, joined._id);
      renamed.set(t._id, joined._id);
    }
  }
  return withThreadsRenamed(contact, renamed);
}

/** The contact's thread on a phone number: the one the contact has there (whatever id it was given), else a new
 *  one (and noted on the contact). */
async function threadFor(
  s: Session,
  wabaId: string,
  phoneNumberId: string | null,
  contact: ContactDoc,
  receivedAt: Date,
): Promise<{ thread: ThreadDoc; contact: ContactDoc }> {
  const id = threadIdOf(wabaId, phoneNumberId, contact._id);
  const thread =
    (await s.threadsOf(contact)).find((t) => t.phone_number_id === phoneNumberId) ??
    (await s.get('thread', id)) ??
    emptyThread(id, wabaId, phoneNumberId, contact, receivedAt);
  const noted = withThread(contact, thread._id);
  if (noted !== contact) s.put('contact', noted);
  return { thread, contact: noted };
}

/** Records a consent change on the contact and, as a system entry, on its thread; skips pending broadcasts. */
async function recordConsent(
  s: Session,
  contact: ContactDoc,
  entry: ConsentEntry,
  where: { wabaId: string; phoneNumberId: string | null; receivedAt: Date; detail: string | null },
): Promise<void> {
  const { thread, contact: updated } = await threadFor(
    s,
    where.wabaId,
    where.phoneNumberId,
    applyConsent(contact, entry, where.receivedAt),
    where.receivedAt,
  );
  s.put('contact', updated);
  s.put('thread', thread);
  const id = deterministicId('msg', where.wabaId, 'consent', entry.event_id);
  const existing = await s.get('message', id);
  if (existing && existing.thread_id === thread._id) {
    if (existing.updated_at < where.receivedAt) s.put('message', { ...existing, updated_at: where.receivedAt });
  } else {
    s.put('message', {
      ...(existing ?? emptyMessage(id, where.wabaId, `consent:${entry.event_id}`, 'system', where.receivedAt)),
      thread_id: thread._id,
      phone_number_id: where.phoneNumberId,
      type: `consent.${entry.value}`,
      kind: 'consent',
      text:
        where.detail ??
        `${entry.value === 'stop' ? 'Opted out' : 'Opted back in'}${consentScope(entry) === 'marketing' ? ' of marketing messages' : ''} (${entry.source})`,
      timestamp: entry.at,
      event_id: entry.event_id,
      updated_at: maxDateOr(existing?.updated_at ?? where.receivedAt, where.receivedAt),
    });
  }
  // Pending broadcast recipients: a global opt-out skips every one, a marketing opt-out those of marketing broadcasts.
  const scope = consentScope(entry);
  const stoppedAt = scope === 'all' ? updated.opted_out_at : (updated.marketing_opted_out_at ?? null);
  if (stoppedAt !== null) {
    s.skipRecipients({
      wabaId: where.wabaId,
      aliases: updated.aliases,
      reason: `${scope === 'all' ? 'opted_out' : 'marketing_opted_out'}:${entry.source}`,
      at: stoppedAt,
      marketingOnly: scope === 'marketing',
    });
  }
}

async function inbound(s: Session, e: MessageInboundEvent): Promise<void> {
  const isSystem = e.message_type === 'system';
  const aliases = aliasesOf(
    { wa_id: e.from, user_id: e.from_user_id, parent_user_id: e.from_parent_user_id },
    isSystem ? {} : { wa_id: e.contact?.wa_id, user_id: e.contact?.user_id, parent_user_id: e.contact?.parent_user_id },
  );
  if (e.wamid === '') throw unapplicable('inbound message without an id (wamid)');
  if (aliases.length === 0) throw unapplicable('inbound message without a sender (no from, from_user_id or contact)');
  const receivedAt = new Date(e.received_at);
  const sentAt = at(e.meta_timestamp, e.received_at);
  let contact = await resolveContact(s, e.waba_id, aliases, receivedAt);
  if (!isSystem) {
    // A system notice speaks about the old identity; the identity.change event carries the new one.
    contact = applySighting(contact, {
      stamp: { at: sentAt, event_id: e.event_id },
      receivedAt,
      wa_id: e.contact?.wa_id ?? e.from,
      user_id: e.contact?.user_id ?? e.from_user_id,
      name: e.contact?.name ?? null,
      username: e.contact?.username ?? null,
    });
    contact = withNewest(contact, 'last_inbound', { at: sentAt, event_id: e.event_id });
    s.put('contact', contact);
  }
  const id = messageIdOf(e.waba_id, e.wamid);
  let thread: ThreadDoc;
  ({ thread, contact } = await threadFor(s, e.waba_id, e.phone_number_id, contact, receivedAt));
  s.put('thread', applyInbound(thread, { id, at: sentAt, type: e.message_type, receivedAt }));
  const existing = await s.get('message', id);
  if (!existing || existing.placeholder || existing.thread_id !== thread._id || existing.updated_at < receivedAt) {
    // A placeholder (a reaction to this message arrived first) takes the content and keeps its reactions.
    const doc = withInboundMessage(existing, {
      ...emptyMessage(id, e.waba_id, e.wamid, 'inbound', receivedAt),
      phone_number_id: e.phone_number_id,
      type: e.message_type,
      kind: messageKind({ direction: 'inbound', type: e.message_type, placeholder: false }),
      text: e.text_body,
      context_id: e.context_id,
      timestamp: sentAt,
      from: e.from,
      from_user_id: e.from_user_id,
      event_id: e.event_id,
      raw: e.raw,
      errors: e.errors,
    });
    // A redelivery changes nothing but the newest time EchoCue received the message.
    s.put('message', { ...doc, thread_id: thread._id, updated_at: maxDateOr(doc.updated_at, receivedAt) });
  }
  const reaction = reactionOf(e);
  if (reaction) {
    // On the target, inbound or outbound; one not stored yet is a placeholder holding its reactions until the
    // message (or its statuses) arrive (issue 14, rule 8).
    const targetId = messageIdOf(e.waba_id, reaction.target);
    const target = (await s.get('message', targetId)) ?? emptyMessage(targetId, e.waba_id, reaction.target, 'outbound', receivedAt);
    s.put('message', applyReaction(target, reaction.entry, receivedAt));
  }
  if (e.message_type === 'text' && isStopNearMiss(e.text_body)) {
    contact = withNewest(contact, 'needs_review', {
      reason: 'stop_keyword_near_miss',
      text: e.text_body ?? '',
      wamid: e.wamid,
      at: sentAt,
      event_id: e.event_id,
    });
    s.put('contact', contact);
  }
  const keyword = e.message_type === 'text' ? keywordConsent(e.text_body) : null;
  if (keyword) {
    await recordConsent(
      s,
      contact,
      { event_id: `${e.event_id}:keyword`, at: sentAt, value: keyword, source: 'keyword', scope: 'all', category: null },
      { wabaId: e.waba_id, phoneNumberId: e.phone_number_id, receivedAt, detail: `"${e.text_body?.trim()}" typed in the chat` },
    );
  }
}

async function status(s: Session, e: MessageStatusEvent): Promise<void> {
  if (e.wamid === '') throw unapplicable('status without a message id (wamid)');
  // A status for a message not stored yet creates a placeholder that the status history keeps current;
  // the sending side fills in the content later (docs/decisions/0005-actors.md).
  const id = messageIdOf(e.waba_id, e.wamid);
  const doc = (await s.get('message', id)) ?? emptyMessage(id, e.waba_id, e.wamid, 'outbound', new Date(e.received_at));
  const updated = applyStatus(doc, e);
  s.put('message', updated);
  // A broadcast message EchoCue sent names its recipient in biz_opaque_callback_data: the recipient follows it.
  const callback = updated.biz_opaque_callback_data;
  if (callback && isRecipientId(callback)) {
    s.recipientDelivery({
      recipientId: callback,
      wabaId: e.waba_id,
      wamid: e.wamid,
      delivery_status: updated.delivery_status,
      error: updated.error ? { code: updated.error.code, title: updated.error.title } : null,
    });
  }
  await recipient(s, e);
}

/** The status's recipient as a contact (linked or created, so an unreachable recipient is visible): the profile of
 *  its contacts block, a failure that means it cannot be reached, and a 131050 failure as a marketing opt-out. */
async function recipient(s: Session, e: MessageStatusEvent): Promise<void> {
  if (e.recipient_type === 'group') return; // a group is not a contact
  const aliases = recipientAliases(e);
  if (aliases.length === 0) return;
  const receivedAt = new Date(e.received_at);
  const stamp = { at: at(e.meta_timestamp, e.received_at), event_id: e.event_id };
  let contact = await resolveContact(s, e.waba_id, aliases, receivedAt);
  if (e.contact) contact = applyProfile(contact, stamp, e.contact);
  const unreachable = e.status === 'failed' ? e.errors.find((x) => UNREACHABLE_CODES.has(Number(x.code))) : undefined;
  if (unreachable) {
    contact = withNewest(contact, 'unreachable', { code: unreachable.code, title: unreachable.title, wamid: e.wamid, ...stamp });
  }
  s.put('contact', contact);
  if (isMarketingRefusal(e)) {
    // Meta refused a marketing template because the user stopped marketing messages: the opt-out holds even when
    // the user_preferences webhook was missed (docs/meta-webhooks.md §8.1).
    await recordConsent(
      s,
      contact,
      {
        event_id: `${e.event_id}:131050`,
        at: stamp.at,
        value: 'stop',
        source: 'status_131050',
        scope: 'marketing',
        category: 'marketing_messages',
      },
      {
        wabaId: e.waba_id,
        phoneNumberId: e.phone_number_id,
        receivedAt,
        detail: 'A marketing message failed with 131050: the user stopped marketing messages',
      },
    );
  }
}

/** A failed status saying the user stopped marketing messages (131050): a marketing opt-out. */
export const isMarketingRefusal = (e: MessageStatusEvent): boolean =>
  e.status === 'failed' && e.errors.some((x) => Number(x.code) === 131050);

/** The identities a status names its recipient by (the recipient fields and its contacts block). */
export const recipientAliases = (e: MessageStatusEvent) =>
  aliasesOf(
    { wa_id: e.recipient_id, user_id: e.recipient_user_id, parent_user_id: e.recipient_parent_user_id },
    { wa_id: e.contact?.wa_id, user_id: e.contact?.user_id, parent_user_id: e.contact?.parent_user_id },
  );

async function consent(s: Session, e: ConsentEventEvent): Promise<void> {
  if (e.value !== 'stop' && e.value !== 'resume') throw unapplicable(`consent value "${e.value}" is neither stop nor resume`);
  const aliases = aliasesOf({ wa_id: e.wa_id, user_id: e.user_id, parent_user_id: e.parent_user_id });
  if (aliases.length === 0) throw unapplicable('consent event without a user (no wa_id or user_id)');
  const receivedAt = new Date(e.received_at);
  const stamp = { at: at(e.meta_timestamp, e.received_at), event_id: e.event_id };
  const contact = applyProfile(await resolveContact(s, e.waba_id, aliases, receivedAt), stamp, e.contact ?? {});
  await recordConsent(
    s,
    contact,
    {
      event_id: e.event_id,
      at: at(e.meta_timestamp, e.received_at),
      value: e.value,
      source: 'user_preferences',
      scope: 'marketing',
      category: e.category,
    },
    { wabaId: e.waba_id, phoneNumberId: e.phone_number_id, receivedAt, detail: e.detail },
  );
}

async function identity(s: Session, e: IdentityChangeEvent): Promise<void> {
  const before: Identity = { wa_id: e.wa_id, user_id: e.previous_user_id, parent_user_id: e.previous_parent_user_id };
  const after: Identity = { wa_id: e.new_wa_id ?? e.wa_id, user_id: e.current_user_id, parent_user_id: e.current_parent_user_id };
  const aliases = aliasesOf(before, after);
  if (aliases.length < 2) throw unapplicable(`identity change (${e.kind}) names fewer than two identities`);
  const receivedAt = new Date(e.received_at);
  const contact = await resolveContact(s, e.waba_id, aliases, receivedAt);
  s.put(
    'contact',
    applySighting(contact, {
      stamp: { at: at(e.meta_timestamp, e.received_at), event_id: e.event_id },
      receivedAt,
      wa_id: after.wa_id,
      user_id: after.user_id,
    }),
  );
}

async function template(s: Session, d: Extract<DecodedEvent, { type: `template.${string}` }>): Promise<void> {
  if (d.event.template_id === '') throw unapplicable('template event without message_template_id');
  const doc = (await s.get('template', templateDocId(d.event.waba_id, d.event.template_id))) ?? emptyTemplate(d.event);
  switch (d.type) {
    case 'template.status':
      return s.put('template', applyTemplateStatus(doc, d.event));
    case 'template.quality':
      return s.put('template', applyTemplateQuality(doc, d.event));
    case 'template.category':
      return s.put('template', applyTemplateCategory(doc, d.event));
    case 'template.components':
      return s.put('template', applyTemplateComponents(doc, d.event));
  }
}

/** A thread marked read through the API. The API named the thread by its id as it was then; a thread merged into
 *  another since is gone (its id resolves through the API, not here): nothing left to mark, so the mark is dropped. */
async function read(s: Session, e: ThreadReadEvent): Promise<void> {
  const thread = await s.get('thread', e.thread_id);
  if (!thread) throw unapplicable(`thread ${e.thread_id} does not exist (merged into another since it was marked read?)`);
  if (thread.waba_id !== e.waba_id) throw unapplicable(`thread ${e.thread_id} is not of WABA ${e.waba_id}`);
  s.put('thread', applyRead(thread, new Date(e.read_up_to), new Date(e.received_at)));
}

/** A message EchoCue sent: on the thread of its recipient and number (the one it was sent on, or the one that thread
 *  was merged into since: found through the recipient, like an inbound message's). */
async function sent(s: Session, e: MessageOutboundEvent): Promise<void> {
  const aliases = aliasesOf({ wa_id: e.to_wa_id, user_id: e.to_user_id });
  if (aliases.length === 0) throw unapplicable('sent message without a recipient (no to_wa_id or to_user_id)');
  const receivedAt = new Date(e.received_at);
  const contact = await resolveContact(s, e.waba_id, aliases, receivedAt);
  const { thread } = await threadFor(s, e.waba_id, e.phone_number_id, contact, receivedAt);
  s.put('thread', applyOutbound(thread, { at: new Date(e.sent_at), receivedAt }));
  const id = messageIdOf(e.waba_id, e.wamid);
  const doc = (await s.get('message', id)) ?? emptyMessage(id, e.waba_id, e.wamid, 'outbound', receivedAt);
  s.put('message', applySent(doc, e, thread._id));
}

async function account(s: Session, e: AccountUpdateEvent): Promise<void> {
  const doc = (await s.get('waba_state', e.waba_id)) ?? emptyWabaState(e.waba_id, new Date(e.received_at));
  s.put('waba_state', applyAccountUpdate(doc, e));
}

export async function applyEvent(s: Session, d: DecodedEvent): Promise<void> {
  switch (d.type) {
    case 'message.inbound':
      return inbound(s, d.event);
    case 'message.status':
      return status(s, d.event);
    case 'consent.event':
      return consent(s, d.event);
    case 'identity.change':
      return identity(s, d.event);
    case 'account.update':
      return account(s, d.event);
    case 'thread.read':
      return read(s, d.event);
    case 'message.outbound':
      return sent(s, d.event);
    default:
      return template(s, d);
  }
}

export type Rejected = { index: number; error: AppError };

/** Applies the events in order; returns those that could not be applied (for the dead-letter topic). */
/** The aliases an event will look contacts up by (to fetch all of a batch's contacts at once). */
function aliasesNamed(d: DecodedEvent): string[] {
  switch (d.type) {
    case 'message.inbound':
      return aliasesOf(
        { wa_id: d.event.from, user_id: d.event.from_user_id },
        { wa_id: d.event.contact?.wa_id, user_id: d.event.contact?.user_id },
      );
    case 'message.status':
      return d.event.recipient_type === 'group' ? [] : recipientAliases(d.event);
    case 'consent.event':
      return aliasesOf({ wa_id: d.event.wa_id, user_id: d.event.user_id });
    case 'identity.change':
      return aliasesOf(
        { wa_id: d.event.wa_id, user_id: d.event.previous_user_id },
        { wa_id: d.event.new_wa_id, user_id: d.event.current_user_id },
      );
    case 'message.outbound':
      return aliasesOf({ wa_id: d.event.to_wa_id, user_id: d.event.to_user_id });
    default:
      return [];
  }
}

export async function applyBatch(s: Session, events: readonly DecodedEvent[]): Promise<Rejected[]> {
  // The batch's reads happen up front and together (each store lookup of a batch runs concurrently): documents
  // the events name by id, and contacts by alias. The reducers then run in memory, in order per entity.
  const byWaba = new Map<string, string[]>();
  for (const d of events) byWaba.set(d.event.waba_id, [...(byWaba.get(d.event.waba_id) ?? []), ...aliasesNamed(d)]);
  await Promise.all([
    s.preload(
      'message',
      events.flatMap((d) => [
        ...((d.type === 'message.status' || d.type === 'message.inbound' || d.type === 'message.outbound') && d.event.wamid
          ? [messageIdOf(d.event.waba_id, d.event.wamid)]
          : []),
        ...(d.type === 'message.inbound' && d.event.reaction_message_id ? [messageIdOf(d.event.waba_id, d.event.reaction_message_id)] : []),
      ]),
    ),
    s.preload(
      'template',
      events.flatMap((d) =>
        d.type.startsWith('template.') ? [templateDocId(d.event.waba_id, (d.event as TemplateStatusEvent).template_id)] : [],
      ),
    ),
    ...[...byWaba].map(([wabaId, aliases]) => s.contactsByAliases(wabaId, [...new Set(aliases)])),
  ]);
  const rejected: Rejected[] = [];
  for (const [index, d] of events.entries()) {
    try {
      await applyEvent(s, d);
    } catch (err) {
      if (err instanceof AppError && err.code === 'EC_EVENT_UNAPPLICABLE') rejected.push({ index, error: err });
      else throw err;
    }
  }
  await s.flush();
  return rejected;
}
