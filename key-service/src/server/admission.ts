// The key service's handshake: who may open a socket on '/keys'. A valid session token, a room the
// service has space for, at most `maxSocketsPerSession` sockets per session (counting handshakes
// admitted but not yet connected), never a user a host removed, and, in-process, a live signaling
// peer of the same room and user (unless the socket only waits in the lobby).
//
// Must hold: a refused handshake names its reason in `data` (code and message) and nothing else;
// authentication errors leak only the code and message meant for the client.
import type { Socket } from 'socket.io';
import type { WireError } from '../protocol.ts';
import type { AuthenticatedUser, ServiceContext } from './context.ts';
import type { KeySocket } from './room.ts';
import { KeyServiceStats } from './stats.ts';

/** Why a handshake was refused: a key-service code, or the authenticator's own (e.g. 'token-expired'). */
export interface HandshakeRefusal {
  code: string;
  message: string;
  /** Cluster mode, with 'wrong-node': the public name of the node that owns the room. */
  owner?: string;
}

function sessionKey(room: string, userId: string): string {
  return `${room}\n${userId}`;
}

export class HandshakeAdmission {
  readonly #ctx: ServiceContext;
  /** Handshakes admitted but not yet connected, per session: counted against its socket cap. */
  readonly #admitting = new Map<string, number>();

  constructor(ctx: ServiceContext) {
    this.#ctx = ctx;
  }

  /** socket.io middleware for the namespace: admits the socket (setting its data) or refuses it. */
  admit(socket: Socket, next: (error?: Error) => void): void {
    if (this.#ctx.closed()) return next(new Error('the key service is closed'));
    const auth = socket.handshake.auth as Record<string, unknown> | undefined;
    const token: unknown = auth?.['token'];
    // A lobby socket may have no meeting connection yet (its holder may have to wait to be
    // admitted); with one, it is a full socket at once (and becomes one when its peer enters).
    const lobbyOnly = auth?.['lobby'] === true;
    const refuse = (data: HandshakeRefusal) => {
      KeyServiceStats.count(this.#ctx.stats.handshakeRefusals, data.code);
      next(Object.assign(new Error(data.message), { data }));
    };
    this.#ctx.options.authenticate(token).then(
      async (user) => {
        const refusal = await this.#admissionRefusal(user, lobbyOnly);
        if (refusal !== undefined) return refuse(refusal);
        (socket as KeySocket).data = {
          room: user.room,
          sub: user.sub,
          name: user.name,
          host: user.host === true,
          // Standalone (no signaling to ask), every socket is a full one, as before the lobby.
          lobbyOnly:
            lobbyOnly &&
            this.#ctx.options.hasLivePeer !== undefined &&
            this.#ctx.options.hasPeerNow?.(user.room, user.sub) !== true,
          exp: user.exp,
        };
        // Counted against the session's cap until it is in its room: socket.io connects it on the
        // next tick after the middleware (or drops it if its connection closed meanwhile).
        const key = sessionKey(user.room, user.sub);
        this.#admitting.set(key, (this.#admitting.get(key) ?? 0) + 1);
        setImmediate(() => {
          const left = (this.#admitting.get(key) ?? 1) - 1;
          if (left <= 0) this.#admitting.delete(key);
          else this.#admitting.set(key, left);
        });
        next();
      },
      (error: unknown) => {
        // TokenAuthority's errors carry a code and a message meant for the client; nothing else leaks.
        const code = (error as { code?: unknown } | undefined)?.code;
        refuse(
          error instanceof Error && typeof code === 'string'
            ? { code, message: error.message }
            : { code: 'unauthorized', message: 'authentication failed' },
        );
      },
    );
  }

  /** Why a socket for `user` is refused at the handshake, or undefined when it may connect. */
  async #admissionRefusal(
    user: AuthenticatedUser,
    lobbyOnly: boolean,
  ): Promise<HandshakeRefusal | undefined> {
    const early = this.#capacityRefusal(user);
    if (early !== undefined) return early;
    if (this.#ctx.rooms.get(user.room)?.removed.has(user.sub) === true) {
      return { code: 'forbidden', message: 'a host removed you from this meeting' };
    }
    // Cluster mode: before waiting for a signaling peer, which never comes on a node that refused it.
    const misplaced = await this.#ctx.cluster?.admission(user.room);
    if (misplaced !== undefined) return misplaced;
    if (lobbyOnly) return undefined;
    const hasLivePeer = this.#ctx.options.hasLivePeer;
    if (hasLivePeer !== undefined && !(await hasLivePeer(user.room, user.sub).catch(() => false))) {
      return { code: 'not-in-meeting', message: 'this session has no live meeting connection' };
    }
    // Checked again: other sockets may have come while this one waited for its peer.
    return this.#capacityRefusal(user);
  }

  #capacityRefusal(user: AuthenticatedUser): WireError | undefined {
    if (this.#ctx.closed()) return { code: 'invalid-state', message: 'the key service is closed' };
    if (!this.#ctx.rooms.has(user.room) && this.#ctx.rooms.size >= this.#ctx.limits.maxRooms) {
      return { code: 'server-full', message: 'the key service holds as many rooms as it can' };
    }
    const room = this.#ctx.rooms.get(user.room);
    const open = [...(room?.sockets.values() ?? []), ...(room?.waiting.values() ?? [])].filter(
      (s) => s.data.sub === user.sub,
    ).length;
    const admitting = this.#admitting.get(sessionKey(user.room, user.sub)) ?? 0;
    if (open + admitting >= this.#ctx.limits.maxSocketsPerSession) {
      return {
        code: 'too-many-connections',
        message: `this session holds ${this.#ctx.limits.maxSocketsPerSession} key-service connections already`,
      };
    }
    return undefined;
  }
}
