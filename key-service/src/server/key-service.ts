// The MLS Delivery Service and Authentication Service on its own socket.io namespace ('/keys').
// It orders handshake messages (exactly one commit per epoch), relays them, binds every credential
// to the socket's authenticated user id, and keeps per room only public state: the current epoch's
// GroupInfo (with its ratchet tree) and who is connected. It never holds a secret.
//
// Who may hold a socket here: a valid session token (closed when it expires unless renewed on the
// socket), at most `maxSocketsPerSession` sockets per session, and, in-process, a live signaling
// peer of the same room and user (`hasLivePeer`). Commits and application messages reach only the
// sockets of users who are members of the group.
//
// This file is the service's public face and its room bookkeeping (rooms appear with their first
// socket and go with their last); the handshake is admission.ts, request routing requests.ts, and
// what each request does handlers.ts.
import type { Namespace, Server } from 'socket.io';
import {
  DEFAULT_LIMITS,
  KEY_SERVICE_NAMESPACE,
  requestSchemas,
  type KeyServiceLimits,
  type WireError,
} from '../protocol.ts';
import { KeyServiceError } from '../errors.ts';
import { HandshakeAdmission } from './admission.ts';
import { ClusterCommits } from './cluster-gate.ts';
import type { AuthenticatedUser, KeyServiceOptions, ServiceContext } from './context.ts';
import { RequestHandlers } from './handlers.ts';
import { silentLogger, type Logger } from './logger.ts';
import { routeRequests } from './requests.ts';
import { KeyRoom, type KeySocket, type SocketData } from './room.ts';
import { SessionExpiry } from './session-expiry.ts';
import { KeyServiceStats, type KeyServiceStatsSnapshot } from './stats.ts';

export type { AuthenticatedUser, KeyServiceOptions, SocketData };

/** A room's public state, for diagnostics and tests. */
export interface RoomSnapshot {
  epoch: number | null;
  members: { leafIndex: number; userId: string }[];
  online: string[];
}

/**
 * The MLS Delivery and Authentication Service on a socket.io server's '/keys' namespace.
 *
 * @example
 * ```ts
 * const keys = attachKeyService(io, { authenticate: (token) => tokens.verifySession(token), logger });
 * signaling.onPeerGone((room, userId) => keys.peerGone(room, userId));
 * ```
 */
export class KeyService {
  readonly namespace: Namespace;
  readonly limits: KeyServiceLimits;
  readonly #ctx: ServiceContext;
  readonly #logger: Logger;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #schemas: ReturnType<typeof requestSchemas>;
  readonly #handlers: RequestHandlers;
  /** The membership policy and GroupInfo shape checks; off only through the test-only switch. */
  #policyEnforced = true;
  #closed = false;

  /**
   * Mounts the service on `io`; prefer `attachKeyService`.
   *
   * @param options how handshakes are authenticated, limits, and (in-process) signaling's view
   */
  constructor(io: Server, options: KeyServiceOptions) {
    this.#logger = options.logger ?? silentLogger;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#schemas = requestSchemas(this.limits);
    this.namespace = io.of(KEY_SERVICE_NAMESPACE);
    this.#ctx = {
      namespace: this.namespace,
      limits: this.limits,
      logger: this.#logger,
      stats: new KeyServiceStats(),
      options,
      rooms: new Map<string, KeyRoom>(),
      cluster:
        options.cluster === undefined
          ? undefined
          : new ClusterCommits(options.cluster, this.limits, this.#logger, () => this.#policyEnforced),
      policyEnforced: () => this.#policyEnforced,
      closed: () => this.#closed,
      later: (ms, task) => this.#later(ms, task),
    };
    this.#handlers = new RequestHandlers(this.#ctx);
    const admission = new HandshakeAdmission(this.#ctx);
    this.namespace.use((socket, next) => admission.admit(socket, next));
    this.namespace.on('connection', (socket) => this.#onConnection(socket as KeySocket));
  }

  /** Signaling reports that `userId` left `room`: members are told, and one of them is asked to
   *  commit the removal (lowest leaf index first, the next one after `removalTimeoutMs`). */
  peerGone(roomId: string, userId: string): void {
    const room = this.#ctx.rooms.get(roomId);
    if (room === undefined) return;
    for (const s of [...room.sockets.values()]) if (s.data.sub === userId) s.disconnect(true);
    this.namespace.to(room.channel).emit('peer-gone', { userId });
    void room.serialized(async () => room.startRemoval(userId));
  }

  /**
   * Why signaling must not let `userId` into `roomId`'s meeting (the server's half of the lobby and of
   * "Remove"), or undefined. Members' clients enforce the same on the group itself.
   */
  entryRefusal(roomId: string, userId: string): WireError | undefined {
    if (!this.#policyEnforced) return undefined; // the test-only switch: a server that lets anyone in
    const room = this.#ctx.rooms.get(roomId);
    if (room === undefined) return undefined;
    if (room.removed.has(userId))
      return { code: 'forbidden', message: 'a host removed you from this meeting' };
    const roles = room.view?.roles;
    if (roles === undefined || room.isMember(userId)) return undefined;
    if (roles.locked) return { code: 'locked', message: 'This meeting is locked' };
    if (roles.lobby) return { code: 'not-in-meeting', message: 'Waiting for the host to let you in' };
    return undefined;
  }

  /** Signaling let `userId` into `roomId`'s meeting: their lobby sockets are full sockets now. */
  peerEntered(roomId: string, userId: string): void {
    const room = this.#ctx.rooms.get(roomId);
    if (room === undefined) return;
    let admitted = false;
    for (const socket of [...room.waiting.values()]) {
      if (socket.data.sub !== userId) continue;
      socket.data.lobbyOnly = false;
      room.admit(socket);
      room.cancelRemoval(userId);
      admitted = true;
    }
    if (admitted) this.namespace.to(room.channel).emit('presence', { online: room.online() });
  }

  /** Whether `userId` acts as a host of `roomId` in its current epoch, read from the public group. */
  isHost(roomId: string, userId: string): boolean {
    return this.#ctx.rooms.get(roomId)?.isHost(userId) ?? false;
  }

  /**
   * TESTS ONLY: relay commits, proposals and GroupInfos that the membership policy refuses, as a
   * hostile or broken server would, to prove that clients refuse them on their own. No configuration
   * reaches this; only code holding the KeyService object can call it.
   */
  unsafeDisableMembershipPolicy(): void {
    this.#policyEnforced = false;
    this.#logger.warn({}, 'membership policy disabled (test-only switch)');
  }

  /** Public state of a room, for diagnostics and tests. */
  snapshot(roomId: string): RoomSnapshot | undefined {
    const room = this.#ctx.rooms.get(roomId);
    if (room === undefined) return undefined;
    return {
      epoch: room.view === undefined ? null : Number(room.view.epoch),
      members: room.view?.leaves.map((l) => ({ leafIndex: l.leafIndex, userId: l.userId })) ?? [],
      online: room.online(),
    };
  }

  /** Counts for monitoring (see stats.ts). */
  stats(): KeyServiceStatsSnapshot {
    let sockets = 0;
    for (const room of this.#ctx.rooms.values()) sockets += room.sockets.size;
    return this.#ctx.stats.snapshot(this.#ctx.rooms.size, sockets);
  }

  /** Stops serving: pending removals end and connections drop (clients reconnect to a successor). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    for (const room of this.#ctx.rooms.values()) room.close();
    this.#ctx.rooms.clear();
    // Drop the connections rather than sending a namespace disconnect: clients then reconnect
    // (to this process's successor) and re-publish their GroupInfo, as after a crash.
    for (const socket of this.namespace.sockets.values()) socket.conn.close();
    this.namespace.removeAllListeners();
  }

  #onConnection(socket: KeySocket): void {
    const { room: roomId, sub } = socket.data;
    let room = this.#ctx.rooms.get(roomId);
    if (room === undefined) {
      room = new KeyRoom(roomId, this.limits, this.#logger);
      this.#ctx.rooms.set(roomId, room);
    }
    if (socket.data.lobbyOnly) {
      room.waiting.set(socket.id, socket);
    } else {
      room.sockets.set(socket.id, socket);
      room.cancelRemoval(sub);
      void socket.join(room.channel);
      this.namespace.to(room.channel).emit('presence', { online: room.online() });
    }
    this.#logger.debug({ room: roomId, user: sub }, 'key service socket connected');

    // The socket lives as long as its session, or as long as the client renews it here.
    const expiry =
      socket.data.exp === undefined
        ? undefined
        : new SessionExpiry(socket.data.exp, () => socket.disconnect(true));
    socket.once('disconnect', () => expiry?.stop());

    routeRequests(socket, roomId, {
      ctx: this.#ctx,
      schemas: this.#schemas,
      handlers: this.#handlers,
      expiry,
      leaveLobbyOnly: (s) => this.#leaveLobbyOnly(s),
    });

    socket.on('disconnect', () => {
      room.turns.drop(socket);
      const knock = room.lobby.ofSocket(socket);
      if (knock !== undefined) {
        room.lobby.delete(knock.id);
        if (room.view !== undefined) room.emitToMembers(room.view, 'knock-gone', { id: knock.id });
      }
      if (room.waiting.delete(socket.id)) {
        if (room.sockets.size === 0 && room.waiting.size === 0) this.#forget(room);
        return;
      }
      room.sockets.delete(socket.id);
      if (room.sockets.size === 0 && room.waiting.size > 0) {
        // Only people waiting are left: nobody can admit them, and the group's state goes (as below).
        room.view = undefined;
        return;
      }
      if (room.sockets.size === 0) {
        // Nobody left to hold the meeting: forget its public state. A member reconnecting later
        // re-publishes its GroupInfo, exactly as after a key-service restart.
        this.#forget(room);
        return;
      }
      this.namespace.to(room.channel).emit('presence', { online: room.online() });
      const grace = this.#ctx.options.removeOnDisconnectMs;
      if (grace !== undefined && !room.isOnline(sub)) {
        this.#ctx.later(grace, () => {
          if (this.#ctx.rooms.get(roomId) === room && !room.isOnline(sub)) this.peerGone(roomId, sub);
        });
      }
    });
  }

  #forget(room: KeyRoom): void {
    room.close();
    if (this.#ctx.rooms.get(room.id) === room) this.#ctx.rooms.delete(room.id);
  }

  /** A lobby socket's holder has entered the meeting since (e.g. just admitted): it is a full socket. */
  async #leaveLobbyOnly(socket: KeySocket): Promise<void> {
    const hasLivePeer = this.#ctx.options.hasLivePeer;
    if (
      hasLivePeer !== undefined &&
      !(await hasLivePeer(socket.data.room, socket.data.sub).catch(() => false))
    ) {
      throw new KeyServiceError('not-in-meeting', 'enter the meeting first; a lobby connection only waits');
    }
    socket.data.lobbyOnly = false;
    const room = this.#ctx.rooms.get(socket.data.room);
    if (room !== undefined && room.waiting.has(socket.id)) room.admit(socket);
  }

  #later(ms: number, task: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      task();
    }, ms);
    timer.unref?.();
    this.#timers.add(timer);
  }
}

/**
 * Mounts the key service on `io` (namespace '/keys').
 *
 * @param io the socket.io server (its HTTP server, origin policy and size caps are the caller's)
 * @param options see KeyServiceOptions
 * @returns the service, whose `peerGone`, `peerEntered`, `entryRefusal` and `isHost` signaling calls
 */
export function attachKeyService(io: Server, options: KeyServiceOptions): KeyService {
  return new KeyService(io, options);
}
