// The documents the actors own. Every field is derived from events (never from the wall clock), so replaying
// the same events in any order, any number of times, gives the same documents (docs/decisions/0005-actors.md).
import { type MessageKind } from './message-kind.ts';

/** Set by the store at each write (src/store/actor-store.ts), never by the reducers: the time EchoCue took the
 *  change, which REST pollers filter on (updated_since). Absent on a document a reducer has just created. */
export type StoreStamped = {
  changed_at?: Date;
  /** The document's version, incremented by the store at each write of the actors (src/store/actor-store.ts), never
   *  by the reducers: a write names the version it read, so a stale writer cannot overwrite a newer document. */
  _v?: number;
};

/** "Newest wins" bookkeeping: the Meta time of the value and the event that set it (ties break on event id). */
export type Stamp = { at: Date; event_id: string };

export type ContactDoc = StoreStamped & {
  _id: string;
  waba_id: string;
  /** Every identity ever seen for this person in this WABA: "wa:<wa_id>", "uid:<BSUID>", "puid:<parent BSUID>". */
  aliases: string[];
  wa_id: string | null;
  wa_id_stamp: Stamp | null;
  user_id: string | null;
  user_id_stamp: Stamp | null;
  name: string | null;
  username: string | null;
  profile_stamp: Stamp | null;
  consent: ConsentEntry[];
  /** The contact's threads (one per business phone number): the actors find them from here, by id. */
  thread_ids: string[];
  /** Ids of contacts that turned out to be this person and merged into it (issue 14, rule 6): each still resolves
   *  here. Absent when none did. docs/decisions/0014-stable-ids.md. */
  former_ids?: string[];
  /** Opted out of everything (a stop keyword typed in the chat): set while the newest entry of scope `all` is a
   *  stop; null otherwise. No message of any kind may be sent. */
  opted_out_at: Date | null;
  /** Opted out of marketing only (Meta's user_preferences stop, or a status failing with 131050): set while the
   *  newest entry of scope `marketing` is a stop. Utility templates and replies inside the window may still go. */
  marketing_opted_out_at?: Date | null;
  /** The newest failure of a message to this contact that means it cannot be reached (131026 and the like). */
  unreachable?: ({ code: number | string | null; title: string | null; wamid: string } & Stamp) | null;
  /** The newest inbound message from the contact (Meta time): a contact that wrote after the failure is reachable. */
  last_inbound?: Stamp | null;
  /** The newest message that looks like an opt-out but is not exactly one ("stop sending me promos", "don't stop"):
   *  not applied, left to a person. Cleared through the API (ec_review_clear), not here. */
  needs_review?: ({ reason: 'stop_keyword_near_miss'; text: string; wamid: string } & Stamp) | null;
  updated_at: Date;
};

/** What a consent entry is about. Entries stored before the two levels have no scope: see consentScope. */
export type ConsentScope = 'all' | 'marketing';

export type ConsentEntry = {
  event_id: string;
  at: Date;
  value: 'stop' | 'resume';
  /** keyword: typed in the chat; user_preferences: Meta's marketing setting; status_131050: a marketing message
   *  failed because the user stopped marketing messages. */
  source: 'user_preferences' | 'keyword' | 'status_131050';
  scope?: ConsentScope;
  category: string | null;
};

export type ThreadDoc = StoreStamped & {
  _id: string;
  waba_id: string;
  phone_number_id: string | null;
  contact_id: string;
  contact: {
    wa_id: string | null;
    user_id: string | null;
    name: string | null;
    username: string | null;
    opted_out_at: Date | null;
    marketing_opted_out_at?: Date | null;
  };
  last_message_at: Date | null;
  last_inbound_at: Date | null;
  /** 24-hour customer service window: newest user-initiated message + 24 h. */
  window_expires_at: Date | null;
  /** The inbound messages not read yet, oldest first by Meta time: a set (a redelivered message never counts
   *  twice), bounded to the newest UNREAD_KEPT so a long-lived thread stays far below MongoDB's 16 MB document
   *  limit (issue 16, defect 3). */
  unread: UnreadEntry[];
  unread_count: number;
  /** More messages are unread than `unread` holds (the oldest fell off the bound). */
  unread_capped?: boolean;
  /** Every inbound message with a Meta time at or before this was marked read (POST /api/thread/{id}/read). */
  read_up_to?: Date | null;
  /** Ids of threads merged into this one (their contacts turned out to be one person): each still resolves here.
   *  Absent when none did. */
  former_ids?: string[];
  updated_at: Date;
};

export type UnreadEntry = { id: string; at: Date };

export type MetaErrorDoc = {
  code: number | string | null;
  title: string | null;
  message: string | null;
  details: string | null;
  href: string | null;
};
export type PricingDoc = { billable: boolean | null; pricing_model: string | null; type: string | null; category: string | null };

export type StatusEntry = {
  status: string;
  at: Date;
  event_id: string;
  errors: MetaErrorDoc[];
  pricing: PricingDoc | null;
  /** Which report of this status the pricing and errors came from (several reports merge into one entry). */
  pricing_from: Stamp | null;
  errors_from: Stamp | null;
};

export type MessageDoc = StoreStamped & {
  _id: string;
  waba_id: string;
  wamid: string;
  /** inbound (from a user), outbound (sent by the business; known here from its statuses), system (EchoCue's own entries). */
  direction: 'inbound' | 'outbound' | 'system';
  thread_id: string | null;
  phone_number_id: string | null;
  /** Meta's type as sent (an open list); consent.stop / consent.resume for EchoCue's opt-out entries. */
  type: string;
  /** The normalised kind, from one closed list (src/store/message-kind.ts): what a client switches on. Absent on
   *  documents written before it existed (the view derives it from `type`). */
  kind?: MessageKind;
  text: string | null;
  context_id: string | null;
  timestamp: Date | null;
  from: string | null;
  from_user_id: string | null;
  read_at: Date | null;
  event_id: string;
  raw: string | null;
  errors: MetaErrorDoc[];
  // Outbound delivery state, derived from status_history.
  /** True while EchoCue knows the message only from its statuses (the sending side fills the content later). */
  placeholder: boolean;
  status_history: StatusEntry[];
  delivery_status: string | null;
  whatsapp_status: string | null;
  error: MetaErrorDoc | null;
  pricing: PricingDoc | null;
  recipient_id: string | null;
  recipient_user_id: string | null;
  biz_opaque_callback_data: string | null;
  /** The current reaction of each user who reacted to this message, removals included (emoji null), sorted by
   *  `key`. Absent on documents written before it existed. */
  reactions?: ReactionEntry[];
  updated_at: Date;
};

/** One user's current reaction to a message: the newest reaction event of that user (by Meta time, then event id),
 *  so a late older event never overrides a newer one, and a removal (emoji null) is kept so that no older add
 *  brings the reaction back. */
export type ReactionEntry = Stamp & {
  /** Who reacted, one entry each: "uid:<BSUID>" when Meta named one, else "wa:<wa_id>". */
  key: string;
  from: string | null;
  from_user_id: string | null;
  /** null: removed (Meta omits the emoji, or sends it empty). */
  emoji: string | null;
  /** The reaction message's own wamid. */
  wamid: string;
};

export type TemplateEventEntry = {
  event_id: string;
  at: Date;
  event: string;
  reason: string | null;
  /** What the event says (event, reason, pause title, rejection and disable details): two entries with the same
   *  content are one event delivered twice unless the template was edited between them. Absent on entries stored
   *  before it (each then counts as its own event). */
  content?: string;
};

export type TemplateDoc = StoreStamped & {
  _id: string;
  waba_id: string;
  template_id: string;
  name: string | null;
  language: string | null;
  category: string | null;
  category_stamp: Stamp | null;
  pending_category: { category: string | null; effective_at: Date | null } | null;
  /** Which template_category_update set pending_category: only those events decide it (status events carry the
   *  current category, never an impending one). Absent on documents written before it existed. */
  pending_category_stamp?: Stamp | null;
  /** Mirrors Meta: approved, pending, rejected, paused, flagged, in_appeal, pending_deletion, limit_exceeded, disabled, deleted, archived, draft. */
  whatsapp_status: string;
  status_reason: string | null;
  last_event: string | null;
  locked: boolean;
  status_events: TemplateEventEntry[];
  /** Usable for broadcasts: approved (or flagged, which Meta still sends). */
  broadcastable: boolean;
  whatsapp_quality_rating: string | null;
  previous_quality_rating: string | null;
  quality_stamp: Stamp | null;
  components: {
    title: string | null;
    element: string | null;
    footer: string | null;
    buttons: { type: string | null; text: string | null; url: string | null; phone_number: string | null }[];
  } | null;
  components_stamp: Stamp | null;
  /** When Meta reported the template edited (each message_template_components_update's entry.time), oldest first:
   *  a review event repeating an earlier one is a new review only after an edit (src/actors/template/reduce.ts). */
  edited_at?: Date[];
  details: {
    disable_date: string | number | null;
    other_info_title: string | null;
    other_info_description: string | null;
    rejection_reason: string | null;
    rejection_recommendation: string | null;
  } | null;
  updated_at: Date;
};

export type WabaStateDoc = StoreStamped & {
  _id: string;
  /** Newest value of each account-level field, with its stamp and raw JSON. */
  fields: { field: string; event: string | null; value: string; stamp: Stamp }[];
  messaging_limit: string | number | null;
  max_phone_numbers: string | number | null;
  /** From the newest ACCOUNT_RESTRICTION: what is restricted and until when. */
  restrictions: { type: string | null; expires_at: Date | null }[];
  updated_at: Date;
};

export type BroadcastRecipientDoc = StoreStamped & {
  _id: string;
  broadcast_id: string;
  waba_id: string;
  wa_id: string | null;
  user_id: string | null;
  /** Set by the sending side once Meta accepted the message: its delivery state then comes from ec_message. */
  wamid: string | null;
  /** Written by the sending side (pending, or failed when Meta refused the send) and by the actors (skipped). */
  status: string;
  /** The broadcast's template category (MARKETING, UTILITY, AUTHENTICATION), written by the sending side: a marketing
   *  opt-out skips only recipients of MARKETING broadcasts; absent: treated as marketing (the cautious reading). */
  template_category?: string | null;
  skip_reason: string | null;
  skipped_at: Date | null;
  /** Written by the actors from the statuses of the message EchoCue sent this recipient (its biz_opaque_callback_data
   *  names the recipient), even before the sender recorded the wamid. Absent: no status yet, or recorded elsewhere
   *  (the view then reads the message by wamid). */
  delivery_status?: string | null;
  delivery_error?: { code: number | string | null; title: string | null } | null;
  /** The broadcast sender's claim: when it last started sending to this recipient (status `sending`). */
  attempt_at?: Date | null;
  /** When Meta refused the send: its code and message. */
  send_error?: { code: number | string | null; message: string } | null;
};

/** A broadcast message's delivery state, for its recipient (written by the actors; src/store/actor-store.ts). */
export type RecipientDelivery = {
  recipientId: string;
  wabaId: string;
  wamid: string;
  delivery_status: string | null;
  error: { code: number | string | null; title: string | null } | null;
};

/** The documents written by the actors, by collection. */
export type ActorDocs = {
  contact: ContactDoc;
  thread: ThreadDoc;
  message: MessageDoc;
  template: TemplateDoc;
  waba_state: WabaStateDoc;
};
