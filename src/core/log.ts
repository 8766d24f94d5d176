// The pino root logger. Components take a child logger; nothing logs with console.*.
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths never written to logs: secrets, signatures, tokens and phone numbers. */
export const REDACT_PATHS = [
  'secret',
  '*.secret',
  'appSecret',
  '*.appSecrets',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers["x-hub-signature-256"]',
  'signature',
  '*.signature',
  'verifyToken',
  '*.verifyToken',
  'phone',
  '*.phone',
  'waId',
  '*.waId',
  'wa_id',
  '*.wa_id',
  'display_phone_number',
  '*.display_phone_number',
  'recipient_id',
  '*.recipient_id',
];

export function createLogger(opts: { level: string; name?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      name: opts.name ?? 'echocue',
      level: opts.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}
