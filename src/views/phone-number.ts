// A business phone number connected through Embedded Signup, as the API shows it: its state and each step's time.
// The token and PIN are never part of it.
import { z } from 'zod';
import { SIGNUP_STEPS, type ConnectionDoc } from '../store/connections.ts';
import { isoOrNull, timestamp } from './common.ts';

export const PhoneNumber = z
  .object({
    id: z.string().meta({ description: "Meta's phone number id." }),
    waba_id: z.string(),
    display_phone_number: z.string().nullable(),
    verified_name: z.string().nullable(),
    state: z.enum(['connecting', 'connected', 'failed']).meta({
      description:
        'connecting: the signup is running; connected: registered, subscribed and linked; failed: `failure` says at which step and why (call signup again to resume).',
    }),
    steps: z
      .object(
        Object.fromEntries(SIGNUP_STEPS.map((s) => [s, timestamp().nullable()])) as Record<
          (typeof SIGNUP_STEPS)[number],
          z.ZodNullable<ReturnType<typeof timestamp>>
        >,
      )
      .meta({ description: 'When each step of the signup completed (null: not yet), in order.' }),
    failure: z
      .object({
        step: z.enum(SIGNUP_STEPS),
        code: z.string(),
        message: z.string(),
        meta_code: z.number().int().nullable(),
        at: timestamp(),
      })
      .nullable(),
    updated_at: timestamp(),
  })
  .meta({ id: 'PhoneNumber' });

export const phoneNumberView = (d: ConnectionDoc): z.input<typeof PhoneNumber> => ({
  id: d._id,
  waba_id: d.waba_id,
  display_phone_number: d.display_phone_number,
  verified_name: d.verified_name,
  state: d.state,
  steps: Object.fromEntries(SIGNUP_STEPS.map((s) => [s, isoOrNull(d.steps[s])])) as Record<(typeof SIGNUP_STEPS)[number], string | null>,
  failure: d.failure ? { ...d.failure, at: d.failure.at.toISOString() } : null,
  updated_at: d.updated_at.toISOString(),
});
