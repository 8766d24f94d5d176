// Templates: mirror Meta's state, ordered by Meta's event time (entry.time) so an older event never overwrites a
// newer one. The status is derived from the whole (deduplicated, time-sorted) event list, which is what makes
// UNARCHIVED ("back to the status before ARCHIVED") and LOCKED/UNLOCKED order-free. entry.time is when Meta sent
// the body, so a Meta retry of an old event carries a newer one: a review event that repeats an earlier one's
// content is that event again, not a new review, unless the template was edited between (issue 16, defect 2;
// REPEATS_ONLY_AFTER_EDIT). Pure functions.
import { templateDocId } from '../../store/doc-ids.ts';
import {
  type TemplateCategoryEvent,
  type TemplateComponentsEvent,
  type TemplateQualityEvent,
  type TemplateStatusEvent,
} from '../../events/generated/event-types.ts';
import { type Stamp, type TemplateDoc, type TemplateEventEntry } from '../../store/docs.ts';
import { compareStamps, isNewer, maxDateOr, metaTimeToDate } from '../stamp.ts';

export { templateDocId };

/** Meta's `event` -> EchoCue's mirrored status (docs/meta-webhooks.md §6.1). null: the status does not change. */
const STATUS_OF_EVENT: Readonly<Record<string, string | null>> = {
  PENDING: 'pending',
  APPROVED: 'approved',
  REJECTED: 'rejected',
  IN_APPEAL: 'in_appeal',
  FLAGGED: 'flagged',
  PAUSED: 'paused',
  DISABLED: 'disabled',
  REINSTATED: 'approved',
  LIMIT_EXCEEDED: 'limit_exceeded',
  ARCHIVED: 'archived',
  PENDING_DELETION: 'pending_deletion',
  DELETED: 'deleted',
  LOCKED: null,
  UNLOCKED: null,
};

/** Events a template gets again, with the same content, only after an edit (Meta sends
 *  message_template_components_update when a template is edited: docs/meta-webhooks.md §6.4): a review starts
 *  (PENDING), is decided against (REJECTED) or appealed (IN_APPEAL) once per version; a pause names its step of the
 *  ladder (FIRST_PAUSE, SECOND_PAUSE). Without an edit between, such a repeat is a Meta redelivery whose entry.time
 *  is newer than the events that followed the original, and applying it would send the status backwards (a late
 *  PENDING after APPROVED turned broadcasting off). APPROVED, REINSTATED, LOCKED/UNLOCKED, ARCHIVED/UNARCHIVED do
 *  recur unedited (an unpause is an APPROVED like the first approval), so they apply as they come. */
const REPEATS_ONLY_AFTER_EDIT: ReadonlySet<string> = new Set(['PENDING', 'REJECTED', 'IN_APPEAL', 'PAUSED']);

/** The content key of a status event (TemplateEventEntry.content). */
export const statusContent = (e: TemplateStatusEvent): string =>
  JSON.stringify([
    e.event,
    e.reason,
    e.other_info_title,
    e.other_info_description,
    e.rejection_reason,
    e.rejection_recommendation,
    e.disable_date,
  ]);

/** Statuses in which Meta still sends the template, so broadcasts may use it. */
const SENDABLE: ReadonlySet<string> = new Set(['approved', 'flagged']);

type AnyTemplateEvent = TemplateStatusEvent | TemplateQualityEvent | TemplateCategoryEvent | TemplateComponentsEvent;

const stampOf = (e: AnyTemplateEvent): Stamp => ({ at: metaTimeToDate(e.entry_time) ?? new Date(e.received_at), event_id: e.event_id });

export function emptyTemplate(e: AnyTemplateEvent): TemplateDoc {
  return {
    _id: templateDocId(e.waba_id, e.template_id),
    waba_id: e.waba_id,
    template_id: e.template_id,
    name: e.template_name,
    language: e.template_language,
    category: null,
    category_stamp: null,
    pending_category: null,
    pending_category_stamp: null,
    // A template EchoCue knows only from events starts as a draft until Meta reports a state.
    whatsapp_status: 'draft',
    status_reason: null,
    last_event: null,
    locked: false,
    status_events: [],
    broadcastable: false,
    whatsapp_quality_rating: null,
    previous_quality_rating: null,
    quality_stamp: null,
    components: null,
    components_stamp: null,
    details: null,
    updated_at: new Date(e.received_at),
  };
}

/** Whether the entry repeats one applied earlier with no edit between them (see REPEATS_ONLY_AFTER_EDIT). */
function isRedelivery(e: TemplateEventEntry, applied: ReadonlyMap<string, Date>, editedAt: readonly Date[]): boolean {
  if (e.content === undefined || !REPEATS_ONLY_AFTER_EDIT.has(e.event)) return false;
  const first = applied.get(e.content);
  return first !== undefined && !editedAt.some((t) => t > first && t <= e.at);
}

/** Replays the sorted event list: the status, its reason, the lock flag and the last event applied (a redelivery
 *  of an earlier event is skipped). `editedAt`: when the template was edited. */
export function deriveStatus(events: readonly TemplateEventEntry[], editedAt: readonly Date[] = []) {
  let status = 'draft';
  let reason: string | null = null;
  let locked = false;
  let lastEvent: string | null = null;
  let beforeArchive: { status: string; reason: string | null } | null = null;
  const applied = new Map<string, Date>();
  for (const e of events) {
    if (isRedelivery(e, applied, editedAt)) continue;
    if (e.content !== undefined) applied.set(e.content, e.at);
    lastEvent = e.event;
    if (e.event === 'LOCKED') locked = true;
    else if (e.event === 'UNLOCKED') locked = false;
    else if (e.event === 'ARCHIVED') {
      beforeArchive = { status, reason };
      status = 'archived';
      reason = e.reason;
    } else if (e.event === 'UNARCHIVED') {
      if (beforeArchive) ({ status, reason } = beforeArchive);
      beforeArchive = null;
    } else {
      // Own keys only: an unknown event named `constructor` must not turn a function into the status.
      const s = Object.hasOwn(STATUS_OF_EVENT, e.event) ? STATUS_OF_EVENT[e.event] : undefined;
      if (s) {
        status = s;
        reason = e.reason;
      }
    }
  }
  return { whatsapp_status: status, status_reason: reason, locked, last_event: lastEvent, broadcastable: SENDABLE.has(status) };
}

/** Name and language never change for a Meta template id; whichever event names them first fills them. */
function touched(doc: TemplateDoc, e: AnyTemplateEvent): TemplateDoc {
  return {
    ...doc,
    name: doc.name ?? e.template_name,
    language: doc.language ?? e.template_language,
    updated_at: maxDateOr(doc.updated_at, new Date(e.received_at)),
  };
}

export function applyTemplateStatus(doc: TemplateDoc, e: TemplateStatusEvent): TemplateDoc {
  const s = stampOf(e);
  const events = doc.status_events.some((x) => x.event_id === e.event_id)
    ? doc.status_events
    : [...doc.status_events, { event_id: e.event_id, at: s.at, event: e.event, reason: e.reason, content: statusContent(e) }].sort(
        compareStamps,
      );
  const newestEvent = events[events.length - 1]!.event_id === e.event_id;
  return {
    ...touched(doc, e),
    status_events: events,
    ...deriveStatus(events, doc.edited_at ?? []),
    category: e.category && isNewer(s, doc.category_stamp) ? e.category : doc.category,
    category_stamp: e.category && isNewer(s, doc.category_stamp) ? s : doc.category_stamp,
    details: newestEvent
      ? {
          disable_date: e.disable_date,
          other_info_title: e.other_info_title,
          other_info_description: e.other_info_description,
          rejection_reason: e.rejection_reason,
          rejection_recommendation: e.rejection_recommendation,
        }
      : doc.details,
  };
}

export function applyTemplateQuality(doc: TemplateDoc, e: TemplateQualityEvent): TemplateDoc {
  const s = stampOf(e);
  if (!isNewer(s, doc.quality_stamp)) return touched(doc, e);
  return {
    ...touched(doc, e),
    whatsapp_quality_rating: e.new_quality_score,
    previous_quality_rating: e.previous_quality_score,
    quality_stamp: s,
  };
}

/** A completed change sets the category; an impending one (it names `correct_category`) is only recorded:
 *  Meta then puts the CURRENT category in `new_category` (docs/meta-webhooks.md §6.3). The current category is the
 *  newest of status and category events (one stamp); the impending change is the newest category event's alone (its
 *  own stamp), so a status event never hides it: order-free either way. */
export function applyTemplateCategory(doc: TemplateDoc, e: TemplateCategoryEvent): TemplateDoc {
  const s = stampOf(e);
  const current = isNewer(s, doc.category_stamp);
  const pending = isNewer(s, doc.pending_category_stamp ?? null);
  if (!current && !pending) return touched(doc, e);
  return {
    ...touched(doc, e),
    ...(current ? { category: e.new_category ?? doc.category, category_stamp: s } : {}),
    ...(pending
      ? {
          pending_category:
            e.correct_category !== null
              ? { category: e.correct_category, effective_at: metaTimeToDate(e.category_update_timestamp) }
              : null,
          pending_category_stamp: s,
        }
      : {}),
  };
}

/** An edit: the newest components win, and every edit's time is kept (a review after it is a new review). */
export function applyTemplateComponents(doc: TemplateDoc, e: TemplateComponentsEvent): TemplateDoc {
  const s = stampOf(e);
  const known = (doc.edited_at ?? []).some((t) => t.getTime() === s.at.getTime());
  const edited = known ? doc : withEdit(doc, s.at);
  if (!isNewer(s, doc.components_stamp)) return touched(edited, e);
  return {
    ...touched(edited, e),
    components: { title: e.title, element: e.element, footer: e.footer, buttons: e.buttons },
    components_stamp: s,
  };
}

/** Records an edit time and derives the status again (an edit can make a repeated review event a new one). */
function withEdit(doc: TemplateDoc, at: Date): TemplateDoc {
  const editedAt = [...(doc.edited_at ?? []), at].sort((a, b) => a.getTime() - b.getTime());
  return { ...doc, edited_at: editedAt, ...deriveStatus(doc.status_events, editedAt) };
}
