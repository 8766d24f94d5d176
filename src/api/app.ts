// Koa + @koa/router REST reads for pollers. One error middleware; handlers throw AppError.
import Koa from 'koa';
import Router from '@koa/router';
import { errorMiddleware } from '../core/http-errors.ts';
import { AppError } from '../core/errors.ts';
import { type Logger } from '../core/log.ts';
import { bearerAuth } from './auth.ts';
import { threadRoutes, type ThreadRouteDeps } from './routes/threads.ts';

export type ApiDeps = ThreadRouteDeps &
  Readonly<{
    accountForKey: (key: string) => Promise<string | null>;
    log: Logger;
  }>;

export function createApiApp(deps: ApiDeps): Koa {
  const log = deps.log.child({ component: 'api' });
  const router = new Router();
  router.use(bearerAuth(deps.accountForKey));
  threadRoutes(router, deps);

  const app = new Koa();
  app.use(errorMiddleware(log));
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use((ctx) => {
    throw new AppError('EC_NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
  });
  return app;
}
