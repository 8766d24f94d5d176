import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { fixtures } from '../../test/helpers/env.ts';
import { MESSAGE_KIND_DOCS, MESSAGE_KINDS, messageKind } from './message-kind.ts';

const inbound = (type: string) => messageKind({ direction: 'inbound', type, placeholder: false });

describe('store > message kind', () => {
  test.each([
    'text',
    'image',
    'video',
    'audio',
    'document',
    'sticker',
    'location',
    'contacts',
    'interactive',
    'button',
    'reaction',
    'order',
    'system',
    'request_welcome',
    'unsupported',
  ])('Meta type %s is the kind %s', (type) => {
    expect(inbound(type)).toBe(type);
  });

  test('every message type of the shared fixtures has a kind of its own (none is unknown)', () => {
    const types = fixtures().flatMap((f) => {
      const body = JSON.parse(f.body.toString('utf8')) as { entry?: { changes?: { value?: { messages?: { type: string }[] } }[] }[] };
      return (body.entry ?? []).flatMap((e) => (e.changes ?? []).flatMap((c) => (c.value?.messages ?? []).map((m) => m.type)));
    });
    expect(types.length).toBeGreaterThan(15);
    for (const t of types) expect(inbound(t), t).not.toBe('unknown');
  });

  test("a type Meta adds later, Meta's older `unknown`, and odd strings are unknown", () => {
    for (const t of ['hologram', 'poll', 'edit', 'unknown', '', 'TEXT', 'consent.stop', 'placeholder', 'constructor', '__proto__']) {
      expect(inbound(t), t).toBe('unknown');
    }
  });

  test('an outbound placeholder (known from statuses or reactions) is a placeholder; once filled in, its type decides', () => {
    expect(messageKind({ direction: 'outbound', type: 'unknown', placeholder: true })).toBe('placeholder');
    expect(messageKind({ direction: 'outbound', type: 'image', placeholder: false })).toBe('image');
    expect(messageKind({ direction: 'outbound', type: 'template', placeholder: false })).toBe('template');
    expect(messageKind({ direction: 'outbound', type: 'hologram', placeholder: false })).toBe('unknown');
  });

  test("EchoCue's own entries: opt-out and opt-in are consent, anything else of its own is system", () => {
    expect(messageKind({ direction: 'system', type: 'consent.stop', placeholder: false })).toBe('consent');
    expect(messageKind({ direction: 'system', type: 'consent.resume', placeholder: false })).toBe('consent');
    expect(messageKind({ direction: 'system', type: 'note', placeholder: false })).toBe('system');
  });

  test('every kind is documented, and the list has no duplicates', () => {
    expect(Object.keys(MESSAGE_KIND_DOCS).sort()).toEqual([...MESSAGE_KINDS].sort());
    expect(new Set(MESSAGE_KINDS).size).toBe(MESSAGE_KINDS.length);
  });

  test('the README lists every kind, and only those', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('| `kind` | the message |')).split('\n\n')[0]!;
    const listed = table
      .split('\n')
      .slice(2)
      .flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1]));
    expect(listed.sort()).toEqual([...MESSAGE_KINDS].sort());
  });
});
