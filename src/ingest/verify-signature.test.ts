import { describe, expect, test } from 'vitest';
import { fixtures } from '../../test/helpers/env.ts';
import { signBody, verifySignature } from './verify-signature.ts';

const SECRET = 'echocue-fixture-app-secret';

describe('ingest > verify signature', () => {
  test.each(fixtures().map((f) => [f.file, f] as const))('%s verifies with the signature its README lists', (_, f) => {
    expect(verifySignature(f.body, f.signature, [SECRET])).toEqual({ ok: true, secretIndex: 0 });
  });

  test.each(fixtures().map((f) => [f.file, f] as const))('%s with one byte changed is refused', (_, f) => {
    for (const at of [0, Math.floor(f.body.length / 2), f.body.length - 1]) {
      const tampered = Buffer.from(f.body);
      tampered[at] = tampered[at]! ^ 0x01;
      expect(verifySignature(tampered, f.signature, [SECRET])).toMatchObject({ ok: false, code: 'EC_SIGNATURE_INVALID' });
    }
  });

  test('a re-serialised body no longer matches: Meta signs the raw bytes', () => {
    const f = fixtures().find((x) => x.file === 'messages.text.json')!;
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(f.body.toString('utf8'))));
    expect(verifySignature(reserialised, f.signature, [SECRET]).ok).toBe(false);
  });

  test('accepts any of several secrets during a rotation', () => {
    const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
    const sig = signBody(body, 'old-secret-value');
    expect(verifySignature(body, sig, ['new-secret-value', 'old-secret-value'])).toEqual({ ok: true, secretIndex: 1 });
    expect(verifySignature(body, sig, ['new-secret-value'])).toMatchObject({ ok: false, code: 'EC_SIGNATURE_INVALID' });
  });

  test('upper-case hex is the same signature', () => {
    const body = Buffer.from('{}');
    expect(verifySignature(body, signBody(body, SECRET).toUpperCase().replace('SHA256=', 'sha256='), [SECRET]).ok).toBe(true);
  });

  test.each([
    [undefined, 'EC_SIGNATURE_MISSING'],
    ['', 'EC_SIGNATURE_MISSING'],
    ['sha1=abc', 'EC_SIGNATURE_INVALID'],
    ['sha256=', 'EC_SIGNATURE_INVALID'],
    [`sha256=${'z'.repeat(64)}`, 'EC_SIGNATURE_INVALID'],
    [`sha256=${'a'.repeat(63)}`, 'EC_SIGNATURE_INVALID'],
  ])('header %j is refused with %s', (header, code) => {
    expect(verifySignature(Buffer.from('{}'), header, [SECRET])).toMatchObject({ ok: false, code });
  });
});
