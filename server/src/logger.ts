// Structured JSON logs (pino). Anything that could carry a secret is redacted by key name, and
// modules log ids and counts, never payloads: tokens, keys and MLS messages stay out of logs.
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACTED_KEYS = [
  'token',
  'invite',
  'session',
  'secret',
  'key',
  'auth',
  'authorization',
  'cookie',
  'password',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'conclave' },
      redact: {
        paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
        censor: '[redacted]',
      },
    },
    destination,
  );
}
