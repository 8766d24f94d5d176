// A reply on a thread (text, media or template) through the Graph API, sent at most once per Idempotency-Key: the
// key's send is recorded before Meta is called and settled after (src/store/sends.ts), the rules (src/sending/rules.ts)
// refuse what may not be sent before anything is recorded, and Meta's acceptance goes to the actors as a
// message.outbound event, which stores the message on the thread with status accepted.
import { AppError, isAppError, type ErrorCode } from '../core/errors.ts';
import { type Clock } from '../core/clock.ts';
import { deterministicId } from '../core/ids.ts';
import { type SentMessage } from '../events/sent-message.ts';
import { messageIdOf } from '../store/doc-ids.ts';
import { type ConnectionStore } from '../store/connections.ts';
import { type ContactReads } from '../store/contacts.ts';
import { type ContactDoc, type TemplateDoc, type ThreadDoc } from '../store/docs.ts';
import { requestHash, type SendDoc, type SendStore } from '../store/sends.ts';
import { type GraphClient } from './graph.ts';
import { sendRefusal } from './rules.ts';

export const MEDIA_TYPES = ['image', 'video', 'audio', 'document'] as const;

export type ReplyContent =
  | { type: 'text'; text: { body: string; preview_url?: boolean | undefined } }
  | { type: (typeof MEDIA_TYPES)[number]; media: { link: string; caption?: string | undefined; filename?: string | undefined } }
  | { type: 'template'; template: { name: string; language: string; components?: Record<string, unknown>[] | undefined } };

export type ReplyDeps = Readonly<{
  graph: Pick<GraphClient, 'sendMessage'>;
  sends: SendStore;
  connections: Pick<ConnectionStore, 'get' | 'openToken'>;
  contacts: Pick<ContactReads, 'allByIdOrAlias'>;
  templateByName: (wabaId: string, name: string, language: string) => Promise<TemplateDoc | null>;
  /** Writes the message.outbound event (Kafka, acknowledged). */
  writeSent: (m: SentMessage) => Promise<void>;
  clock: Clock;
}>;

export type ReplyResult = { id: string; wamid: string; thread_id: string; status: 'accepted'; replayed: boolean };

/** The message object for the Graph API (without messaging_product and recipient_type, which the client adds). */
export function graphMessage(to: string, content: ReplyContent, sendId: string): Record<string, unknown> {
  const common = { to, biz_opaque_callback_data: sendId };
  switch (content.type) {
    case 'text':
      return { ...common, type: 'text', text: { body: content.text.body, preview_url: content.text.preview_url ?? false } };
    case 'template':
      return {
        ...common,
        type: 'template',
        template: {
          name: content.template.name,
          language: { code: content.template.language },
          ...(content.template.components ? { components: content.template.components } : {}),
        },
      };
    default:
      return { ...common, type: content.type, [content.type]: content.media };
  }
}

/** Every contact of the caller's WABAs that is the thread's person, by wa_id or BSUID (one per WABA at most). */
async function personOf(contacts: ReplyDeps['contacts'], wabaIds: readonly string[], thread: ThreadDoc): Promise<ContactDoc[]> {
  const ids = [thread.contact.wa_id, thread.contact.user_id].filter((x): x is string => !!x);
  const found = (await Promise.all(ids.map((id) => contacts.allByIdOrAlias(wabaIds, id)))).flat();
  return [...new Map(found.map((c) => [c._id, c])).values()];
}

/** Answers a call whose key already has a send: the same answer as the first call, or why there is none yet. */
async function answerFrom(doc: SendDoc, hash: string, deps: ReplyDeps): Promise<ReplyResult> {
  if (doc.request_hash !== hash)
    throw new AppError(
      'EC_CONFLICT',
      `Idempotency-Key "${doc.idempotency_key}" was used for another request; use a new key for a new message`,
      {
        details: { reason: 'idempotency_key_reused', parameter: 'Idempotency-Key' },
      },
    );
  switch (doc.state) {
    case 'accepted': {
      const sent = JSON.parse(doc.sent!) as SentMessage;
      await deps.writeSent(sent); // again: the first call may have stopped before it (the actors apply it once)
      return { id: messageIdOf(sent.waba_id, sent.wamid), wamid: sent.wamid, thread_id: doc.thread_id, status: 'accepted', replayed: true };
    }
    case 'refused':
      throw new AppError(doc.error!.code as ErrorCode, doc.error!.message, { details: doc.error!.details ?? {} });
    case 'unknown':
      throw new AppError(
        'EC_CONFLICT',
        `the send with Idempotency-Key "${doc.idempotency_key}" reached Meta and no answer came back: it may have been sent, so it is never sent again; its status webhooks will show it on the thread if it was`,
        { details: { reason: 'outcome_unknown' } },
      );
    default:
      throw new AppError('EC_CONFLICT', `a send with Idempotency-Key "${doc.idempotency_key}" is running; try again in a moment`, {
        details: { reason: 'in_progress' },
      });
  }
}

export async function sendReply(
  input: Readonly<{ accountId: string; wabaIds: readonly string[]; thread: ThreadDoc; content: ReplyContent; key: string }>,
  deps: ReplyDeps,
): Promise<ReplyResult> {
  const { thread, content } = input;
  const hash = requestHash({ thread: thread._id, content });
  const prior = await deps.sends.get(input.accountId, input.key);
  if (prior && prior.state !== 'retry') return answerFrom(prior, hash, deps);

  const phone = thread.phone_number_id;
  const [connection, person, template] = await Promise.all([
    phone ? deps.connections.get(input.accountId, phone) : Promise.resolve(null),
    personOf(deps.contacts, input.wabaIds, thread),
    content.type === 'template'
      ? deps.templateByName(thread.waba_id, content.template.name, content.template.language)
      : Promise.resolve(null),
  ]);
  const refusal = sendRefusal({
    now: deps.clock.now(),
    thread,
    connection,
    person,
    template: content.type === 'template' ? { name: content.template.name, language: content.template.language, doc: template } : null,
  });
  if (refusal) throw new AppError('EC_SEND_REFUSED', `not sent: ${refusal.message}`, { details: { reason: refusal.reason } });

  const begun = await deps.sends.begin(
    { accountId: input.accountId, key: input.key, requestHash: hash, threadId: thread._id },
    deps.clock.now(),
  );
  if (!begun.started) return answerFrom(begun.doc, hash, deps);
  const sendId = deterministicId('snd', input.accountId, input.key);
  const to = thread.contact.wa_id!;
  let wamid: string;
  let waId: string | null;
  try {
    ({ wamid, wa_id: waId } = await deps.graph.sendMessage(
      phone!,
      deps.connections.openToken(connection!)!,
      graphMessage(to, content, sendId),
    ));
  } catch (err) {
    const e = isAppError(err) ? err : new AppError('EC_INTERNAL', 'the send failed', { cause: err });
    const state = e.code === 'EC_GRAPH_REFUSED' ? 'refused' : e.details?.['outcome_unknown'] === true ? 'unknown' : 'retry';
    await deps.sends.settle(
      begun.doc._id,
      state,
      { code: e.code, message: e.message, details: { ...(e.details ?? {}) } },
      deps.clock.now(),
    );
    throw e;
  }
  const now = deps.clock.now();
  const sent: SentMessage = {
    waba_id: thread.waba_id,
    account_id: input.accountId,
    phone_number_id: phone!,
    thread_id: thread._id,
    wamid,
    to_wa_id: waId ?? to,
    to_user_id: thread.contact.user_id,
    message_type: content.type,
    text_body:
      content.type === 'text' ? content.text.body : content.type === 'template' ? content.template.name : (content.media.caption ?? null),
    template_name: content.type === 'template' ? content.template.name : null,
    template_language: content.type === 'template' ? content.template.language : null,
    template_category: template?.category ?? null,
    raw: JSON.stringify(graphMessage(to, content, sendId)),
    send_id: sendId,
    sent_at: now.getTime(),
    received_at: now.getTime(),
  };
  await deps.sends.accepted(begun.doc._id, wamid, JSON.stringify(sent), now);
  await deps.writeSent(sent);
  return { id: messageIdOf(thread.waba_id, wamid), wamid, thread_id: thread._id, status: 'accepted', replayed: false };
}
