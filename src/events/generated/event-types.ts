// Generated from schemas/*.avsc by scripts/gen-event-types.ts. Do not edit: run `make gen`.

/** The fields every event carries. */
export type EventHeader = {
  /** Deterministic: the same Meta item delivered again (any POST, any batching) has the same id. */
  event_id: string;
  event_type: string;
  /** entry[].id: the WhatsApp Business Account. Also the Kafka key. */
  waba_id: string;
  /** EchoCue account owning the WABA; null when no account owns it yet (the event is still written). */
  account_id: null | string;
  /** When EchoCue accepted the POST. */
  received_at: number;
};

/** message.inbound: topic whatsapp.message.inbound.v1, schema schemas/message.inbound.avsc */
export type MessageInboundEvent = EventHeader & {
  /** changes[].field the item came from (always messages). */
  field: string;
  /** value.metadata.phone_number_id: the business number, when Meta sent one. */
  phone_number_id: null | string;
  display_phone_number: null | string;
  /** messages[].timestamp exactly as Meta sent it. */
  meta_timestamp: null | string | number;
  /** entry[].time exactly as Meta sent it (template and account fields). */
  entry_time: null | string | number;
  /** messages[].id */
  wamid: string;
  /** messages[].type as sent; unknown types are kept as they come. */
  message_type: string;
  /** Sender phone digits; absent for username-only users. */
  from: null | string;
  /** Sender business-scoped user id (BSUID). */
  from_user_id: null | string;
  from_parent_user_id: null | string;
  group_id: null | string;
  /** The value.contacts[] entry of the sender, when Meta sent one (system messages have none). */
  contact: null | {
    wa_id: null | string;
    user_id: null | string;
    parent_user_id: null | string;
    name: null | string;
    username: null | string;
  };
  /** text.body for text messages. */
  text_body: null | string;
  /** context.id: the business message replied to. */
  context_id: null | string;
  /** reaction.message_id for reaction messages: the wamid of the message reacted to (inbound or outbound). */
  reaction_message_id: null | string;
  /** reaction.emoji for reaction messages; null (Meta omits it) or empty when the user removed the reaction. */
  reaction_emoji: null | string;
  /** system.type for system messages (user_changed_number, user_changed_user_id). */
  system_type: null | string;
  /** messages[].errors (unsupported messages). */
  errors: ({
    code: null | number | string;
    title: null | string;
    message: null | string;
    details: null | string;
    href: null | string;
  })[];
  /** The JSON of the item as received (integers beyond 2^53 kept as strings). */
  raw: string;
};

/** message.status: topic whatsapp.message.status.v1, schema schemas/message.status.avsc */
export type MessageStatusEvent = EventHeader & {
  /** changes[].field the item came from. */
  field: string;
  /** value.metadata.phone_number_id: the business number, when Meta sent one. */
  phone_number_id: null | string;
  display_phone_number: null | string;
  /** statuses[].timestamp exactly as Meta sent it. */
  meta_timestamp: null | string | number;
  /** entry[].time exactly as Meta sent it (template and account fields). */
  entry_time: null | string | number;
  /** statuses[].id: the outbound message. */
  wamid: string;
  /** sent, delivered, read, played, failed, or any value Meta adds (kept as sent). */
  status: string;
  recipient_id: null | string;
  recipient_user_id: null | string;
  recipient_parent_user_id: null | string;
  recipient_type: null | string;
  /** Echo of the value EchoCue set when sending. */
  biz_opaque_callback_data: null | string;
  conversation_id: null | string;
  conversation_origin_type: null | string;
  conversation_expiration: null | string | number;
  pricing: null | {
    billable: null | boolean;
    pricing_model: null | string;
    type: null | string;
    category: null | string;
  };
  /** statuses[].errors (failed statuses). */
  errors: ({
    code: null | number | string;
    title: null | string;
    message: null | string;
    details: null | string;
    href: null | string;
  })[];
  /** The value.contacts[] entry of the recipient (2026+ shape; not on failed). */
  contact: null | {
    wa_id: null | string;
    user_id: null | string;
    parent_user_id: null | string;
    name: null | string;
    username: null | string;
  };
  /** The JSON of the item as received (integers beyond 2^53 kept as strings). */
  raw: string;
};

/** template.status: topic whatsapp.template.status.v1, schema schemas/template.status.avsc */
export type TemplateStatusEvent = EventHeader & {
  /** changes[].field the item came from. */
  field: string;
  /** value.metadata.phone_number_id: the business number, when Meta sent one. */
  phone_number_id: null | string;
  display_phone_number: null | string;
  /** The item's timestamp exactly as Meta sent it (string or integer Unix seconds). */
  meta_timestamp: null | string | number;
  /** entry[].time exactly as Meta sent it (template and account fields). */
  entry_time: null | string | number;
  /** message_template_id as decimal text (Meta sends a JSON number; kept lossless). */
  template_id: string;
  template_name: null | string;
  template_language: null | string;
  /** APPROVED, PENDING, REJECTED, PAUSED, REINSTATED, FLAGGED, LOCKED, ... as sent. */
  event: string;
  /** reason as sent; null when Meta sends null (PENDING_DELETION). */
  reason: null | string;
  category: null | string;
  disable_date: null | string | number;
  other_info_title: null | string;
  other_info_description: null | string;
  rejection_reason: null | string;
  rejection_recommendation: null | string;
  /** The JSON of the item as received (integers beyond 2^53 kept as strings). */
  raw: string;
};

/** template.quality: topic whatsapp.template.quality.v1, schema schemas/template.quality.avsc */
export type TemplateQualityEvent = EventHeader & {
  /** changes[].field the item came from. */
  field: string;
  /** value.metadata.phone_number_id: the business number, when Meta sent one. */
  phone_number_id: null | string;
  display_phone_number: null | string;
  /** The item's timestamp exactly as Meta sent it (string or integer Unix seconds). */
  meta_timestamp: null | string | number;
  /** entry[].time exactly as Meta sent it (template and account fields). */
  entry_time: null | string | number;
  /** message_template_id as decimal text (Meta sends a JSON number; kept lossless). */
  template_id: string;
  template_name: null | string;
  template_language: null | string;
  previous_quality_score: null | string;
  /** GREEN, YELLOW, RED or UNKNOWN as sent. */
  new_quality_score: string;
  /** The JSON of the item as received (integers beyond 2^53 kept as strings). */
  raw: string;
};

/** template.category: topic whatsapp.template.category.v1, schema schemas/template.category.avsc */
export type TemplateCategoryEvent = EventHeader & {
  /** changes[].field the item came from. */
  field: string;
  /** value.metadata.phone_number_id: the business number, when Meta sent one. */
  phone_number_id: null | string;
  display_phone_number: null | string;
  /** The item's timestamp exactly as Meta sent it (string or integer Unix seconds). */
  meta_timestamp: null | string | number;
  /** entry[].time exactly as Meta sent it (template and account fields). */
  entry_time: null | string | number;
  /** message_template_id as decimal text (Meta sends a JSON number; kept lossless). */
  template_id: string;
  template_name: null | string;
  template_language: null | string;
  previous_category: null | string;
  /** For an impending change Meta puts the CURRENT category here. */
  new_category: null | string;
  /** Impending change: the category it will become. */
  correct_category: null | string;
  category_update_timestamp: null | string | number;
  /** The JSON of the item as received (integers beyond 2^53 kept as strings). */
  raw: string;
};

/** template.components: topic whatsapp.template.components.v1, schema schemas/template.components.avsc */
export type TemplateComponentsEvent = EventHeader & {
  /** changes[].field the item came from. */
  field: string;
  /** value.metadata.phone_number_id: the business number, when Meta sent one. */
  phone_number_id: null | string;
  display_phone_number: null | string;
  /** The item's timestamp exactly as Meta sent it (string or integer Unix seconds). */
  meta_timestamp: null | string | number;
  /** entry[].time exactly as Meta sent it (template and account fields). */
  entry_time: null | string | number;
  /** message_template_id as decimal text (Meta sends a JSON number; kept lossless). */
  template_id: string;
  template_name: null | string;
  template_language: null | string;
  title: null | string;
  /** message_template_element: the body text. */
  element: null | string;
  footer: null | string;
  buttons: ({
    type: null | string;
    text: null | string;
    url: null | string;
    phone_number: null | string;
  })[];
  /** The JSON of the item as received (integers beyond 2^53 kept as strings). */
  raw: string;
};

/** consent.event: topic whatsapp.consent.event.v1, schema schemas/consent.event.avsc */
export type ConsentEventEvent = EventHeader & {
  /** changes[].field the item came from. */
  field: string;
  /** value.metadata.phone_number_id: the business number, when Meta sent one. */
  phone_number_id: null | string;
  display_phone_number: null | string;
  /** user_preferences[].timestamp exactly as Meta sent it (an integer). */
  meta_timestamp: null | string | number;
  /** entry[].time exactly as Meta sent it (template and account fields). */
  entry_time: null | string | number;
  source: string;
  wa_id: null | string;
  user_id: null | string;
  parent_user_id: null | string;
  category: null | string;
  /** stop or resume (kept as sent). */
  value: string;
  detail: null | string;
  /** The value.contacts[] entry of the user (its profile, when Meta sends one). */
  contact: null | {
    wa_id: null | string;
    user_id: null | string;
    parent_user_id: null | string;
    name: null | string;
    username: null | string;
  };
  /** The JSON of the item as received (integers beyond 2^53 kept as strings). */
  raw: string;
};

/** identity.change: topic whatsapp.identity.change.v1, schema schemas/identity.change.avsc */
export type IdentityChangeEvent = EventHeader & {
  /** changes[].field the item came from. */
  field: string;
  /** value.metadata.phone_number_id: the business number, when Meta sent one. */
  phone_number_id: null | string;
  display_phone_number: null | string;
  /** The item's timestamp exactly as Meta sent it (string or integer Unix seconds). */
  meta_timestamp: null | string | number;
  /** entry[].time exactly as Meta sent it (template and account fields). */
  entry_time: null | string | number;
  /** user_id_update, user_changed_number or user_changed_user_id. */
  kind: string;
  /** The system message's id, for system-message changes. */
  wamid: null | string;
  /** The user's phone-based id before the change (user_id_update: the current wa_id). */
  wa_id: null | string;
  /** system.wa_id: the new number. */
  new_wa_id: null | string;
  previous_user_id: null | string;
  current_user_id: null | string;
  previous_parent_user_id: null | string;
  current_parent_user_id: null | string;
  /** Meta's human text (never parsed). */
  detail: null | string;
  /** The JSON of the item as received (integers beyond 2^53 kept as strings). */
  raw: string;
};

/** account.update: topic whatsapp.account.update.v1, schema schemas/account.update.avsc */
export type AccountUpdateEvent = EventHeader & {
  /** changes[].field the item came from. */
  field: string;
  /** value.metadata.phone_number_id: the business number, when Meta sent one. */
  phone_number_id: null | string;
  display_phone_number: null | string;
  /** The item's timestamp exactly as Meta sent it (string or integer Unix seconds). */
  meta_timestamp: null | string | number;
  /** entry[].time exactly as Meta sent it (template and account fields). */
  entry_time: null | string | number;
  /** value.event as sent, when the field has one. */
  event: null | string;
  max_daily_conversations_per_business: null | string | number;
  max_phone_numbers: null | string | number;
  /** The JSON of the item as received (integers beyond 2^53 kept as strings). */
  raw: string;
};

/** thread.read: topic echocue.thread.read.v1, schema schemas/thread.read.avsc */
export type ThreadReadEvent = EventHeader & {
  /** The thread's EchoCue id (thr_...), as it was when the call was made. */
  thread_id: string;
  /** Inbound messages with a Meta timestamp at or before this time are read. */
  read_up_to: number;
};

/** message.outbound: topic echocue.message.outbound.v1, schema schemas/message.outbound.avsc */
export type MessageOutboundEvent = EventHeader & {
  /** The business phone number it was sent from. */
  phone_number_id: string;
  /** The thread it was sent on (thr_...), as it was when sent. */
  thread_id: string;
  /** Meta's message id, from the Graph API's answer. */
  wamid: string;
  /** The recipient's wa_id, as Meta's answer named it. */
  to_wa_id: null | string;
  /** The recipient's business-scoped user id (BSUID), when the contact has one. */
  to_user_id: null | string;
  /** text, image, video, audio, document or template. */
  message_type: string;
  /** The text, a media caption, or the template's name. */
  text_body: null | string;
  template_name: null | string;
  template_language: null | string;
  /** MARKETING, UTILITY or AUTHENTICATION, as stored when it was sent. */
  template_category: null | string;
  /** The message object sent to the Graph API, as JSON (no token). */
  raw: string;
  /** The idempotent send it came from (ec_send), also sent to Meta as biz_opaque_callback_data. */
  send_id: string;
  /** When Meta accepted the send. */
  sent_at: number;
};

/** webhook.error: topic whatsapp.webhook.error.v1, schema schemas/webhook.error.avsc */
export type WebhookErrorEvent = EventHeader & {
  /** changes[].field the item came from. */
  field: string;
  /** value.metadata.phone_number_id: the business number, when Meta sent one. */
  phone_number_id: null | string;
  display_phone_number: null | string;
  /** The item's timestamp exactly as Meta sent it (string or integer Unix seconds). */
  meta_timestamp: null | string | number;
  /** entry[].time exactly as Meta sent it (template and account fields). */
  entry_time: null | string | number;
  code: null | number | string;
  title: null | string;
  message: null | string;
  details: null | string;
  href: null | string;
  /** The JSON of the item as received (integers beyond 2^53 kept as strings). */
  raw: string;
};

/** unknown: topic whatsapp.unknown.v1, schema schemas/unknown.avsc */
export type UnknownEvent = EventHeader & {
  /** changes[].field the item came from. */
  field: string;
  /** value.metadata.phone_number_id: the business number, when Meta sent one. */
  phone_number_id: null | string;
  display_phone_number: null | string;
  /** The item's timestamp exactly as Meta sent it (string or integer Unix seconds). */
  meta_timestamp: null | string | number;
  /** entry[].time exactly as Meta sent it (template and account fields). */
  entry_time: null | string | number;
  /** The whole changes[] element as received. */
  raw: string;
};

export type EventValue = {
  'message.inbound': MessageInboundEvent;
  'message.status': MessageStatusEvent;
  'template.status': TemplateStatusEvent;
  'template.quality': TemplateQualityEvent;
  'template.category': TemplateCategoryEvent;
  'template.components': TemplateComponentsEvent;
  'consent.event': ConsentEventEvent;
  'identity.change': IdentityChangeEvent;
  'account.update': AccountUpdateEvent;
  'thread.read': ThreadReadEvent;
  'message.outbound': MessageOutboundEvent;
  'webhook.error': WebhookErrorEvent;
  'unknown': UnknownEvent;
};
