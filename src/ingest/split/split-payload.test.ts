import { describe, expect, test } from 'vitest';
import { fixtures } from '../../../test/helpers/env.ts';
import { EXPECTED_EVENTS } from '../../../test/fixtures/expected-events.ts';
import { parseJsonLossless } from '../parse-json.ts';
import { splitPayload } from './split-payload.ts';

const ctx = { receivedAt: 1781514061000, accountOf: (w: string) => (w === '104719385562013' ? 'acc_A' : null) };
const split = (body: unknown) => splitPayload(body, ctx);

describe('ingest > split payload', () => {
  test('every shared fixture has an expectation', () => {
    expect(
      fixtures()
        .map((f) => f.file)
        .sort(),
    ).toEqual(Object.keys(EXPECTED_EVENTS).sort());
  });

  test.each(fixtures().map((f) => [f.file, f] as const))('%s splits into its expected events', (file, f) => {
    const out = split(parseJsonLossless(f.body.toString('utf8')));
    expect(out.kind).toBe('events');
    const events = out.kind === 'events' ? out.events : [];
    const expected = EXPECTED_EVENTS[file]!;
    expect(events.map((e) => e.eventType)).toEqual(expected.map(([t]) => t));
    events.forEach((e, i) => {
      expect(e.value).toMatchObject(expected[i]![1]);
      expect(e.key).toBe(e.value['waba_id']);
      expect(e.value['account_id']).toBe(e.value['waba_id'] === '104719385562013' ? 'acc_A' : null);
      expect(e.value['received_at']).toBe(ctx.receivedAt);
      expect(e.value['event_id']).toMatch(/^evt_[A-Za-z0-9_-]{27}$/);
      expect(() => JSON.parse(String(e.value['raw']))).not.toThrow();
    });
    expect(new Set(events.map((e) => e.value['event_id'])).size).toBe(events.length);
  });

  test('the same item gets the same event id in any POST and any batching', () => {
    const batch = parseJsonLossless(
      fixtures()
        .find((f) => f.file === 'batched.multi-entry.json')!
        .body.toString(),
    ) as any;
    const first = split(batch);
    // The second message alone, in a POST of its own, with keys in another order.
    const alone = structuredClone(batch);
    alone.entry = [alone.entry[0]];
    alone.entry[0].changes = [alone.entry[0].changes[0]];
    const msg = alone.entry[0].changes[0].value.messages[1];
    alone.entry[0].changes[0].value.messages = [Object.fromEntries(Object.entries(msg).reverse())];
    const again = split(alone);
    const id = (o: ReturnType<typeof split>, wamid: string) =>
      o.kind === 'events' ? o.events.find((e) => e.value['wamid'] === wamid)?.value['event_id'] : undefined;
    expect(id(again, msg.id)).toBeDefined();
    expect(id(again, msg.id)).toBe(id(first, msg.id));
  });

  test('different statuses of one message have different ids; a re-sent status keeps its id', () => {
    const body = (status: string, ts: string) => ({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'messages', value: { statuses: [{ id: 'wamid.1', status, timestamp: ts }] } }] }],
    });
    const ids = [split(body('sent', '1')), split(body('delivered', '2')), split(body('sent', '1'))].map((o) =>
      o.kind === 'events' ? o.events[0]!.value['event_id'] : null,
    );
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids[0]).toBe(ids[2]);
  });

  test('an unknown field goes whole to the unknown topic, never dropped', () => {
    const change = {
      field: 'smb_message_echoes',
      value: { messaging_product: 'whatsapp', message_echoes: [{ id: 'x', new_thing: { deep: [1, 2] } }] },
    };
    const out = split({ object: 'whatsapp_business_account', entry: [{ id: '9', time: 5, changes: [change] }] });
    expect(out.kind === 'events' && out.events.map((e) => [e.eventType, e.value['field'], JSON.parse(String(e.value['raw']))])).toEqual([
      ['unknown', 'smb_message_echoes', change],
    ]);
  });

  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'a field named %s is an unknown change, kept raw (it threw: 500 on every retry)',
    (field) => {
      const body = parseJsonLossless(
        `{"object":"whatsapp_business_account","entry":[{"id":"9","time":5,"changes":[{"field":"${field}","value":{"a":1}}]}]}`,
      );
      const out = split(body);
      expect(out.kind === 'events' && out.events.map((e) => [e.eventType, e.value['field'], JSON.parse(String(e.value['raw']))])).toEqual([
        ['unknown', field, { field, value: { a: 1 } }],
      ]);
    },
  );

  test('a body nested 20,000 levels deep inside a message is ignored, not a crash (JSON.stringify and the id hashing threw RangeError)', () => {
    const body = (depth: number) =>
      parseJsonLossless(
        `{"object":"whatsapp_business_account","entry":[{"id":"9","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},"messages":[{"from":"15550001","id":"wamid.deep","timestamp":"1781514000","type":"text","text":{"body":"hi"},"odd":${'['.repeat(depth)}1${']'.repeat(depth)}}]}}]}]}`,
      );
    expect(split(body(20_000))).toEqual({ kind: 'ignored', reason: 'body nests deeper than 256 levels' });
    // Below the limit it is an ordinary message.
    const out = split(body(200));
    expect(out.kind === 'events' && out.events.map((e) => e.eventType)).toEqual(['message.inbound']);
  });

  test('a known field with nothing readable also lands on the unknown topic', () => {
    const change = { field: 'messages', value: { messaging_product: 'whatsapp', reactions_v2: [{ id: 'x' }] } };
    const out = split({ object: 'whatsapp_business_account', entry: [{ id: '9', changes: [change] }] });
    expect(out.kind === 'events' && out.events.map((e) => e.eventType)).toEqual(['unknown']);
  });

  test('an unknown message type, status value and template event are kept as sent', () => {
    const out = split({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '9',
          changes: [
            {
              field: 'messages',
              value: {
                messages: [{ id: 'w1', from: '1', timestamp: '1', type: 'hologram', hologram: {} }],
                statuses: [{ id: 'w2', status: 'teleported', timestamp: '2' }],
              },
            },
          ],
        },
        { id: '9', time: 3, changes: [{ field: 'message_template_status_update', value: { event: 'ASCENDED', message_template_id: 1 } }] },
      ],
    });
    expect(
      out.kind === 'events' && out.events.map((e) => [e.eventType, e.value['message_type'] ?? e.value['status'] ?? e.value['event']]),
    ).toEqual([
      ['message.inbound', 'hologram'],
      ['message.status', 'teleported'],
      ['template.status', 'ASCENDED'],
    ]);
  });

  test('numbers where strings are expected are kept as their text', () => {
    const out = split({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 104719385562013,
          changes: [
            {
              field: 'messages',
              value: {
                metadata: { phone_number_id: 112356789045671 },
                contacts: [{ wa_id: 15550199001 }],
                messages: [{ id: 'w', from: 15550199001, timestamp: 1781514060, type: 'text', text: { body: 42 } }],
              },
            },
          ],
        },
      ],
    });
    expect(out.kind === 'events' && out.events[0]!.value).toMatchObject({
      waba_id: '104719385562013',
      phone_number_id: '112356789045671',
      from: '15550199001',
      meta_timestamp: 1781514060,
      text_body: '42',
      contact: { wa_id: '15550199001' },
    });
  });

  test('a reaction carries its target and emoji; a removal (emoji omitted or empty) carries the target only', () => {
    const react = (reaction: Record<string, unknown>) => ({
      id: `w${Object.keys(reaction).length}${String(reaction['emoji'])}`,
      from: '1',
      timestamp: '2',
      type: 'reaction',
      reaction,
    });
    const out = split({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            {
              field: 'messages',
              value: {
                messages: [
                  react({ message_id: 'wamid.T', emoji: '❤️' }),
                  react({ message_id: 'wamid.T' }),
                  react({ message_id: 'wamid.T', emoji: '' }),
                  { id: 'wt', from: '1', timestamp: '3', type: 'text', text: { body: 'hi' } },
                ],
              },
            },
          ],
        },
      ],
    });
    expect(out.kind === 'events' && out.events.map((e) => [e.value['reaction_message_id'], e.value['reaction_emoji']])).toEqual([
      ['wamid.T', '❤️'],
      ['wamid.T', null],
      ['wamid.T', ''],
      [null, null],
    ]);
  });

  test('a template id beyond 2^53 stays exact', () => {
    const text =
      '{"object":"whatsapp_business_account","entry":[{"id":"1","time":2,"changes":[{"field":"message_template_quality_update","value":{"message_template_id":9007199254740993123,"new_quality_score":"RED"}}]}]}';
    const out = split(parseJsonLossless(text));
    expect(out.kind === 'events' && out.events[0]!.value['template_id']).toBe('9007199254740993123');
  });

  test.each([
    [null, 'body is not a JSON object'],
    [[1, 2], 'body is not a JSON object'],
    [{ object: 'page', entry: [] }, 'object is "page", not "whatsapp_business_account"'],
    [{ entry: [] }, 'object is null, not "whatsapp_business_account"'],
    [{ object: 'whatsapp_business_account', entry: { id: '1' } }, 'entry is not an array'],
  ])('%j is not a WABA payload: ignored (%s)', (body, reason) => {
    expect(split(body)).toEqual({ kind: 'ignored', reason });
  });

  test('an empty entry list is a WABA payload with no events', () => {
    expect(split({ object: 'whatsapp_business_account', entry: [] })).toEqual({ kind: 'events', events: [], wabaIds: [] });
  });
});
