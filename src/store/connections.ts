// Phone numbers connected through Embedded Signup (ec_phone_number): one document per business phone number, with
// the signup's progress step by step (so a retry resumes where a failure stopped), its state as the API shows it
// (connecting, connected, failed with the step and reason), and the business token and registration PIN sealed under
// the master key, bound to the number. Written only by the signup flow (src/sending/signup.ts).
import { randomInt } from 'node:crypto';
import { type Db } from 'mongodb';
import { AppError } from '../core/errors.ts';
import { type Sealed, type SecretBox } from '../core/secret-box.ts';
import { COLLECTIONS, isDuplicateKey } from './collections.ts';

/** The signup's steps, in order. */
export const SIGNUP_STEPS = ['code_exchange', 'verify_waba', 'register_number', 'subscribe_app', 'link_account'] as const;
export type SignupStep = (typeof SIGNUP_STEPS)[number];

export type ConnectionFailure = { step: SignupStep; code: string; message: string; meta_code: number | null; at: Date };

export type ConnectionDoc = {
  _id: string;
  waba_id: string;
  account_id: string;
  display_phone_number: string | null;
  verified_name: string | null;
  state: 'connecting' | 'connected' | 'failed';
  /** When each step completed (absent: not yet). */
  steps: Partial<Record<SignupStep, Date>>;
  failure: ConnectionFailure | null;
  token: Sealed | null;
  pin: Sealed;
  /** A signup call holds the number until then: a second call meanwhile is refused (409), a crashed one expires. */
  lease_until: Date | null;
  created_at: Date;
  updated_at: Date;
};

const tokenBinding = (id: string) => `${id}|graph-token`;
const pinBinding = (id: string) => `${id}|register-pin`;

/** Why a signup of `input` may not touch the number's document, if it may not: another account's or WABA's. */
function conflictOver(existing: ConnectionDoc, input: { accountId: string; wabaId: string; phoneNumberId: string }): AppError | null {
  const id = input.phoneNumberId;
  if (existing.account_id === input.accountId && existing.waba_id === input.wabaId) return null;
  if (existing.steps.verify_waba === undefined)
    return new AppError('EC_CONFLICT', `a signup of phone number ${id} is running; try again when it ends`, {
      details: { reason: 'in_progress' },
    });
  if (existing.account_id !== input.accountId)
    return new AppError('EC_CONFLICT', `phone number ${id} is connected to another account`, { details: { reason: 'number_taken' } });
  return new AppError('EC_CONFLICT', `phone number ${id} was signed up under WABA ${existing.waba_id}, not ${input.wabaId}`, {
    details: { reason: 'waba_mismatch', parameter: 'waba_id' },
  });
}

export function createConnectionStore(db: Db, secrets: SecretBox) {
  const docs = db.collection<ConnectionDoc>(COLLECTIONS.phoneNumber);
  return {
    /** Starts (or resumes) the signup of a number for an account and holds it for `leaseMs`. A number another account
     *  (or another WABA) verified, or held by a call still running, is refused with EC_CONFLICT. */
    async claim(input: { accountId: string; wabaId: string; phoneNumberId: string }, now: Date, leaseMs: number): Promise<ConnectionDoc> {
      const id = input.phoneNumberId;
      let existing = await docs.findOne({ _id: id });
      if (existing && conflictOver(existing, input)) {
        // Meta has vouched for a signup once its token was shown to be granted the WABA that holds the number
        // (verify_waba): until then an attempt holds nothing, so a mistyped or someone else's number id, tried with
        // a code that fails, never locks its real owner out. Such an attempt, no longer running, gives way.
        const gaveWay = await docs.deleteOne({
          _id: id,
          'steps.verify_waba': { $exists: false },
          $or: [{ lease_until: null }, { lease_until: { $lt: now } }],
        });
        existing = gaveWay.deletedCount === 1 ? null : await docs.findOne({ _id: id });
        const conflict = existing && conflictOver(existing, input);
        if (conflict) throw conflict;
      }
      if (!existing) {
        const pin = String(randomInt(0, 1_000_000)).padStart(6, '0');
        try {
          await docs.insertOne({
            _id: id,
            waba_id: input.wabaId,
            account_id: input.accountId,
            display_phone_number: null,
            verified_name: null,
            state: 'connecting',
            steps: {},
            failure: null,
            token: null,
            pin: secrets.seal(pin, pinBinding(id)),
            lease_until: null,
            created_at: now,
            updated_at: now,
          });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err; // another call inserted it first: the lease below decides
        }
      }
      const held = await docs.findOneAndUpdate(
        { _id: id, account_id: input.accountId, $or: [{ lease_until: null }, { lease_until: { $lt: now } }] },
        { $set: { lease_until: new Date(now.getTime() + leaseMs), updated_at: now } },
        { returnDocument: 'after' },
      );
      if (!held)
        throw new AppError('EC_CONFLICT', `a signup of phone number ${id} is running; try again when it ends`, {
          details: { reason: 'in_progress' },
        });
      return held;
    },
    /** Records a completed step (and what it learnt), clearing any earlier failure. */
    async completed(
      id: string,
      step: SignupStep,
      now: Date,
      extra: Partial<Pick<ConnectionDoc, 'display_phone_number' | 'verified_name'>> = {},
    ) {
      await docs.updateOne(
        { _id: id },
        {
          $set: {
            [`steps.${step}`]: now,
            ...extra,
            failure: null,
            state: step === 'link_account' ? 'connected' : 'connecting',
            updated_at: now,
          },
        },
      );
    },
    async saveToken(id: string, token: string, now: Date): Promise<void> {
      await docs.updateOne({ _id: id }, { $set: { token: secrets.seal(token, tokenBinding(id)), updated_at: now } });
    },
    /** The failed step and why; the number stays failed (not connected) until a retry completes it. */
    async failed(id: string, failure: ConnectionFailure): Promise<void> {
      await docs.updateOne({ _id: id }, { $set: { state: 'failed', failure, lease_until: null, updated_at: failure.at } });
    },
    async release(id: string): Promise<void> {
      await docs.updateOne({ _id: id }, { $set: { lease_until: null } });
    },
    openToken: (doc: ConnectionDoc): string | null => (doc.token ? secrets.open(doc.token, tokenBinding(doc._id)) : null),
    openPin: (doc: ConnectionDoc): string => secrets.open(doc.pin, pinBinding(doc._id)),
    get(accountId: string, id: string): Promise<ConnectionDoc | null> {
      return docs.findOne({ _id: id, account_id: accountId });
    },
    list(accountId: string): Promise<ConnectionDoc[]> {
      return docs.find({ account_id: accountId }).sort({ _id: 1 }).toArray();
    },
  };
}

export type ConnectionStore = ReturnType<typeof createConnectionStore>;
