// A message and an outbound message's notification as the REST API shows them: EchoCue's own entries without a
// wamid, the kind of documents stored before kinds, the raw message object only when it is one, current reactions
// only, and the status history in Meta's order.
import { describe, expect, test } from 'vitest';
import { type MessageDoc, type MetaErrorDoc, type ReactionEntry } from '../store/docs.ts';
import { Message, messageView, Notification, notificationView } from './message.ts';

const t0 = new Date('2026-03-01T10:00:00.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

const message = (extra: Partial<MessageDoc> = {}): MessageDoc => ({
  _id: 'msg_1',
  waba_id: 'waba1',
  wamid: 'wamid.in1',
  direction: 'inbound',
  thread_id: 'thr_1',
  phone_number_id: 'pn1',
  type: 'text',
  kind: 'text',
  text: 'hello',
  context_id: null,
  timestamp: t0,
  from: '15550001',
  from_user_id: null,
  read_at: null,
  event_id: 'ev_1',
  raw: '{"type":"text","text":{"body":"hello"}}',
  errors: [],
  placeholder: false,
  status_history: [],
  delivery_status: null,
  whatsapp_status: null,
  error: null,
  pricing: null,
  recipient_id: null,
  recipient_user_id: null,
  biz_opaque_callback_data: null,
  updated_at: t0,
  ...extra,
});

/** An outbound message known only from its statuses (the sending side fills the content later). */
const outbound = (extra: Partial<MessageDoc> = {}): MessageDoc =>
  message({
    _id: 'msg_2',
    wamid: 'wamid.out1',
    direction: 'outbound',
    type: 'unknown',
    kind: 'placeholder',
    text: null,
    timestamp: null,
    from: null,
    raw: null,
    placeholder: true,
    recipient_id: '15550001',
    ...extra,
  });

const error: MetaErrorDoc = { code: 131026, title: 'Message undeliverable', message: null, details: 'x', href: null };

const reaction = (key: string, s: number, emoji: string | null): ReactionEntry => ({
  key,
  at: at(s),
  event_id: `ev_${key}`,
  from: key.startsWith('wa:') ? key.slice(3) : null,
  from_user_id: key.startsWith('uid:') ? key.slice(4) : null,
  emoji,
  wamid: `wamid.r.${key}`,
});

describe('views > message', () => {
  test("an inbound message as stored; Meta's reply context as reply_to_wamid; updated_at is when EchoCue changed it", () => {
    const view = messageView(message({ context_id: 'wamid.prev', changed_at: at(60) }));
    expect(view).toEqual({
      id: 'msg_1',
      wamid: 'wamid.in1',
      thread_id: 'thr_1',
      direction: 'inbound',
      type: 'text',
      kind: 'text',
      text: 'hello',
      reply_to_wamid: 'wamid.prev',
      timestamp: '2026-03-01T10:00:00.000Z',
      from: '15550001',
      from_user_id: null,
      delivery_status: null,
      whatsapp_status: null,
      error: null,
      content: { type: 'text', text: { body: 'hello' } },
      reactions: [],
      updated_at: '2026-03-01T10:01:00.000Z',
    });
    expect(Message.parse(view)).toEqual(view);
    expect(messageView(message()).updated_at).toBeNull();
  });

  test("EchoCue's own entries show no wamid; a message of Meta's, in or out, shows its own", () => {
    const consent = message({ wamid: 'echocue.consent.ev_1', direction: 'system', type: 'consent.stop', kind: 'consent', raw: null });
    expect(messageView(consent)).toMatchObject({ wamid: null, direction: 'system', kind: 'consent' });
    expect(messageView(outbound()).wamid).toBe('wamid.out1');
  });

  test('a document stored before kinds existed gets its kind from direction and type; a stored kind is shown as stored', () => {
    const kindOf = (m: MessageDoc) => messageView({ ...m, kind: undefined }).kind;
    expect(kindOf(outbound())).toBe('placeholder');
    expect(kindOf(outbound({ placeholder: false, type: 'text' }))).toBe('text');
    expect(kindOf(message({ type: 'image' }))).toBe('image');
    expect(kindOf(message({ type: 'hologram' }))).toBe('unknown');
    expect(kindOf(message({ direction: 'system', type: 'consent.resume' }))).toBe('consent');
    expect(messageView(message({ type: 'text', kind: 'unknown' })).kind).toBe('unknown');
  });

  test('content is the raw message object only when it is one: null without raw, for unparsable raw, and for JSON that is no object', () => {
    const content = (raw: string | null) => messageView(message({ raw })).content;
    expect(content('{"type":"image","image":{"id":"m1"}}')).toEqual({ type: 'image', image: { id: 'm1' } });
    expect([null, '{"type":', '[{"type":"text"}]', 'null', '"text"', '42'].map(content)).toEqual([null, null, null, null, null, null]);
  });

  test('reactions: the current one of each user, oldest first (same time: by user), removals left out', () => {
    const doc = message({
      reactions: [reaction('uid:B', 20, '👍'), reaction('wa:15550009', 10, '❤️'), reaction('uid:C', 20, null), reaction('uid:A', 20, '😂')],
    });
    const view = messageView(doc);
    expect(view.reactions).toEqual([
      { emoji: '❤️', from: '15550009', from_user_id: null, at: '2026-03-01T10:00:10.000Z' },
      { emoji: '😂', from: null, from_user_id: 'A', at: '2026-03-01T10:00:20.000Z' },
      { emoji: '👍', from: null, from_user_id: 'B', at: '2026-03-01T10:00:20.000Z' },
    ]);
    expect(notificationView(outbound({ reactions: doc.reactions })).reactions).toEqual(view.reactions);
    expect(Message.parse(view)).toEqual(view);
  });
});

describe('views > message > notification', () => {
  test("an outbound message's delivery state: history by Meta time (same time: by status), each with its errors; recipient and pricing", () => {
    const status = (s: string, sec: number, errors: MetaErrorDoc[] = []) => ({
      status: s,
      at: at(sec),
      event_id: `ev_${s}`,
      errors,
      pricing: null,
      pricing_from: null,
      errors_from: null,
    });
    const doc = outbound({
      recipient_user_id: 'US.1',
      status_history: [status('read', 20), status('sent', 10), status('failed', 30, [error]), status('delivered', 20)],
      delivery_status: 'failed',
      whatsapp_status: 'failed',
      error,
      pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'utility' },
      biz_opaque_callback_data: 'order-7',
      changed_at: at(31),
    });
    const view = notificationView(doc);
    expect(view).toEqual({
      id: 'msg_2',
      wamid: 'wamid.out1',
      waba_id: 'waba1',
      phone_number_id: 'pn1',
      recipient: { wa_id: '15550001', user_id: 'US.1' },
      delivery_status: 'failed',
      whatsapp_status: 'failed',
      error: { code: 131026, title: 'Message undeliverable', message: null, details: 'x', href: null },
      status_history: [
        { status: 'sent', at: '2026-03-01T10:00:10.000Z', errors: [] },
        { status: 'delivered', at: '2026-03-01T10:00:20.000Z', errors: [] },
        { status: 'read', at: '2026-03-01T10:00:20.000Z', errors: [] },
        {
          status: 'failed',
          at: '2026-03-01T10:00:30.000Z',
          errors: [{ code: 131026, title: 'Message undeliverable', message: null, details: 'x', href: null }],
        },
      ],
      pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'utility' },
      biz_opaque_callback_data: 'order-7',
      reactions: [],
      updated_at: '2026-03-01T10:00:31.000Z',
    });
    expect(Notification.parse(view)).toEqual(view);
    expect(notificationView(outbound())).toMatchObject({ status_history: [], error: null, pricing: null, updated_at: null });
  });
});
