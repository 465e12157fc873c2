// The JSON API the web client uses before it opens a socket:
//   GET  /api/config            what the home page needs to know (are open rooms enabled?)
//   POST /api/rooms             open rooms only: a new meeting (a fresh random room), with a host
//                               invite for its creator and a guest invite link to share
//   POST /api/sessions          exchanges an invite for a short-lived session token for sockets,
//                               with the ICE servers (and the session's own TURN credential) to use
// Tokens travel in JSON bodies, never in URLs, so they cannot reach access logs. Who gets which
// session is RoomInvites' rule; this file only speaks HTTP. The bodies' schemas and types are
// apiSchemas.ts, shared with the web client.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import type { RoomInvites } from '../auth/RoomInvites.ts';
import type { TokenAuthority } from '../auth/tokens.ts';
import { ConclaveError } from '../errors.ts';
import type { IceConfiguration } from '../media/iceConfiguration.ts';
import {
  createRoomBodySchema,
  createSessionBodySchema,
  type ApiErrorBody,
  type CreateSessionBody,
  type NewRoom,
  type ServerConfig,
  type Session,
} from './apiSchemas.ts';

export { inviteUrl, newRoomId } from '../auth/RoomInvites.ts';

const MAX_BODY_BYTES = 8 * 1024;

export interface ApiOptions {
  tokens: TokenAuthority;
  invites: RoomInvites;
  openRooms: boolean;
  /** The ICE servers and policy for one user's session (iceConfiguration.ts). */
  iceFor: (userId: string) => IceConfiguration;
}

export class Api {
  readonly #options: ApiOptions;

  constructor(options: ApiOptions) {
    this.#options = options;
  }

  /** Answers API routes; returns false for anything else. */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (!pathname.startsWith('/api/')) return false;
    try {
      const result = await this.#route(req, pathname);
      sendJson(res, 200, result);
    } catch (error) {
      const status = error instanceof ConclaveError ? error.status : 500;
      const body: ApiErrorBody =
        error instanceof ConclaveError
          ? { code: error.code, message: error.message }
          : { code: 'internal', message: 'internal server error' };
      sendJson(res, status, body);
    }
    return true;
  }

  async #route(req: IncomingMessage, pathname: string): Promise<ServerConfig | NewRoom | Session> {
    const route = `${req.method} ${pathname}`;
    switch (route) {
      case 'GET /api/config':
        return { openRooms: this.#options.openRooms };
      case 'POST /api/rooms':
        return this.#createRoom(parseBody(createRoomBodySchema, await readJson(req)));
      case 'POST /api/sessions':
        return this.#createSession(parseBody(createSessionBodySchema, await readJson(req)));
      default:
        throw new ConclaveError('not-found', `no route ${route}`, 404);
    }
  }

  async #createRoom(_body: z.infer<typeof createRoomBodySchema>): Promise<NewRoom> {
    if (!this.#options.openRooms) {
      throw new ConclaveError(
        'forbidden',
        'open rooms are disabled on this server; ask its operator for an invite',
        403,
      );
    }
    return this.#options.invites.createMeeting();
  }

  async #createSession(body: CreateSessionBody): Promise<Session> {
    const grant = await this.#options.invites.admit(body);
    const session = await this.#options.tokens.mintSession(grant);
    // Our own fresh signature: reading the expiry needs no second HMAC check.
    const expiresAt = (decodeJwt(session).exp ?? 0) * 1000;
    return {
      session,
      room: grant.room,
      userId: grant.sub,
      name: grant.name,
      host: grant.host,
      expiresAt,
      ...this.#options.iceFor(grant.sub),
    };
  }
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConclaveError(
      'bad-request',
      `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
    throw new ConclaveError('bad-request', 'send a JSON body (Content-Type: application/json)', 415);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ConclaveError('bad-request', 'request body too large', 413);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new ConclaveError('bad-request', 'the body is not valid JSON');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}
