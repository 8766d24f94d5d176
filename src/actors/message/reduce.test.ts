import { describe, expect, test } from 'vitest';
import { type MessageDoc, type StatusEntry } from '../../store/docs.ts';
import { applyReaction } from './reactions.ts';
import { applySent, applyStatus, deriveDelivery, emptyMessage, withInboundMessage } from './reduce.ts';

const entry = (status: string, at: number, extra: Partial<StatusEntry> = {}): StatusEntry => ({
  status,
  at: new Date(at * 1000),
  event_id: `e-${status}-${at}`,
  errors: [],
  pricing: null,
  pricing_from: null,
  errors_from: null,
  ...extra,
});

describe('actors > message status reducer', () => {
  test.each([
    [['sent'], 'sent'],
    [['sent', 'delivered'], 'delivered'],
    [['sent', 'read'], 'read'], // delivered may never come
    [['read', 'delivered', 'sent'], 'read'], // a late delivered never moves it back
    [['sent', 'delivered', 'read', 'played'], 'played'],
    [['sent', 'failed'], 'failed'],
    [['failed'], 'failed'],
    [['sent', 'delivered', 'failed'], 'delivered'], // failed after delivery is not a delivery failure
    [['sent', 'deleted'], 'sent'], // a legacy value is kept in the history, never moves the state
    [['warning'], 'unknown'],
  ])('%j -> %s', (statuses, expected) => {
    expect(deriveDelivery(statuses.map((s, i) => entry(s, 100 + i))).delivery_status).toBe(expected);
  });

  test('failed exposes the first error; pricing comes from the highest status that has it', () => {
    const err = {
      code: 131026,
      title: 'Message undeliverable',
      message: 'Message undeliverable',
      details: 'Message Undeliverable.',
      href: null,
    };
    const d = deriveDelivery([
      entry('sent', 1, { pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' } }),
      entry('failed', 2, { errors: [err] }),
    ]);
    expect(d).toEqual({
      delivery_status: 'failed',
      whatsapp_status: 'failed',
      error: err,
      pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' },
    });
  });

  describe('an inbound message and a placeholder of it', () => {
    const at = new Date(1_781_600_000_000);
    const inbound = (): MessageDoc => ({
      ...emptyMessage('msg_1', 'W', 'wamid.1', 'inbound', at),
      phone_number_id: 'P',
      type: 'image',
      kind: 'image',
      timestamp: at,
      from: '1',
      event_id: 'evt_m',
      raw: '{}',
    });
    const reaction = { key: 'uid:US.1', from: '1', from_user_id: 'US.1', emoji: '👍', at, event_id: 'evt_r', wamid: 'wamid.r' };

    test('new messages and placeholders get a kind: the inbound its own, a placeholder `placeholder`, a system entry `system`', () => {
      expect(emptyMessage('m', 'W', 'w', 'outbound', at)).toMatchObject({ kind: 'placeholder', placeholder: true, reactions: [] });
      expect(emptyMessage('m', 'W', 'w', 'system', at).kind).toBe('system');
      expect(withInboundMessage(null, inbound()).kind).toBe('image');
    });

    test('a reaction that arrived first (placeholder) and the message after: the same document as the other way round', () => {
      const messageFirst = applyReaction(withInboundMessage(null, inbound()), reaction, at);
      const reactionFirst = withInboundMessage(
        applyReaction(emptyMessage('msg_1', 'W', 'wamid.1', 'outbound', at), reaction, at),
        inbound(),
      );
      expect(reactionFirst).toEqual(messageFirst);
      expect(reactionFirst).toMatchObject({ direction: 'inbound', placeholder: false, kind: 'image', reactions: [reaction] });
    });

    test('a stored message is kept as it is (a redelivery changes nothing)', () => {
      const stored = applyReaction(withInboundMessage(null, inbound()), reaction, at);
      expect(withInboundMessage(stored, { ...inbound(), text: 'other' })).toBe(stored);
    });
  });
});

describe('actors > a message EchoCue sent', () => {
  const sentEvent = {
    event_id: 'evt-sent-1',
    event_type: 'message.outbound',
    waba_id: 'W1',
    account_id: 'acc_1',
    phone_number_id: 'P1',
    thread_id: 'thr_1',
    wamid: 'wamid.out.1',
    to_wa_id: '15550001111',
    to_user_id: null,
    message_type: 'text',
    text_body: 'Yes, it ships tomorrow.',
    template_name: null,
    template_language: null,
    template_category: null,
    raw: '{"type":"text"}',
    send_id: 'snd_1',
    sent_at: 1_781_000_000_000,
    received_at: 1_781_000_000_100,
  };
  const status = (s: string, seconds: number) => ({
    event_id: `evt-${s}`,
    event_type: 'message.status',
    waba_id: 'W1',
    account_id: 'acc_1',
    received_at: seconds * 1000 + 500,
    phone_number_id: 'P1',
    wamid: 'wamid.out.1',
    status: s,
    meta_timestamp: String(seconds),
    recipient_id: '15550001111',
    recipient_user_id: null,
    recipient_parent_user_id: null,
    recipient_type: null,
    biz_opaque_callback_data: 'snd_1',
    errors: [],
    pricing: null,
    conversation: null,
    contact: null,
  });
  const empty = () => emptyMessage('msg_1', 'W1', 'wamid.out.1', 'outbound', new Date(1_781_000_000_000));

  test('accepted until Meta reports it; its content replaces the placeholder in either order, applied twice or once', () => {
    const accepted = applySent(empty(), sentEvent as never, 'thr_1');
    expect(accepted).toMatchObject({
      placeholder: false,
      kind: 'text',
      text: 'Yes, it ships tomorrow.',
      delivery_status: 'accepted',
      thread_id: 'thr_1',
    });
    const delivered = status('delivered', 1_781_000_003);
    const sentFirst = applyStatus(applySent(empty(), sentEvent as never, 'thr_1'), delivered as never);
    const statusFirst = applySent(applyStatus(empty(), delivered as never), sentEvent as never, 'thr_1');
    expect(sentFirst).toEqual(statusFirst);
    expect(sentFirst.delivery_status).toBe('delivered');
    expect(applySent(sentFirst, sentEvent as never, 'thr_1')).toEqual(sentFirst);
    // A failure before Meta reported it sent still fails the message (accepted ranks below sent).
    expect(applyStatus(accepted, status('failed', 1_781_000_002) as never).delivery_status).toBe('failed');
  });
});
