// The JSON API's bodies (api.ts), as zod schemas shared by the server and the web client
// (`@conclave/server/api`): the server parses requests with them and types its answers from them;
// the client types its calls from them and parses every answer with them before using it.
// Browser-safe: zod and the server's error codes only, nothing of node.
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.ts';
import { iceServerSchema } from '../signaling/mediasoupSchemas.ts';

export type { ErrorCode };

/** POST /api/rooms: a new meeting takes no name (naming an existing room must never yield an invite to it). */
export const createRoomBodySchema = z.object({}).strict();

/** POST /api/sessions: an invite (and, when renewing, the session it renews) for a session token. */
export const createSessionBodySchema = z
  .object({
    invite: z.string().min(1).max(4096),
    name: z.string().min(1).max(256),
    previous: z.string().min(1).max(4096).optional(),
  })
  .strict();

/** GET /api/config: what the home page needs to know. */
export const serverConfigSchema = z.object({ openRooms: z.boolean() });

/** POST /api/rooms' answer: a fresh room, the creator's host invite, and the guest invite to share. */
export const newRoomSchema = z.object({
  room: z.string().min(1).max(256),
  hostInvite: z.string().min(1).max(4096),
  guestInvite: z.string().min(1).max(4096),
  guestInviteUrl: z.string().min(1).max(8192),
});

/** POST /api/sessions' answer: a session token for sockets, and the ICE servers it may use. */
export const sessionSchema = z.object({
  session: z.string().min(1).max(4096),
  room: z.string().min(1).max(256),
  userId: z.string().min(1).max(256),
  /** The name the session carries: a named invite's own, whatever was asked for. */
  name: z.string().max(256),
  /** Minted from a host invite (the server's word only). */
  host: z.boolean(),
  /** When the token expires, in ms since the epoch. */
  expiresAt: z.number().int().nonnegative(),
  /** For this session's peer connections: static servers plus its own TURN credential, if any. */
  iceServers: z.array(iceServerSchema).max(16),
  /** 'relay' when the organisation wants every address hidden behind its TURN relay. */
  iceTransportPolicy: z.enum(['all', 'relay']),
});

/** Every error answer's body. */
export const apiErrorBodySchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string().max(1000),
});

export type CreateSessionBody = z.output<typeof createSessionBodySchema>;
export type ServerConfig = z.output<typeof serverConfigSchema>;
export type NewRoom = z.output<typeof newRoomSchema>;
export type Session = z.output<typeof sessionSchema>;
export type ApiErrorBody = z.output<typeof apiErrorBodySchema>;
