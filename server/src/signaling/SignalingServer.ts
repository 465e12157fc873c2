// socket.io signaling: authenticates each socket at the handshake with a session token, puts it in
// its token's room as a Peer, and runs its requests. Nothing reaches a Room unvalidated, a socket
// sending faster than its rate limit gets 'rate-limited' answers, and a failing request only ever
// answers its own sender.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { SessionExpiry } from '@conclave/key-service/server';
import type { Namespace, Socket } from 'socket.io';
import type { SessionClaims, SessionVerifier } from '../auth/tokens.ts';
import { ClusterDoorError, ConclaveError, InvalidStateError, toWireError } from '../errors.ts';
import { RateLimiter } from '@conclave/common/rate-limit';
import type { Logger } from '../logger.ts';
import type { ServerMetrics } from '../observability/ServerMetrics.ts';
import { Peer, type PeerLimits } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import {
  FATAL_EVENT,
  MAX_REQUEST_BYTES,
  NOTIFICATION_EVENT,
  REQUEST_EVENT,
  parseRequest,
  type Ack,
  type RequestMethod,
  type WireError,
} from './protocol.ts';

interface SocketData {
  session: SessionClaims;
}

export interface SignalingOptions {
  namespace: Namespace;
  /** Checks session tokens: at the handshake, and for `renew` (RoomInvites: signature, expiry, revocation). */
  tokens: SessionVerifier;
  rooms: RoomRegistry;
  logger: Logger;
  peerLimits: PeerLimits;
  /** Per socket: `perSecond` events sustained, `burst` at once (a join resumes one consumer per stream). */
  rateLimit: { perSecond: number; burst: number };
  metrics?: ServerMetrics;
  /** Called when a peer's socket is gone, so the key service can have it removed from the MLS group. */
  onPeerGone?: (room: string, userId: string) => void;
  /** Called when a peer entered its room (its key-service sockets become full members' sockets). */
  onPeerEntered?: (room: string, userId: string) => void;
  /**
   * Why `userId` may not enter `room`'s meeting (the server's half of the lobby, the lock and
   * "Remove"), or undefined. Members' clients check the same on the MLS group themselves.
   */
  entryRefusal?: (room: string, userId: string) => { code: string; message: string } | undefined;
  /** Whether `userId` acts as a host of `room` (read from its MLS group's public state). Host-only
   *  requests (muteParticipant, endMeeting) are refused without it. */
  isHost?: (room: string, userId: string) => boolean;
  /** "Reset invite link" (RoomInvites.rotateGuestInvite), for a host. */
  resetInvite?: (room: string) => Promise<{ inviteUrl: string }>;
  /** After a media-server restart closed its room, or after a participant said its media failed,
   *  how long it has to rejoin before it is reported gone. Default REJOIN_GRACE_MS. */
  rejoinGraceMs?: number;
  /**
   * Cluster mode: why a session for `room` is refused on this node (another node owns it, this
   * node's hold is out of date, the cluster store is unreachable), or undefined. Alone: unset.
   */
  clusterRefusal?: (
    room: string,
  ) => Promise<
    { code: 'wrong-node' | 'stale-generation' | 'unavailable'; message: string; owner?: string } | undefined
  >;
}

/** Long enough for a client's rejoin with backoff after a media-server restart (a few seconds). */
export const REJOIN_GRACE_MS = 30_000;
/**
 * How long a key-service socket may wait at its handshake for its user's signaling peer: a browser
 * opens both at once, and signaling's socket may enter the room a moment after the key socket asks.
 */
export const PEER_WAIT_MS = 10_000;

export class SignalingServer {
  readonly #options: SignalingOptions;
  readonly #eventLimiter: RateLimiter;
  /** Users expected back in a room (key: room id, NUL, user id): reported gone if the timer fires. */
  readonly #awaitingRejoin = new Map<string, ReturnType<typeof setTimeout>>();
  /** 'entered' (room id, user id) each time a peer enters a room. */
  readonly #entries = new EventEmitter<{ entered: [room: string, userId: string] }>();

  constructor(options: SignalingOptions) {
    this.#options = options;
    this.#eventLimiter = new RateLimiter({
      capacity: options.rateLimit.burst,
      perSecond: options.rateLimit.perSecond,
    });
    options.namespace.use((socket, next) => {
      this.#authenticate(socket).then(
        () => next(),
        (error: unknown) => {
          const refusal = handshakeError(error);
          options.metrics?.handshakeRefusals.inc({ code: refusal.data.code });
          options.logger.debug({ code: refusal.data.code }, 'signaling handshake refused');
          next(refusal);
        },
      );
    });
    options.namespace.on('connection', (socket) => this.#onConnection(socket));
    this.#entries.setMaxListeners(0);
  }

  /** Whether `userId` has a live peer in `roomId`, waiting up to `timeoutMs` for one to enter. */
  waitForPeer(roomId: string, userId: string, timeoutMs = PEER_WAIT_MS): Promise<boolean> {
    if (this.hasPeer(roomId, userId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onEntered = (room: string, user: string) => {
        if (room !== roomId || user !== userId) return;
        done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (found: boolean) => {
        clearTimeout(timer);
        this.#entries.off('entered', onEntered);
        resolve(found);
      };
      this.#entries.on('entered', onEntered);
    });
  }

  /** A host removed `userId`: their connections close, each told why first. */
  dropUser(roomId: string, userId: string): void {
    const room = this.#options.rooms.rooms.get(roomId);
    if (room === undefined) return;
    for (const socket of this.#options.namespace.sockets.values()) {
      const session = (socket.data as Partial<SocketData>).session;
      if (session?.room !== roomId || session.sub !== userId) continue;
      const removed: WireError = { code: 'removed', message: 'A host removed you from the meeting' };
      socket.emit(FATAL_EVENT, removed);
      socket.disconnect(true);
    }
  }

  hasPeer(roomId: string, userId: string): boolean {
    const room = this.#options.rooms.rooms.get(roomId);
    if (room === undefined || room.closed) return false;
    return [...room.peers.values()].some((p) => p.userId === userId && !p.closed);
  }

  async #authenticate(socket: Socket): Promise<void> {
    const auth = socket.handshake.auth as Record<string, unknown> | undefined;
    const session = await this.#options.tokens.verifySession(auth?.['token']);
    const refusal = await this.#options.clusterRefusal?.(session.room);
    if (refusal !== undefined) throw new ClusterDoorError(refusal.code, refusal.message, refusal.owner);
    (socket.data as SocketData).session = session;
  }

  /**
   * Listeners are registered before anything is awaited: socket.io drops events that arrive while
   * no listener exists, and a client sends its first request as soon as it is connected.
   */
  #onConnection(socket: Socket): void {
    const { session } = socket.data as SocketData;
    const connectedAt = performance.now();
    const peer = new Peer({
      id: randomUUID(),
      userId: session.sub,
      displayName: session.name,
      notify: (notification) => socket.emit(NOTIFICATION_EVENT, notification),
      limits: this.#options.peerLimits,
    });
    // Every line about this socket names its room, peer and (pseudonymous) user.
    const logger = this.#options.logger.child({ room: session.room, peer: peer.id, user: session.sub });
    this.#limitRate(socket, logger);
    this.#timeCallSetup(peer, connectedAt);
    const entered = this.#enterRoom(session.room, peer);
    // Back within the grace: the user keeps its MLS membership.
    entered.then(
      () => {
        this.#cancelAwaitingRejoin(session.room, session.sub);
        this.#entries.emit('entered', session.room, session.sub);
        this.#options.onPeerEntered?.(session.room, session.sub);
      },
      () => {},
    );
    entered.catch((error: unknown) => {
      socket.emit(FATAL_EVENT, toWireError(error) satisfies WireError);
      socket.disconnect(true);
    });

    peer.once('closed', () => {
      if (socket.connected) socket.disconnect(true);
    });
    socket.on('disconnect', () => {
      peer.close();
      // Joined or not: the user's key-service sockets belong to its live peers, and go with the last.
      void entered.then(
        (room) => this.#reportGoneIfLast(room, peer),
        () => {},
      );
    });
    // Sessions expire; a socket outliving its token is closed unless the client renewed it here
    // (a `renew` request); a client that did not reconnects with a fresh token.
    const expiry = new SessionExpiry(session.exp, () => socket.disconnect(true));
    socket.once('disconnect', () => expiry.stop());
    socket.on(REQUEST_EVENT, (raw: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return; // a request nobody waits for is not worth running
      const reply = entered.then(
        (room) => this.#handleRequest(room, peer, raw, { logger, connectedAt, session, expiry }),
        (): Ack<RequestMethod> => ({ ok: false, error: { code: 'invalid-state', message: 'not in a room' } }),
      );
      void reply.then((r) => (ack as (r: Ack<RequestMethod>) => void)(r));
    });
  }

  /** Events beyond the socket's rate are dropped; a request among them is answered 'rate-limited'. */
  #limitRate(socket: Socket, logger: Logger): void {
    socket.use((event, next) => {
      if (this.#eventLimiter.take(socket.id)) return next();
      const ack = event.at(-1);
      if (typeof ack === 'function') {
        (ack as (r: Ack<RequestMethod>) => void)({
          ok: false,
          error: { code: 'rate-limited', message: 'too many requests; slow down' },
        });
      }
      this.#options.metrics?.requestRejections.inc({ code: 'rate-limited' });
      logger.debug('event rate-limited');
    });
    socket.once('disconnect', () => this.#eventLimiter.forget(socket.id));
  }

  /** The media stage; the joined stage is timed when the join request is answered. */
  #timeCallSetup(peer: Peer, connectedAt: number): void {
    const metrics = this.#options.metrics;
    if (metrics === undefined) return;
    const seconds = () => (performance.now() - connectedAt) / 1000;
    peer.once('transportConnected', () => metrics.observeCallSetup('media-connected', seconds()));
  }

  /** One user may be in a room twice (two tabs); their MLS membership ends with their last peer. */
  #reportGoneIfLast(room: Room, gone: Peer): void {
    if (room.closeReason === 'media-server-restarted' || gone.rejoining) {
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
    const key = `${roomId}\0${userId}`;
    clearTimeout(this.#awaitingRejoin.get(key));
    const timer = setTimeout(() => {
      this.#awaitingRejoin.delete(key);
      const successor = this.#options.rooms.rooms.get(roomId);
      const back = [...(successor?.peers.values() ?? [])].some((p) => p.userId === userId);
      if (!back) this.#options.onPeerGone?.(roomId, userId);
    }, this.#options.rejoinGraceMs ?? REJOIN_GRACE_MS);
    timer.unref();
    this.#awaitingRejoin.set(key, timer);
  }

  /**
   * A user who came back within the grace keeps its place; a later disconnect starts a new grace,
   * so a client retrying every few seconds is never removed for having been away in between.
   */
  #cancelAwaitingRejoin(roomId: string, userId: string): void {
    const key = `${roomId}\0${userId}`;
    clearTimeout(this.#awaitingRejoin.get(key));
    this.#awaitingRejoin.delete(key);
  }

  #renew(token: string, context: { session: SessionClaims; expiry: SessionExpiry }) {
    return renewSession(this.#options.tokens, token, context);
  }

  /** Joins the room, creating it if needed; retries once when it closed between lookup and entry. */
  async #enterRoom(roomId: string, peer: Peer): Promise<Room> {
    const refusal = this.#options.entryRefusal?.(roomId, peer.userId);
    if (refusal !== undefined) throw new ConclaveError(entryCode(refusal.code), refusal.message, 403);
    for (let attempt = 0; ; attempt++) {
      const room = await this.#options.rooms.getOrCreate(roomId);
      try {
        room.addPeer(peer);
        return room;
      } catch (error) {
        if (!(error instanceof InvalidStateError) || !room.closed || attempt > 0) throw error;
      }
    }
  }

  async #handleRequest(
    room: Room,
    peer: Peer,
    raw: unknown,
    context: { logger: Logger; connectedAt: number; session: SessionClaims; expiry: SessionExpiry },
  ): Promise<Ack<RequestMethod>> {
    const { logger, connectedAt } = context;
    try {
      if (boundedJsonSize(raw, MAX_REQUEST_BYTES) > MAX_REQUEST_BYTES)
        throw new ConclaveError('bad-request', 'request too large');
      const parsed = parseRequest(raw);
      if (!parsed.success) throw new ConclaveError('bad-request', parsed.message);
      logger.trace({ method: parsed.request.method }, 'request');
      if (parsed.request.method === 'renew') {
        return { ok: true, result: await this.#renew(parsed.request.data.token, context) };
      }
      const { method } = parsed.request;
      if (method === 'muteParticipant' || method === 'endMeeting' || method === 'resetInvite') {
        if (this.#options.isHost?.(room.id, peer.userId) !== true) {
          throw new ConclaveError('forbidden', 'only a host can do that', 403);
        }
        if (method === 'resetInvite') {
          const reset = this.#options.resetInvite;
          if (reset === undefined)
            throw new ConclaveError('unavailable', 'invites cannot be reset here', 503);
          return { ok: true, result: { inviteUrl: (await reset(room.id)).inviteUrl } };
        }
        if (method === 'endMeeting') room.endBy(peer);
        else await room.muteBy(peer, parsed.request.data.peerId);
        return { ok: true, result: {} };
      }
      const result = await room.handle(peer, parsed.request);
      if (parsed.request.method === 'join') {
        this.#options.metrics?.observeCallSetup('joined', (performance.now() - connectedAt) / 1000);
      }
      return { ok: true, result };
    } catch (error) {
      const wire: WireError =
        error instanceof TypeError ? { code: 'bad-request', message: error.message } : toWireError(error);
      this.#options.metrics?.requestRejections.inc({ code: wire.code });
      if (wire.code === 'internal') logger.error({ err: (error as Error).message }, 'request failed');
      else logger.debug({ code: wire.code }, 'request refused');
      return { ok: false, error: wire };
    }
  }
}

/** The socket's session goes on under a fresh token, which must be for the same room and user. */
async function renewSession(
  tokens: SessionVerifier,
  token: string,
  { session, expiry }: { session: SessionClaims; expiry: SessionExpiry },
): Promise<{ expiresAt: number }> {
  const renewed = await tokens.verifySession(token, session.room);
  if (renewed.sub !== session.sub) {
    throw new ConclaveError('forbidden', 'a renewal keeps the user of the session', 403);
  }
  expiry.extend(renewed.exp);
  return { expiresAt: expiry.expiresAtMs };
}

/**
 * About how large `value` is as JSON, counting binary by its byte length and stopping as soon as it
 * passes `limit`: sizing a request must cost no more than the request is allowed to be, whatever
 * it holds (JSON.stringify would expand a megabyte Buffer into millions of digits first).
 */
export function boundedJsonSize(value: unknown, limit: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && size <= limit) {
    const item = stack.pop();
    if (typeof item === 'string') size += item.length + 2;
    else if (ArrayBuffer.isView(item)) size += item.byteLength;
    else if (item instanceof ArrayBuffer) size += item.byteLength;
    else if (Array.isArray(item)) {
      size += item.length + 2;
      if (size <= limit) for (const element of item) stack.push(element);
    } else if (typeof item === 'object' && item !== null) {
      size += 2;
      for (const key in item) {
        size += key.length + 4;
        if (size > limit) break;
        stack.push((item as Record<string, unknown>)[key]);
      }
    } else size += 8;
  }
  return size;
}

/** The handshake error a client sees: socket.io passes `message` and `data` through. */
function handshakeError(error: unknown): Error & { data: WireError } {
  const wire: WireError = toWireError(error);
  if (error instanceof ClusterDoorError && error.owner !== undefined) wire.owner = error.owner;
  const result = new Error(wire.message) as Error & { data: WireError };
  result.data = wire;
  return result;
}

function entryCode(code: string): 'locked' | 'removed' | 'not-admitted' {
  if (code === 'locked') return 'locked';
  return code === 'forbidden' ? 'removed' : 'not-admitted';
}
