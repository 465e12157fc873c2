// Structured JSON logs (pino). Any field whose name suggests a secret is redacted at every depth,
// whatever its case; modules log ids and counts, never payloads, so tokens, keys and MLS messages
// stay out of logs by construction and by this net.
import { pino, type Logger } from 'pino';

export type { Logger };

/** Field names that may carry secrets: token, accessToken, Session, privateKey, inviteLink ... */
export const SECRET_FIELD = /token|secret|key|auth|cookie|password|passphrase|invite|session|credential/i;
const MAX_DEPTH = 8;

/** A copy of `value` with every secret-named field replaced; deeper than MAX_DEPTH is elided. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  if (value instanceof Error) return { type: value.name, message: value.message };
  const result: Record<string, unknown> = {};
  for (const [field, inner] of Object.entries(value)) {
    result[field] = SECRET_FIELD.test(field) ? '[redacted]' : redactSecrets(inner, depth + 1);
  }
  return result;
}

/**
 * Redaction happens on each serialized line, so it covers everything pino writes: log objects,
 * child-logger bindings and base fields alike.
 */
export function redactingDestination(target: { write(line: string): unknown }): {
  write(line: string): void;
} {
  return {
    write(line: string): void {
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        target.write(line);
        return;
      }
      target.write(`${JSON.stringify(redactSecrets(entry))}\n`);
    },
  };
}

export function createLogger(level: string, destination?: { write(line: string): unknown }): Logger {
  return pino(
    { level, base: { service: 'conclave' } },
    redactingDestination(destination ?? pino.destination({ dest: 1, sync: false })),
  );
}
