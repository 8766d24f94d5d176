// Authorization: Bearer <API key> -> the caller's account. Every query is then scoped to that account.
import { type Context, type Next } from 'koa';
import { AppError } from '../core/errors.ts';

export type AuthState = { accountId: string };

export function bearerAuth(accountForKey: (key: string) => Promise<string | null>) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const header = ctx.get('authorization');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new AppError('EC_UNAUTHENTICATED', 'Authorization: Bearer <API key> is required');
    const accountId = await accountForKey(m[1]!);
    if (accountId === null) throw new AppError('EC_UNAUTHENTICATED', 'API key is unknown or revoked');
    (ctx.state as AuthState).accountId = accountId;
    await next();
  };
}
