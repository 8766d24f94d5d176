// A broadcast recipient as the REST API shows it: skipped wins, then the delivery state of the message it was sent,
// else what the sending side recorded; the skip reason only while skipped; counts of each state.
import { describe, expect, test } from 'vitest';
import { type BroadcastRecipientDoc, type MessageDoc } from '../store/docs.ts';
import { countStates, Recipient, recipientState, recipientView } from './broadcast.ts';

const t0 = new Date('2026-03-01T10:00:00.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

const recipient = (extra: Partial<BroadcastRecipientDoc> = {}): BroadcastRecipientDoc => ({
  _id: 'rcp_1',
  broadcast_id: 'bc_1',
  waba_id: 'waba1',
  wa_id: '15550001',
  user_id: null,
  wamid: 'wamid.out1',
  status: 'pending',
  skip_reason: null,
  skipped_at: null,
  ...extra,
});

const sent = (delivery_status: string | null, extra: Partial<MessageDoc> = {}): MessageDoc => ({
  _id: 'msg_1',
  waba_id: 'waba1',
  wamid: 'wamid.out1',
  direction: 'outbound',
  thread_id: null,
  phone_number_id: 'pn1',
  type: 'unknown',
  text: null,
  context_id: null,
  timestamp: null,
  from: null,
  from_user_id: null,
  read_at: null,
  event_id: 'ev_1',
  raw: null,
  errors: [],
  placeholder: true,
  status_history: [],
  delivery_status,
  whatsapp_status: delivery_status,
  error: null,
  pricing: null,
  recipient_id: '15550001',
  recipient_user_id: null,
  biz_opaque_callback_data: null,
  updated_at: t0,
  ...extra,
});

const error = { code: 131049, title: 'Meta chose not to deliver', message: null, details: null, href: null };

describe('views > broadcast', () => {
  test("a recipient's state: skipped wins; then its message's delivery state (played counts as read); else the sending side's", () => {
    const skipped = recipient({ status: 'skipped', skip_reason: 'opted_out' });
    expect(recipientState(skipped, sent('delivered'))).toBe('skipped');
    expect(recipientState(skipped, null)).toBe('skipped');
    expect(['sent', 'delivered', 'read', 'played', 'failed'].map((s) => recipientState(recipient(), sent(s)))).toEqual([
      'sent',
      'delivered',
      'read',
      'read',
      'failed',
    ]);
    // Accepted by Meta but no status yet (or one the view does not know): what the sending side recorded.
    expect(recipientState(recipient(), sent(null))).toBe('pending');
    expect(recipientState(recipient(), sent('deleted'))).toBe('pending');
    expect(recipientState(recipient({ status: 'failed', wamid: null }), null)).toBe('failed');
    expect(recipientState(recipient({ status: 'failed' }), sent(null))).toBe('failed');
    expect(recipientState(recipient({ wamid: null }), null)).toBe('pending');
  });

  test("the skip reason only while skipped; the message's error; updated_at the later change of recipient and message", () => {
    const view = recipientView(
      recipient({ status: 'skipped', skip_reason: 'opted_out', skipped_at: at(5), changed_at: at(5) }),
      sent('failed', { error, changed_at: at(9) }),
    );
    expect(view).toEqual({
      id: 'rcp_1',
      wa_id: '15550001',
      user_id: null,
      wamid: 'wamid.out1',
      status: 'skipped',
      skip_reason: 'opted_out',
      error: { code: 131049, title: 'Meta chose not to deliver', message: null, details: null, href: null },
      updated_at: '2026-03-01T10:00:09.000Z',
    });
    expect(Recipient.parse(view)).toEqual(view);
    // A reason left from before is not shown once the recipient is no longer skipped.
    expect(recipientView(recipient({ skip_reason: 'opted_out', changed_at: at(12) }), sent('sent', { changed_at: at(3) }))).toMatchObject({
      status: 'sent',
      skip_reason: null,
      error: null,
      updated_at: '2026-03-01T10:00:12.000Z',
    });
    expect(recipientView(recipient(), null)).toMatchObject({ status: 'pending', error: null, updated_at: null });
  });

  test('counts each recipient once, in its state, every state listed', () => {
    expect(countStates(['sent', 'read', 'skipped', 'read', 'pending'])).toEqual({
      total: 5,
      pending: 1,
      sent: 1,
      delivered: 0,
      read: 2,
      failed: 0,
      skipped: 1,
    });
    expect(countStates([])).toEqual({ total: 0, pending: 0, sent: 0, delivered: 0, read: 0, failed: 0, skipped: 0 });
  });
});
