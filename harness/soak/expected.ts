// The state the REST API should show after a scenario, derived from the same bodies, never written by hand: each
// POST is split by ingest's splitter, every actor event goes through its Avro schema and back (what the actors
// decode), the events are folded in order by the actors' own applyBatch + Session on an in-memory store, and the
// documents are rendered by the view functions the API uses. Several scenarios fold into one store, so the
// expectation accumulates across rounds like the real store does.
import { ACTOR_EVENT_TYPES, applyBatch, type DecodedEvent } from '../../src/actors/apply.ts';
import { Session } from '../../src/actors/session.ts';
import { loadSchema } from '../../src/events/avro-schemas.ts';
import { type EventType } from '../../src/events/topics.ts';
import { parseJsonLossless } from '../../src/ingest/parse-json.ts';
import { splitPayload } from '../../src/ingest/split/split-payload.ts';
import { type MessageDoc, type TemplateDoc, type ThreadDoc } from '../../src/store/docs.ts';
import { contactView } from '../../src/views/contact.ts';
import { messageView, notificationView } from '../../src/views/message.ts';
import { templateView } from '../../src/views/template.ts';
import { threadView } from '../../src/views/thread.ts';
import { windowView } from '../../src/views/window.ts';
import { MemoryActorStore } from '../memory-actor-store.ts';
import { type EntityViews } from './read-back.ts';

type View = Record<string, unknown>;

/** The REST API's views of every entity (thread and template lists and each thread's messages: every page, in the
 *  API's order; contacts and notifications by id), plus the 24-hour window per thread as of `now`. */
export type ExpectedState = EntityViews & {
  window(threadId: string, now: Date): View;
};

const isActorEvent = (t: EventType): t is DecodedEvent['type'] => (ACTOR_EVENT_TYPES as readonly string[]).includes(t);

/** An event as the actors decode it: through its Avro schema and back. */
function viaAvro(type: DecodedEvent['type'], value: Readonly<Record<string, unknown>>): DecodedEvent {
  const schema = loadSchema(type).type;
  return { type, event: schema.fromBuffer(schema.toBuffer(value)) } as DecodedEvent;
}

// The store's sort orders (src/store/threads.ts, messages.ts, templates.ts THREAD_ORDERS.recent,
// MESSAGE_ORDERS.chronological, TEMPLATE_ORDERS.name), with MongoDB's rule that null sorts before any value.
const nullFirst = (a: string | number | null, b: string | number | null) =>
  a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;
const time = (d: Date | null) => d?.getTime() ?? null;
const byRecent = (a: ThreadDoc, b: ThreadDoc) => nullFirst(time(b.last_message_at), time(a.last_message_at)) || nullFirst(a._id, b._id);
const byChronology = (a: MessageDoc, b: MessageDoc) => nullFirst(time(a.timestamp), time(b.timestamp)) || nullFirst(a._id, b._id);
const byName = (a: TemplateDoc, b: TemplateDoc) =>
  nullFirst(a.name, b.name) || nullFirst(a.language, b.language) || nullFirst(a._id, b._id);

export class Expectation {
  private readonly store = new MemoryActorStore();
  private posts = 0;
  /** Events the actors would dead-letter (none in a valid scenario). */
  readonly rejected: string[] = [];

  /** Folds the bodies in the order given, one batch per POST as ingest hands them on. */
  async fold(bodies: readonly string[]): Promise<void> {
    for (const body of bodies) {
      // received_at only feeds store-side stamps that no view shows, so any clock will do here.
      const out = splitPayload(parseJsonLossless(body), { receivedAt: 1_781_600_000_000 + this.posts++ * 1000, accountOf: () => null });
      if (out.kind !== 'events') throw new Error(`a scenario body was ignored: ${out.reason}`);
      const events = out.events.flatMap((e) => (isActorEvent(e.eventType) ? [viaAvro(e.eventType, e.value)] : []));
      for (const r of await applyBatch(new Session(this.store), events)) this.rejected.push(`${events[r.index]!.type}: ${r.error.message}`);
      // The in-memory store never leaves the microtask queue: give the event loop a turn, or a caller's idle
      // keep-alive sockets miss the server closing them during a long fold and the next request fails on one.
      await new Promise((r) => setImmediate(r));
    }
  }

  render(): ExpectedState {
    const d = this.store.data;
    const threads = [...d.thread.values()].sort(byRecent);
    const messages = new Map<string, View[]>(threads.map((t) => [t._id, []]));
    for (const m of [...d.message.values()].sort(byChronology)) if (m.thread_id !== null) messages.get(m.thread_id)?.push(messageView(m));
    const byId = new Map(threads.map((t) => [t._id, t]));
    return {
      threads: threads.map(threadView),
      messages,
      contacts: new Map([...d.contact.values()].map((c) => [c._id, contactView(c)])),
      notifications: new Map([...d.message.values()].filter((m) => m.direction === 'outbound').map((m) => [m.wamid, notificationView(m)])),
      templates: [...d.template.values()].sort(byName).map(templateView),
      window: (threadId, now) => {
        const t = byId.get(threadId)!;
        return windowView(t.phone_number_id ?? '', t.contact_id, t, now);
      },
    };
  }
}
