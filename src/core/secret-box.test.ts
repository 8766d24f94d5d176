import { describe, expect, test } from 'vitest';
import { createSecretBox } from './secret-box.ts';

const k1 = Buffer.alloc(32, 1);
const k2 = Buffer.alloc(32, 2);

describe('secret box', () => {
  test('seals and opens; the ciphertext holds no trace of the secret', () => {
    const box = createSecretBox([k1]);
    const sealed = box.seal('ecs_top-secret', 'key_1');
    expect(JSON.stringify(sealed)).not.toContain('top-secret');
    expect(box.open(sealed, 'key_1')).toBe('ecs_top-secret');
    expect(box.seal('ecs_top-secret', 'key_1').ct).not.toBe(sealed.ct); // fresh IV each time
  });

  test('a secret sealed for one record does not open for another, nor after tampering', () => {
    const box = createSecretBox([k1]);
    const sealed = box.seal('s3cret', 'key_1');
    expect(() => box.open(sealed, 'key_2')).toThrow(/failed to decrypt/);
    const flipped = Buffer.from(sealed.ct, 'base64');
    flipped[0]! ^= 1;
    expect(() => box.open({ ...sealed, ct: flipped.toString('base64') }, 'key_1')).toThrow(/failed to decrypt/);
  });

  test('rotation: the first key seals, every listed key opens; a dropped key is named', () => {
    const old = createSecretBox([k1]).seal('old', 'r');
    const rotated = createSecretBox([k2, k1]);
    expect(rotated.open(old, 'r')).toBe('old');
    expect(rotated.seal('new', 'r').kid).not.toBe(old.kid);
    expect(() => createSecretBox([k2]).open(old, 'r')).toThrow(/no MASTER_KEY with id/);
    expect(() => createSecretBox([Buffer.alloc(16)])).toThrow(/32 bytes/);
  });
});
