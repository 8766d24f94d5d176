// Generated from schemas/*.avsc by scripts/gen-event-types.ts. Do not edit: run `make gen`.

/** message.inbound: topic whatsapp.message.inbound.v1, schema schemas/message.inbound.avsc */
export type MessageInboundEvent = {
  /** Deterministic: the same Meta item delivered twice has the same id. */
  event_id: string;
  event_type: string;
  /** entry[].id: the WhatsApp Business Account. */
  waba_id: string;
  /** EchoCue account owning the WABA; null when no account owns it yet. */
  account_id: null | string;
  /** value.metadata.phone_number_id: the business number. */
  phone_number_id: null | string;
  display_phone_number: null | string;
  /** messages[].timestamp exactly as Meta sent it (string of Unix seconds, sometimes a number). */
  meta_timestamp: null | string | number;
  /** When EchoCue accepted the POST. */
  received_at: number;
  /** messages[].id */
  wamid: string;
  /** messages[].type, kept as sent (unknown types too). */
  message_type: string;
  /** Sender phone digits; absent for username-only users. */
  from: null | string;
  /** Sender business-scoped user id (BSUID). */
  from_user_id: null | string;
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
  /** The JSON of the messages[] item. */
  raw: string;
};

export type EventValue = {
  'message.inbound': MessageInboundEvent;
};
