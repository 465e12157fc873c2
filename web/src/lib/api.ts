// The server's JSON API (server/src/http/api.ts): room creation and invite → session exchange.
// The bodies' schemas and types are the server's own (`@conclave/server/api`); every answer is
// parsed with them before it is used, so a malformed one fails with 'malformed-response'.
import { ReasonedError } from '@conclave/common/errors';
import {
  apiErrorBodySchema,
  newRoomSchema,
  serverConfigSchema,
  sessionSchema,
  type CreateSessionBody,
  type ErrorCode,
} from '@conclave/server/api';
import type { z } from 'zod';

export type { NewRoom, ServerConfig, Session } from '@conclave/server/api';

/** The server's own codes, and the ones this end gives a call that failed on the way. */
export type ApiErrorCode =
  | ErrorCode
  /** The server cannot be reached (fetch failed). */
  | 'unreachable'
  /** An error status without the server's error body (a proxy's error page, say). */
  | 'http-error'
  /** A success status whose body does not match the answer's schema. */
  | 'malformed-response';

/** An API call that failed: refused by the server (its code), or lost on the way (ours). */
export class ApiError extends ReasonedError<ApiErrorCode> {
  override readonly name = 'ApiError';
}

async function call<T>(
  answer: z.ZodType<T>,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(
      'unreachable',
      'Cannot reach the Conclave server. Check your connection and try again.',
    );
  }
  const payload: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const refusal = apiErrorBodySchema.safeParse(payload);
    if (refusal.success) throw new ApiError(refusal.data.code, refusal.data.message);
    throw new ApiError('http-error', `The server answered ${response.status}.`);
  }
  const parsed = answer.safeParse(payload);
  if (!parsed.success)
    throw new ApiError('malformed-response', `The server's answer to ${path} is malformed.`);
  return parsed.data;
}

export const api = {
  config: () => call(serverConfigSchema, 'GET', '/api/config'),
  createRoom: () => call(newRoomSchema, 'POST', '/api/rooms', {}),
  createSession: (invite: string, name: string, previous?: string) => {
    const body: CreateSessionBody = previous === undefined ? { invite, name } : { invite, name, previous };
    return call(sessionSchema, 'POST', '/api/sessions', body);
  },
};
