// A request budget per API key (rate-limiter-flexible, fixed window), with the IETF RateLimit-* headers on every
// answer and 429 + Retry-After past the budget. The budget is per API process (docs/decisions/0007-rest-api.md).
import { type Context, type Next } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../core/errors.ts';
import { type Caller } from './route.ts';

export type RateLimitConfig = Readonly<{ points: number; windowSeconds: number }>;

/** `onRefused`: called for each request refused with 429 (the metrics). */
export function rateLimitPerKey(cfg: RateLimitConfig, onRefused: () => void = () => {}) {
  const limiter = new RateLimiterMemory({ points: cfg.points, duration: cfg.windowSeconds });
  const headers = (ctx: Context, res: RateLimiterRes) => {
    ctx.set('RateLimit-Limit', String(cfg.points));
    ctx.set('RateLimit-Remaining', String(Math.max(0, res.remainingPoints)));
    ctx.set('RateLimit-Reset', String(Math.ceil(res.msBeforeNext / 1000)));
    ctx.set('RateLimit-Policy', `${cfg.points};w=${cfg.windowSeconds}`);
  };
  return async (ctx: Context, next: Next): Promise<void> => {
    const caller = ctx.state['caller'] as Caller;
    let res: RateLimiterRes;
    try {
      res = await limiter.consume(caller.keyId);
    } catch (rejected) {
      if (!(rejected instanceof RateLimiterRes)) throw rejected;
      onRefused();
      headers(ctx, rejected);
      const wait = Math.max(1, Math.ceil(rejected.msBeforeNext / 1000));
      ctx.set('Retry-After', String(wait));
      throw new AppError(
        'EC_RATE_LIMITED',
        `rate limit of ${cfg.points} requests per ${cfg.windowSeconds} s for this API key exceeded; retry in ${wait} s`,
        {
          details: { limit: cfg.points, window_seconds: cfg.windowSeconds, retry_after_seconds: wait },
        },
      );
    }
    headers(ctx, res);
    await next();
  };
}
