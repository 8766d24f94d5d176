// Secrets EchoCue must be able to read back (API signing secrets) are stored encrypted: AES-256-GCM under a master
// key from config, bound to the record they belong to (additional data), with the key's id so keys can rotate
// (the first key encrypts, every listed key decrypts).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AppError } from './errors.ts';

export type Sealed = { v: 1; kid: string; iv: string; tag: string; ct: string };

const kidOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 12);

export function createSecretBox(masterKeys: readonly Buffer[]) {
  if (masterKeys.length === 0 || masterKeys.some((k) => k.length !== 32)) throw new Error('master keys must be 32 bytes each');
  const byKid = new Map(masterKeys.map((k) => [kidOf(k), k]));
  const current = masterKeys[0]!;
  return {
    seal(plain: string, boundTo: string): Sealed {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(boundTo));
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return {
        v: 1,
        kid: kidOf(current),
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        ct: ct.toString('base64'),
      };
    },
    open(sealed: Sealed, boundTo: string): string {
      const key = byKid.get(sealed.kid);
      if (!key) throw new AppError('EC_CONFIG_INVALID', `no MASTER_KEY with id ${sealed.kid} is configured (was it rotated out?)`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
        decipher.setAAD(Buffer.from(boundTo));
        decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
        return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
      } catch (err) {
        throw new AppError('EC_INTERNAL', 'a stored secret failed to decrypt (tampered, or sealed for another record)', { cause: err });
      }
    },
  };
}

export type SecretBox = ReturnType<typeof createSecretBox>;
