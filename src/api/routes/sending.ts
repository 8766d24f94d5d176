// The sending side: Embedded Signup (connect a WABA and its number), the account's numbers and their state, and
// replies on a thread (text, media, template) through Meta's Graph API.
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { type ConnectionDoc, type ConnectionStore } from '../../store/connections.ts';
import { WABA_ID } from '../../store/accounts.ts';
import { type ThreadDoc } from '../../store/docs.ts';
import { type ThreadReads } from '../../store/threads.ts';
import { type ReplyContent, type ReplyResult, MEDIA_TYPES } from '../../sending/reply.ts';
import { type SignupInput } from '../../sending/signup.ts';
import { PhoneNumber, phoneNumberView } from '../../views/phone-number.ts';
import { defineRoute, type Route } from '../route.ts';

export type SendingRouteDeps = Readonly<{
  connections: Pick<ConnectionStore, 'get' | 'list'>;
  threads: Pick<ThreadReads, 'get'>;
  signUp: (input: SignupInput) => Promise<ConnectionDoc>;
  reply: (input: {
    accountId: string;
    wabaIds: readonly string[];
    thread: ThreadDoc;
    content: ReplyContent;
    key: string;
  }) => Promise<ReplyResult>;
}>;

const PHONE_ID = /^\d{5,20}$/;

const Sent = z
  .object({
    id: z.string().meta({ description: 'The message id (msg_...): it shows in the thread once the actors stored it, moments later.' }),
    wamid: z.string(),
    thread_id: z.string(),
    status: z
      .literal('accepted')
      .meta({ description: 'Meta accepted it; sent / delivered / read / failed follow from its status webhooks.' }),
    replayed: z
      .boolean()
      .meta({ description: "True when this Idempotency-Key was sent before: this is the first call's answer, nothing was sent again." }),
  })
  .meta({ id: 'SentMessage' });

/** A template by name and language, with Meta's components (parameters) passed as they are. */
export const TemplateRef = z.strictObject({
  name: z.string().regex(/^[a-z0-9_]{1,512}$/, 'must be a template name (lower case letters, digits, _)'),
  language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a language code like en or en_US'),
  components: z
    .array(z.record(z.string(), z.unknown()))
    .max(20)
    .optional()
    .meta({ description: "Meta's components (parameters), passed as they are." }),
});

/** The Idempotency-Key header of a send: a retried call with the same key is the same send. */
export const idempotencyKeyHeader = (what: string) =>
  z.object({
    'idempotency-key': z
      .string({ error: `is required: a unique key per ${what} (a UUID, say); a retry sends the same key` })
      .min(1)
      .max(255)
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  });

const ReplyBody = z.strictObject({
  type: z.enum(['text', ...MEDIA_TYPES, 'template']),
  text: z
    .strictObject({ body: z.string().min(1).max(4096), preview_url: z.boolean().optional() })
    .optional()
    .meta({ description: 'type text: the message (at most 4096 characters).' }),
  media: z
    .strictObject({
      link: z.url({ protocol: /^https$/, error: 'must be an https URL' }),
      caption: z.string().min(1).max(1024).optional(),
      filename: z.string().min(1).max(240).optional(),
    })
    .optional()
    .meta({ description: 'type image, video, audio or document: a public https link (caption: not for audio; filename: documents only).' }),
  template: TemplateRef.optional().meta({
    description:
      "type template: an approved template of the thread's WABA, by name and language. The only kind that may be sent outside the 24-hour window.",
  }),
});

const bad = (parameter: string, message: string) =>
  new AppError('EC_BAD_REQUEST', `body field "${parameter}" ${message}`, { details: { parameter, in: 'body' } });

/** The one content the type names; the fields of other types are refused, so nothing is silently dropped. */
export function replyContent(body: z.output<typeof ReplyBody>): ReplyContent {
  const fields = ['text', 'media', 'template'] as const;
  const own = body.type === 'text' ? 'text' : body.type === 'template' ? 'template' : 'media';
  for (const f of fields) if (f !== own && body[f] !== undefined) throw bad(f, `does not go with type ${body.type} (send "${own}")`);
  if (body.type === 'text') return { type: 'text', text: body.text ?? throwBad('text', 'is required for type text') };
  if (body.type === 'template')
    return { type: 'template', template: body.template ?? throwBad('template', 'is required for type template') };
  const media = body.media ?? throwBad('media', `is required for type ${body.type}`);
  if (body.type === 'audio' && media.caption !== undefined) throw bad('media.caption', 'is not allowed for audio');
  if (body.type !== 'document' && media.filename !== undefined) throw bad('media.filename', 'is allowed for documents only');
  return { type: body.type, media };
}
function throwBad(parameter: string, message: string): never {
  throw bad(parameter, message);
}

export function sendingRoutes(deps: SendingRouteDeps): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/signup',
      operationId: 'embeddedSignup',
      tag: 'sending',
      summary: 'Connect a WABA and its phone number from Embedded Signup',
      description:
        "Takes what Meta's Embedded Signup popup hands the browser (the code, the WABA id and the phone number id): exchanges the code for a business token (stored encrypted), checks the token was granted the WABA and the WABA holds the number, registers the number on Cloud API, subscribes EchoCue's app to the WABA's webhooks, and links WABA and number to this account (its webhooks then route here). Each completed step is kept: after a failure (502/503 naming `details.step`, the number `failed`), call again with the same ids to resume; `code` is needed only until the exchange succeeded. A WABA or number of another account is refused (409).",
      access: 'api_key',
      body: z.strictObject({
        code: z
          .string()
          .min(1)
          .max(4096)
          .optional()
          .meta({ description: "The popup's one-time code (needed until the code exchange succeeded)." }),
        waba_id: z.string().regex(WABA_ID, 'must be a WhatsApp Business Account id (5 to 20 digits)'),
        phone_number_id: z.string().regex(PHONE_ID, 'must be a phone number id (5 to 20 digits)'),
      }),
      response: PhoneNumber,
      errors: [400, 403, 409, 502, 503],
      handle: async ({ body, caller }) =>
        phoneNumberView(
          await deps.signUp({
            accountId: caller.accountId,
            code: body.code ?? null,
            wabaId: body.waba_id,
            phoneNumberId: body.phone_number_id,
          }),
        ),
    }),
    defineRoute({
      method: 'get',
      path: '/api/phone-numbers',
      operationId: 'listPhoneNumbers',
      tag: 'sending',
      summary: "The account's phone numbers from Embedded Signup, with their state",
      access: 'api_key',
      response: z.object({ data: z.array(PhoneNumber) }).meta({ id: 'PhoneNumberList' }),
      handle: async ({ caller }) => ({ data: (await deps.connections.list(caller.accountId)).map(phoneNumberView) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/phone-numbers/{id}',
      operationId: 'getPhoneNumber',
      tag: 'sending',
      summary: 'One phone number: connecting, connected, or failed with the step and reason',
      access: 'api_key',
      params: z.object({ id: z.string().regex(PHONE_ID, 'must be a phone number id (5 to 20 digits)') }),
      response: PhoneNumber,
      errors: [400, 404],
      handle: async ({ params, caller }) => {
        const doc = await deps.connections.get(caller.accountId, params.id);
        if (!doc) throw new AppError('EC_NOT_FOUND', `no phone number ${params.id} was signed up by this account`);
        return phoneNumberView(doc);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/thread/{id}/messages',
      operationId: 'sendMessage',
      tag: 'sending',
      summary: 'Send a text, media or template message on a thread',
      description:
        "Sent from the thread's business number through the Graph API, at most once per `Idempotency-Key` (a retried call answers the first call's result with `replayed: true`). Refused (422, `details.reason`) when the number is not connected, the contact opted out of everything on any of the account's numbers (`opted_out`), a marketing template goes to a contact who opted out of marketing (`marketing_opted_out`), the template is unknown or not approved, or a text or media message is sent while the 24-hour window is closed (`window_closed`: templates only then). Accepted (202) once Meta took it; the message then shows in the thread as outbound with status `accepted`, and its status webhooks move it on.",
      access: 'api_key',
      params: z.object({ id: z.string().min(1).max(256).meta({ description: 'Thread id (thr_...), current or former.' }) }),
      headers: idempotencyKeyHeader('message'),
      body: ReplyBody,
      status: 202,
      response: Sent,
      errors: [400, 404, 409, 422, 502, 503],
      handle: async ({ params, body, headers, caller }) => {
        const content = replyContent(body);
        const thread = await deps.threads.get(caller.wabaIds, params.id);
        if (!thread) throw new AppError('EC_NOT_FOUND', `no thread ${params.id}`);
        return deps.reply({ accountId: caller.accountId, wabaIds: caller.wabaIds, thread, content, key: headers['idempotency-key'] });
      },
    }),
  ];
}
