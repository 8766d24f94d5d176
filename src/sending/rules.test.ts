import { describe, expect, test } from 'vitest';
import { type ConnectionDoc } from '../store/connections.ts';
import { type ContactDoc, type TemplateDoc, type ThreadDoc } from '../store/docs.ts';
import { isMarketing, sendRefusal, type SendCheck } from './rules.ts';

const NOW = new Date('2026-12-02T12:00:00Z');
const hours = (h: number) => new Date(NOW.getTime() + h * 3600_000);

const thread = (windowExpires: Date | null, wa: string | null = '15550001111'): ThreadDoc =>
  ({
    _id: 'thr_1',
    waba_id: 'W1',
    phone_number_id: 'P1',
    contact: { wa_id: wa, user_id: null },
    window_expires_at: windowExpires,
  }) as ThreadDoc;
const connected = { _id: 'P1', state: 'connected' } as ConnectionDoc;
const contact = (waba: string, stops: { all?: Date; marketing?: Date } = {}) =>
  ({ _id: `con_${waba}`, waba_id: waba, opted_out_at: stops.all ?? null, marketing_opted_out_at: stops.marketing ?? null }) as ContactDoc;
const template = (status: string, category: string | null, broadcastable = status === 'approved') =>
  ({ name: 'promo', whatsapp_status: status, category, broadcastable }) as TemplateDoc;

const check = (over: Partial<SendCheck>): SendCheck => ({
  now: NOW,
  thread: thread(hours(2)),
  connection: connected,
  person: [contact('W1')],
  template: null,
  ...over,
});
const reason = (c: SendCheck) => sendRefusal(c)?.reason ?? null;
const tpl = (doc: TemplateDoc | null) => ({ name: 'promo', language: 'en_US', doc });

describe('sending > what may be sent', () => {
  test('free-form needs the window open; a template goes either way', () => {
    expect(reason(check({}))).toBeNull();
    expect(reason(check({ thread: thread(hours(-1)) }))).toBe('window_closed');
    expect(reason(check({ thread: thread(NOW) }))).toBe('window_closed'); // closes at its expiry instant
    expect(reason(check({ thread: thread(null) }))).toBe('window_closed');
    expect(reason(check({ thread: thread(hours(-30)), template: tpl(template('approved', 'UTILITY')) }))).toBeNull();
  });

  test('an opt-out of everything on any WABA of the account refuses every send; a marketing one only marketing templates', () => {
    const stoppedElsewhere = [contact('W1'), contact('W2', { all: hours(-1) })];
    expect(sendRefusal(check({ person: stoppedElsewhere }))).toEqual({ reason: 'opted_out', message: expect.stringContaining('W2') });
    expect(reason(check({ person: stoppedElsewhere, template: tpl(template('approved', 'UTILITY')) }))).toBe('opted_out');
    const noMarketing = [contact('W1', { marketing: hours(-1) })];
    expect(reason(check({ person: noMarketing }))).toBeNull(); // a reply inside the window still goes
    expect(reason(check({ person: noMarketing, template: tpl(template('approved', 'UTILITY')) }))).toBeNull();
    expect(reason(check({ person: noMarketing, template: tpl(template('approved', 'MARKETING')) }))).toBe('marketing_opted_out');
    expect(reason(check({ person: noMarketing, template: tpl(template('approved', null)) }))).toBe('marketing_opted_out');
  });

  test('templates must be known and still sent by Meta; the number connected; the contact a wa_id', () => {
    expect(reason(check({ template: tpl(null) }))).toBe('template_unknown');
    expect(sendRefusal(check({ template: tpl(template('paused', 'MARKETING')) }))).toEqual({
      reason: 'template_not_approved',
      message: 'template "promo" is paused, not approved',
    });
    expect(reason(check({ template: tpl(template('flagged', 'UTILITY', true)) }))).toBeNull();
    expect(reason(check({ connection: null }))).toBe('not_connected');
    expect(reason(check({ connection: { ...connected, state: 'failed' } }))).toBe('not_connected');
    expect(reason(check({ thread: thread(hours(2), null) }))).toBe('no_recipient');
  });

  test('marketing unless Meta said utility or authentication', () => {
    expect([isMarketing('MARKETING'), isMarketing(null), isMarketing('utility'), isMarketing('AUTHENTICATION')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
