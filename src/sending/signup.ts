// Embedded Signup (EchoCue as a Meta Tech Provider): the code from Meta's popup becomes a business token, the token
// must have been granted the WABA and the WABA must hold the number, the number is registered on Cloud API, our app
// is subscribed to the WABA's webhooks, and only then are WABA and number linked to the caller's account (what
// ingest routes by). Each completed step is recorded, so a call after a failure resumes at the failed step; the
// account sees the WABA's data only once the last step is done.
import { AppError, isAppError } from '../core/errors.ts';
import { type Clock } from '../core/clock.ts';
import { type AccountStore } from '../store/accounts.ts';
import { type ConnectionDoc, type ConnectionStore, type SignupStep } from '../store/connections.ts';
import { type GraphClient } from './graph.ts';

export type SignupInput = Readonly<{ accountId: string; code: string | null; wabaId: string; phoneNumberId: string }>;

export type SignupDeps = Readonly<{
  graph: Pick<GraphClient, 'exchangeCode' | 'grantedWabas' | 'phoneNumbers' | 'registerNumber' | 'subscribeApp'>;
  connections: ConnectionStore;
  accounts: Pick<AccountStore, 'ownerOf' | 'linkWabaIfFree'>;
  clock: Clock;
  /** How long one call holds the number (a crashed call's hold expires after it). */
  leaseMs: number;
}>;

const refused = (step: SignupStep, message: string, parameter: string) =>
  new AppError('EC_GRAPH_REFUSED', `Graph API step ${step}: ${message}`, { details: { step, parameter, meta_error: null } });

/** Runs the signup's remaining steps; answers the number's document as it ends (connected). A failure is recorded on
 *  the number (state failed, the step and reason) and thrown. */
export async function signUp(input: SignupInput, deps: SignupDeps): Promise<ConnectionDoc> {
  const owner = await deps.accounts.ownerOf(input.wabaId);
  if (owner !== null && owner !== input.accountId)
    throw new AppError('EC_CONFLICT', `WABA ${input.wabaId} is linked to another account`, {
      details: { reason: 'waba_taken', parameter: 'waba_id' },
    });
  const id = input.phoneNumberId;
  const codeRequired = () =>
    new AppError('EC_BAD_REQUEST', 'body field "code" is required until the code exchange succeeded', {
      details: { parameter: 'code', in: 'body', step: 'code_exchange' },
    });
  // Refused before anything is written: a number never signed up needs the popup's code.
  if (input.code === null && !(await deps.connections.get(input.accountId, id))?.token) throw codeRequired();
  let doc = await deps.connections.claim(input, deps.clock.now(), deps.leaseMs);
  const done = (s: SignupStep) => doc.steps[s] !== undefined;
  let step: SignupStep = 'code_exchange';
  try {
    let token = deps.connections.openToken(doc);
    if (!done('code_exchange') || token === null) {
      if (input.code === null) throw codeRequired();
      token = await deps.graph.exchangeCode(input.code);
      await deps.connections.saveToken(id, token, deps.clock.now());
      await deps.connections.completed(id, 'code_exchange', deps.clock.now());
    }
    step = 'verify_waba';
    if (!done('verify_waba')) {
      if (!(await deps.graph.grantedWabas(token)).includes(input.wabaId))
        throw refused(step, `the business did not grant WABA ${input.wabaId} to this app in the signup`, 'waba_id');
      const number = (await deps.graph.phoneNumbers(input.wabaId, token)).find((p) => p.id === id);
      if (!number) throw refused(step, `WABA ${input.wabaId} has no phone number ${id}`, 'phone_number_id');
      await deps.connections.completed(id, 'verify_waba', deps.clock.now(), {
        display_phone_number: number.display_phone_number,
        verified_name: number.verified_name,
      });
    }
    step = 'register_number';
    if (!done('register_number')) {
      await deps.graph.registerNumber(id, deps.connections.openPin(doc), token);
      await deps.connections.completed(id, 'register_number', deps.clock.now());
    }
    step = 'subscribe_app';
    if (!done('subscribe_app')) {
      await deps.graph.subscribeApp(input.wabaId, token);
      await deps.connections.completed(id, 'subscribe_app', deps.clock.now());
    }
    step = 'link_account';
    await deps.accounts.linkWabaIfFree(input.wabaId, input.accountId, deps.clock.now());
    await deps.connections.completed(id, 'link_account', deps.clock.now());
    await deps.connections.release(id);
  } catch (err) {
    const e = isAppError(err) ? err : null;
    const meta = (e?.details?.['meta_error'] as { code?: number | null } | null | undefined) ?? null;
    await deps.connections
      .failed(id, {
        step,
        code: e?.code ?? 'EC_INTERNAL',
        message: e ? e.message : 'internal error',
        meta_code: meta?.code ?? null,
        at: deps.clock.now(),
      })
      .catch(() => {}); // the answer below names the failure either way
    if (e && e.details?.['step'] === undefined) throw new AppError(e.code, e.message, { cause: err, details: { ...e.details, step } });
    throw err;
  }
  doc = (await deps.connections.get(input.accountId, id))!;
  return doc;
}
