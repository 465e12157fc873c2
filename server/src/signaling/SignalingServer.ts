// socket.io signaling: authenticates each socket at the handshake with a session token, puts it in
// its token's room as a Peer, and runs its requests. Nothing reaches a Room unvalidated, and a
// failing request only ever answers its own sender.
import { randomUUID } from 'node:crypto';
import type { Namespace, Socket } from 'socket.io';
import type { SessionClaims, TokenAuthority } from '../auth/tokens.ts';
import { ConclaveError, InvalidStateError, toWireError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { Peer, type PeerLimits } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import {
  MAX_REQUEST_BYTES,
  NOTIFICATION_EVENT,
  REQUEST_EVENT,
  parseRequest,
  type WireError,
} from './protocol.ts';

interface SocketData {
  session: SessionClaims;
}

export interface SignalingOptions {
  namespace: Namespace;
  tokens: TokenAuthority;
  rooms: RoomRegistry;
  logger: Logger;
  peerLimits: PeerLimits;
  /** Called when a peer's socket is gone, so the key service can have it removed from the MLS group. */
  onPeerGone?: (room: string, userId: string) => void;
  /** After a media-server restart closed its room, how long a participant has to rejoin before it
   *  is reported gone. Default REJOIN_GRACE_MS. */
  rejoinGraceMs?: number;
}

/** Long enough for a client's rejoin with backoff after a media-server restart (a few seconds). */
export const REJOIN_GRACE_MS = 30_000;

export class SignalingServer {
  readonly #options: SignalingOptions;

  constructor(options: SignalingOptions) {
    this.#options = options;
    options.namespace.use((socket, next) => {
      this.#authenticate(socket).then(
        () => next(),
        (error: unknown) => next(handshakeError(error)),
      );
    });
    options.namespace.on('connection', (socket) => this.#onConnection(socket));
  }

  async #authenticate(socket: Socket): Promise<void> {
    const auth = socket.handshake.auth as Record<string, unknown> | undefined;
    (socket.data as SocketData).session = await this.#options.tokens.verifySession(auth?.['token']);
  }

  /**
   * Listeners are registered before anything is awaited: socket.io drops events that arrive while
   * no listener exists, and a client sends its first request as soon as it is connected.
   */
  #onConnection(socket: Socket): void {
    const { session } = socket.data as SocketData;
    const logger = this.#options.logger.child({ room: session.room, socket: socket.id });
    const peer = new Peer({
      id: randomUUID(),
      userId: session.sub,
      displayName: session.name,
      notify: (notification) => socket.emit(NOTIFICATION_EVENT, notification),
      limits: this.#options.peerLimits,
    });
    const entered = this.#enterRoom(session.room, peer);
    entered.catch((error: unknown) => {
      socket.emit('fatal', toWireError(error));
      socket.disconnect(true);
    });

    peer.once('closed', () => {
      if (socket.connected) socket.disconnect(true);
    });
    socket.on('disconnect', () => {
      const wasJoined = peer.joined;
      peer.close();
      if (wasJoined)
        void entered.then(
          (room) => this.#reportGoneIfLast(room, peer),
          () => {},
        );
    });
    socket.on(REQUEST_EVENT, (raw: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return; // a request nobody waits for is not worth running
      const reply = entered.then(
        (room) => this.#handleRequest(room, peer, raw, logger),
        () => ({ ok: false as const, error: { code: 'invalid-state', message: 'not in a room' } }),
      );
      void reply.then((r) => (ack as (r: unknown) => void)(r));
    });
    // Sessions expire; a socket outliving its token is closed, and the client reconnects with a fresh one.
    const expiry = setTimeout(() => socket.disconnect(true), Math.max(0, session.exp * 1000 - Date.now()));
    socket.once('disconnect', () => clearTimeout(expiry));
  }

  /** One user may be in a room twice (two tabs); their MLS membership ends with their last peer. */
  #reportGoneIfLast(room: Room, gone: Peer): void {
    if (room.closeReason === 'media-server-restarted') {
      this.#reportGoneUnlessBack(room.id, gone.userId);
      return;
    }
    const stillThere = [...room.peers.values()].some((p) => p.userId === gone.userId && p !== gone);
    if (!stillThere) this.#options.onPeerGone?.(room.id, gone.userId);
  }

  /**
   * A dead media worker disconnected everyone in the room at once; they rejoin its successor. Their
   * MLS group does not depend on the media server, so members keep their place in it (no removal,
   * no rekey storm) unless they have not rejoined within the grace period.
   */
  #reportGoneUnlessBack(roomId: string, userId: string): void {
    const timer = setTimeout(() => {
      const successor = this.#options.rooms.rooms.get(roomId);
      const back = [...(successor?.peers.values() ?? [])].some((p) => p.userId === userId);
      if (!back) this.#options.onPeerGone?.(roomId, userId);
    }, this.#options.rejoinGraceMs ?? REJOIN_GRACE_MS);
    timer.unref();
  }

  /** Joins the room, creating it if needed; retries once when it closed between lookup and entry. */
  async #enterRoom(roomId: string, peer: Peer): Promise<Room> {
    for (let attempt = 0; ; attempt++) {
      const room = await this.#options.rooms.getOrCreate(roomId);
      try {
        room.addPeer(peer);
        return room;
      } catch (error) {
        if (!(error instanceof InvalidStateError) || attempt > 0) throw error;
      }
    }
  }

  async #handleRequest(
    room: Room,
    peer: Peer,
    raw: unknown,
    logger: Logger,
  ): Promise<{ ok: true; result: unknown } | { ok: false; error: WireError }> {
    try {
      if (jsonSize(raw) > MAX_REQUEST_BYTES) throw new ConclaveError('bad-request', 'request too large');
      const parsed = parseRequest(raw);
      if (!parsed.success) throw new ConclaveError('bad-request', parsed.message);
      return { ok: true, result: await room.handle(peer, parsed.request) };
    } catch (error) {
      const wire =
        error instanceof TypeError ? { code: 'bad-request', message: error.message } : toWireError(error);
      if (wire.code === 'internal') logger.error({ err: (error as Error).message }, 'request failed');
      else logger.debug({ code: wire.code }, 'request refused');
      return { ok: false, error: wire };
    }
  }
}

function jsonSize(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return Infinity;
  }
}

/** The handshake error a client sees: socket.io passes `message` and `data` through. */
function handshakeError(error: unknown): Error {
  const wire = toWireError(error);
  const result = new Error(wire.message) as Error & { data: WireError };
  result.data = wire;
  return result;
}
