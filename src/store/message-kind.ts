// The normalised kind of an ec_message document (issue 14, rule 4): one closed list a client can switch on, beside
// Meta's own `type` (an open list: Meta adds types) and the raw message object. Pure.

/** Meta's message types that are kinds as they are (docs/meta-webhooks.md §4.2, and the fixtures). */
const META_MESSAGE_KINDS = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'request_welcome',
  'unsupported',
  'template',
] as const;

/** Every kind, in the order the README and the OpenAPI schema list them: Meta's, then EchoCue's own entries. */
export const MESSAGE_KINDS = [...META_MESSAGE_KINDS, 'consent', 'placeholder', 'unknown'] as const;

export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** What each kind means (the OpenAPI description and the README list are written from this). */
export const MESSAGE_KIND_DOCS: Readonly<Record<MessageKind, string>> = {
  text: 'a text (`text.body`)',
  image: 'a photo (`image`, optional caption)',
  video: 'a video (`video`, optional caption)',
  audio: 'an audio file or a voice note (`audio.voice: true`)',
  document: 'a file (`document`, optional filename and caption)',
  sticker: 'a sticker (`sticker`, `animated`)',
  location: 'a shared location (`location`)',
  contacts: 'shared contact cards (`contacts[]`)',
  interactive: 'a reply to an interactive message: `interactive.type` is button_reply, list_reply or nfm_reply (Flows)',
  button: 'a tap on a template quick-reply button (`button.payload`, `button.text`)',
  reaction:
    "a reaction to another message (`reaction.message_id`, `reaction.emoji`; no emoji: removed); it is also applied to that message's `reactions`",
  order: 'an order from a catalog (`order.product_items[]`)',
  system: "Meta's notice about the user (`system.type`: user_changed_number, user_changed_user_id)",
  request_welcome: 'the user opened a chat with the business for the first time (no payload)',
  unsupported: 'a message Meta could not show (`unsupported.type`, `errors[]` with 131051 or 131060)',
  template: 'a template message the business sent through EchoCue (`template.name`, `template.language`)',
  consent: "EchoCue's own entry for an opt-out or an opt-in (`type` consent.stop / consent.resume)",
  placeholder:
    'an outbound message EchoCue knows only from its delivery statuses or reactions: not sent through EchoCue (yet); a send through EchoCue fills it in',
  unknown: 'a type Meta added after this release: read `type` and `content`',
};

const META_KINDS: ReadonlySet<string> = new Set<MessageKind>(META_MESSAGE_KINDS);

/** The kind of a message from its direction and Meta's `type`: EchoCue's own entries are `consent` (or `system`),
 *  an outbound placeholder is `placeholder`, a Meta type is itself when documented and `unknown` otherwise (Meta's
 *  older `unknown` type included). */
export function messageKind(m: { direction: 'inbound' | 'outbound' | 'system'; type: string; placeholder: boolean }): MessageKind {
  if (m.direction === 'system') return m.type.startsWith('consent.') ? 'consent' : 'system';
  if (m.direction === 'outbound' && m.placeholder) return 'placeholder';
  return META_KINDS.has(m.type) ? (m.type as MessageKind) : 'unknown';
}
