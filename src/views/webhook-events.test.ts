import { describe, expect, test } from 'vitest';
import { CATEGORIES } from '../events/outbound.ts';
import { envelopeSchema, EVENT_VERSIONS, EXAMPLES, isVersionOf, latestVersion, renderData } from './webhook-events.ts';

describe('webhook event types and their payload versions', () => {
  test("every type's example is valid version-1 data, and renders into a valid payload of every version", () => {
    for (const type of CATEGORIES) {
      expect(EVENT_VERSIONS[type].length).toBeGreaterThanOrEqual(1);
      for (let v = 1; v <= latestVersion(type); v++) {
        const data = renderData(type, v, EXAMPLES[type]);
        const parsed = EVENT_VERSIONS[type][v - 1]!.schema.safeParse(data);
        expect([type, v, parsed.success ? 'ok' : parsed.error.message]).toEqual([type, v, 'ok']);
        const envelope = { id: 'evt_x', type, ...(v > 1 ? { version: v } : {}), created_at: '2026-03-02T09:15:00.000Z', test: true, data };
        expect(envelopeSchema(type, v).safeParse(envelope).success).toBe(true);
      }
    }
  });

  test('message.status v2 is the slim shape: the status and the message, no history nor reactions', () => {
    const v2 = renderData('message.status', 2, EXAMPLES['message.status']) as Record<string, any>;
    expect(Object.keys(v2)).toEqual(['status', 'message']);
    expect(v2['message']).toMatchObject({ wamid: 'wamid.EXAMPLE_OUT', delivery_status: 'failed', error: { code: 131026 } });
    expect(v2['message']).not.toHaveProperty('status_history');
    expect(v2['message']).not.toHaveProperty('reactions');
    // A v1 payload is not a v2 one, nor the reverse: the versions are distinct shapes.
    expect(EVENT_VERSIONS['message.status'][1]!.schema.safeParse(EXAMPLES['message.status']).success).toBe(false);
  });

  test('a v1 envelope has no version field; a v2 envelope must carry version 2', () => {
    const data = renderData('message.status', 2, EXAMPLES['message.status']);
    const base = { id: 'evt_x', type: 'message.status', created_at: '2026-03-02T09:15:00.000Z' };
    expect(envelopeSchema('message.status', 2).safeParse({ ...base, data }).success).toBe(false);
    expect(envelopeSchema('message.status', 2).safeParse({ ...base, version: 2, data }).success).toBe(true);
    expect(isVersionOf('message.status', 3)).toBe(false);
    expect(isVersionOf('template.status', 1)).toBe(true);
    expect(isVersionOf('template.status', 0)).toBe(false);
  });
});
