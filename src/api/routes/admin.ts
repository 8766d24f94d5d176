// The operator's routes (ADMIN_TOKEN): the same account, WABA and key operations as the `echocue` CLI.
import { z } from 'zod';
import { type Clock } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { type AccountStore } from '../../store/accounts.ts';
import { defineRoute, type Route } from '../route.ts';
import { Account, accountView, ApiKey, keySummary, NewKey, newKeyView, WabaLink, wabaLinkView } from '../../views/admin.ts';

export type AdminRouteDeps = Readonly<{ accounts: AccountStore; clock: Clock }>;

const accountParam = z.object({ account_id: z.string().min(1).max(64) });

export function adminRoutes(deps: AdminRouteDeps): Route[] {
  const { accounts, clock } = deps;
  return [
    defineRoute({
      method: 'post',
      path: '/api/admin/accounts',
      operationId: 'adminCreateAccount',
      tag: 'admin',
      summary: 'Create an account (a tenant)',
      access: 'admin',
      body: z.strictObject({ name: z.string().trim().min(1).max(200) }),
      status: 201,
      response: Account,
      errors: [400, 403],
      handle: async ({ body }) => accountView(await accounts.createAccount(body.name, clock.now()), []),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/accounts/{account_id}',
      operationId: 'adminGetAccount',
      tag: 'admin',
      summary: 'An account and its WABAs',
      access: 'admin',
      params: accountParam,
      response: Account,
      errors: [403, 404],
      handle: async ({ params }) => {
        const a = await accounts.getAccount(params.account_id);
        if (!a) throw new AppError('EC_NOT_FOUND', `no account ${params.account_id}`);
        return accountView(a, await accounts.wabasOf(a._id));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/admin/accounts/{account_id}/wabas',
      operationId: 'adminLinkWaba',
      tag: 'admin',
      summary: 'Link a WhatsApp Business Account to the account (moves it if another account had it)',
      access: 'admin',
      params: accountParam,
      body: z.strictObject({ waba_id: z.string() }),
      response: WabaLink,
      errors: [400, 403, 404],
      handle: async ({ params, body }) => wabaLinkView(await accounts.linkWaba(body.waba_id, params.account_id, clock.now())),
    }),
    defineRoute({
      method: 'post',
      path: '/api/admin/accounts/{account_id}/keys',
      operationId: 'adminCreateKey',
      tag: 'admin',
      summary: 'Create an API key (the key and its signing secret are shown once)',
      access: 'admin',
      params: accountParam,
      status: 201,
      response: NewKey,
      errors: [403, 404],
      handle: async ({ params }) => newKeyView(await accounts.createApiKey(params.account_id, clock.now())),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/accounts/{account_id}/keys',
      operationId: 'adminListKeys',
      tag: 'admin',
      summary: "List an account's keys (prefixes and revocation only)",
      access: 'admin',
      params: accountParam,
      response: z.object({ data: z.array(ApiKey) }),
      errors: [403, 404],
      handle: async ({ params }) => ({ data: (await accounts.listApiKeys(params.account_id)).map(keySummary) }),
    }),
    defineRoute({
      method: 'delete',
      path: '/api/admin/accounts/{account_id}/keys/{key_id}',
      operationId: 'adminRevokeKey',
      tag: 'admin',
      summary: 'Revoke a key (refused from the next request on; revoking twice is harmless)',
      access: 'admin',
      params: accountParam.extend({ key_id: z.string().min(1).max(64) }),
      response: ApiKey,
      errors: [403, 404],
      handle: async ({ params }) => keySummary(await accounts.revokeApiKey(params.account_id, params.key_id, clock.now())),
    }),
  ];
}
