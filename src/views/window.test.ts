// The 24-hour customer service window as GET /api/window shows it: open strictly before window_expires_at (at that
// instant it has closed), closed, with null times, when the contact never wrote to the number.
import { describe, expect, test } from 'vitest';
import { type ThreadDoc } from '../store/docs.ts';
import { Window, windowView } from './window.ts';

const HOUR = 60 * 60 * 1000;
const wrote = new Date('2026-03-01T10:00:00.000Z');
const expires = new Date(wrote.getTime() + 24 * HOUR);

const thread = (extra: Partial<ThreadDoc> = {}): ThreadDoc => ({
  _id: 'thr_1',
  waba_id: 'waba1',
  phone_number_id: 'pn1',
  contact_id: 'ct_1',
  contact: { wa_id: '15550001', user_id: null, name: null, username: null, opted_out_at: null },
  last_message_at: wrote,
  last_inbound_at: wrote,
  window_expires_at: expires,
  unread: [],
  unread_count: 0,
  updated_at: wrote,
  ...extra,
});

const at = (ms: number) => new Date(expires.getTime() + ms);

describe('views > window', () => {
  test('open until the instant the window expires, closed from that instant on', () => {
    const view = (now: Date) => windowView('pn1', 'ct_1', thread(), now);
    expect(view(wrote)).toEqual({
      phone_number_id: 'pn1',
      contact_id: 'ct_1',
      thread_id: 'thr_1',
      open: true,
      expires_at: '2026-03-02T10:00:00.000Z',
      last_inbound_at: '2026-03-01T10:00:00.000Z',
    });
    expect([at(-1), at(0), at(1), at(24 * HOUR)].map((now) => view(now).open)).toEqual([true, false, false, false]);
    expect(Window.parse(view(at(1)))).toMatchObject({ open: false, expires_at: '2026-03-02T10:00:00.000Z' });
  });

  test('closed, with null times, when the contact never wrote to this number: no thread, or a thread without a window', () => {
    const now = at(-HOUR);
    expect(windowView('pn1', 'ct_1', null, now)).toEqual({
      phone_number_id: 'pn1',
      contact_id: 'ct_1',
      thread_id: null,
      open: false,
      expires_at: null,
      last_inbound_at: null,
    });
    expect(windowView('pn1', null, null, now)).toMatchObject({ contact_id: null, open: false });
    const outboundOnly = windowView('pn1', 'ct_1', thread({ last_inbound_at: null, window_expires_at: null }), now);
    expect(outboundOnly).toEqual({
      phone_number_id: 'pn1',
      contact_id: 'ct_1',
      thread_id: 'thr_1',
      open: false,
      expires_at: null,
      last_inbound_at: null,
    });
    expect(Window.parse(outboundOnly)).toEqual(outboundOnly);
  });
});
