// GET /api/thread/list: the caller's threads, newest activity first. (Pagination, updated_since, ETags and the
// other read endpoints belong to the REST API issue; this is the walking skeleton's read.)
import type Router from '@koa/router';
import { AppError } from '../../core/errors.ts';
import { type ThreadDoc } from '../../store/docs.ts';
import { type AuthState } from '../auth.ts';

export type ThreadRouteDeps = Readonly<{
  wabasOf: (accountId: string) => Promise<string[]>;
  listThreads: (wabaIds: readonly string[], limit: number) => Promise<ThreadDoc[]>;
}>;

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export function threadView(t: ThreadDoc) {
  return {
    id: t._id,
    waba_id: t.waba_id,
    phone_number_id: t.phone_number_id,
    contact: { wa_id: t.contact.wa_id, user_id: t.contact.user_id, name: t.contact.name, username: t.contact.username, opted_out_at: iso(t.contact.opted_out_at) },
    last_message_at: iso(t.last_message_at),
    unread_count: t.unread_count,
    window_expires_at: iso(t.window_expires_at),
    updated_at: iso(t.updated_at),
  };
}

export function threadRoutes(router: Router, deps: ThreadRouteDeps): void {
  router.get('/api/thread/list', async (ctx) => {
    const raw = ctx.query['limit'];
    const limit = raw === undefined ? 50 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new AppError('EC_BAD_REQUEST', 'limit must be a whole number from 1 to 100', { details: { parameter: 'limit' } });
    }
    const { accountId } = ctx.state as AuthState;
    const threads = await deps.listThreads(await deps.wabasOf(accountId), limit);
    ctx.body = { data: threads.map(threadView), next_cursor: null };
  });
}
