// Authentication. Customers: `Authorization: Bearer <API key>` -> the key's account and its WABAs (read on every
// request, so a revoked key is refused from the next request on). Operators: `Authorization: Bearer <ADMIN_TOKEN>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import { type Context, type Next } from 'koa';
import { AppError } from '../core/errors.ts';
import { type Caller } from './route.ts';

const bearer = (ctx: Context): string | null => /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'))?.[1] ?? null;

export type KeyResolver = (key: string) => Promise<{ keyId: string; accountId: string } | null>;

export function apiKeyAuth(resolveKey: KeyResolver, wabasOf: (accountId: string) => Promise<string[]>) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const key = bearer(ctx);
    if (key === null) throw new AppError('EC_UNAUTHENTICATED', 'Authorization: Bearer <API key> is required');
    const found = await resolveKey(key);
    if (found === null) throw new AppError('EC_UNAUTHENTICATED', 'API key is unknown or revoked');
    const caller: Caller = { accountId: found.accountId, keyId: found.keyId, wabaIds: await wabasOf(found.accountId) };
    ctx.state['caller'] = caller;
    await next();
  };
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The admin routes answer only with ADMIN_TOKEN set; compared in constant time (of the hashes). */
export function adminAuth(adminToken: string | null) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (adminToken === null) throw new AppError('EC_ADMIN_DISABLED', 'the admin API is disabled: set ADMIN_TOKEN to enable it');
    const token = bearer(ctx);
    if (token === null || !timingSafeEqual(digest(token), digest(adminToken))) {
      throw new AppError('EC_UNAUTHENTICATED', 'Authorization: Bearer <ADMIN_TOKEN> is required for the admin API');
    }
    await next();
  };
}
