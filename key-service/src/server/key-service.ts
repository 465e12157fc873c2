// The MLS Delivery Service and Authentication Service on its own socket.io namespace ('/keys').
// It orders handshake messages (exactly one commit per epoch), relays them, binds every credential
// to the socket's authenticated user id, and keeps per room only public state: the current epoch's
// GroupInfo (with its ratchet tree) and who is connected. It never holds a secret.
//
// Who may hold a socket here: a valid session token (closed when it expires unless renewed on the
// socket), at most `maxSocketsPerSession` sockets per session, and, in-process, a live signaling
// peer of the same room and user (`hasLivePeer`). Commits and application messages reach only the
// sockets of users who are members of the group.
import type { Namespace, Server } from 'socket.io';
import type { z } from 'zod';
import { KeyServiceError, toWireError } from '../errors.ts';
import {
  DEFAULT_LIMITS,
  KEY_SERVICE_NAMESPACE,
  parseErrorCode,
  requestSchemas,
  type Ack,
  type KeyServiceLimits,
  type RequestName,
  type Requests,
  type WireError,
} from '../protocol.ts';
import { silentLogger, type Logger } from './logger.ts';
import { judgeProposal, type Verdict } from '../membership-policy.ts';
import { Lobby, type StoredKnock } from './lobby.ts';
import { bytesEqual } from '@conclave/common/bytes';
import {
  checkCommit,
  checkKeyPackage,
  checkNextGroupInfo,
  decodeWhole,
  judge,
  readGroupInfo,
  signerUserId,
  suiteImpl,
  verifies,
  type CheckedCommit,
  type GroupView,
} from './mls-checks.ts';
import { verifyFramedContentSignature } from 'ts-mls/framedContent.js';
import { TokenBucket } from '@conclave/common/rate-limit';
import { SessionExpiry } from './session-expiry.ts';
import { KeyRoom, type KeySocket, type SocketData } from './room.ts';
import { KeyServiceStats, type KeyServiceStatsSnapshot } from './stats.ts';

export interface AuthenticatedUser {
  room: string;
  sub: string;
  name: string;
  /** From a host invite: may create the room's group. */
  host?: boolean;
  /** The session's expiry (seconds since the epoch): the socket is closed then unless renewed. */
  exp?: number;
}

export interface KeyServiceOptions {
  /** Verifies the handshake's `auth.token` (a session token) and names its room and user. */
  authenticate: (token: unknown) => Promise<AuthenticatedUser>;
  logger?: Logger;
  limits?: Partial<KeyServiceLimits>;
  /**
   * Standalone mode only: treat a user whose last key-service socket has been gone this long as a
   * peer gone. In-process, leave it unset: signaling calls `peerGone()`.
   */
  removeOnDisconnectMs?: number;
  /**
   * In-process: whether signaling holds a live peer of this room and user (it may wait a moment for
   * one to enter: a browser opens both sockets at once). A socket without one is refused. Unset
   * (the standalone key service, which cannot see signaling): the session token alone admits.
   */
  hasLivePeer?: (room: string, userId: string) => Promise<boolean>;
  /**
   * A host's accepted commit removed these users, who were still in the meeting: signaling drops
   * their connections ("Remove Bob" has two halves; this is the server's).
   */
  onRemovedByHost?: (room: string, userIds: string[]) => void;
  /** In-process: whether signaling holds a live peer of this room and user right now (no waiting). */
  hasPeerNow?: (room: string, userId: string) => boolean;
}

export interface RoomSnapshot {
  epoch: number | null;
  members: { leafIndex: number; userId: string }[];
  online: string[];
}

type Handler<N extends RequestName> = (
  room: KeyRoom,
  socket: KeySocket,
  args: z.output<ReturnType<typeof requestSchemas>[N]>,
) => Promise<Requests[N]['result']>;

export class KeyService {
  readonly namespace: Namespace;
  readonly limits: KeyServiceLimits;
  readonly #options: KeyServiceOptions;
  readonly #logger: Logger;
  readonly #rooms = new Map<string, KeyRoom>();
  readonly #disconnectTimers = new Set<ReturnType<typeof setTimeout>>();
  readonly #schemas: ReturnType<typeof requestSchemas>;
  readonly #stats = new KeyServiceStats();
  /** The membership policy and GroupInfo shape checks; off only through the test-only switch. */
  #policyEnforced = true;
  /** Handshakes admitted but not yet connected, per session: counted against its socket cap. */
  readonly #admitting = new Map<string, number>();
  #closed = false;

  constructor(io: Server, options: KeyServiceOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#schemas = requestSchemas(this.limits);
    this.namespace = io.of(KEY_SERVICE_NAMESPACE);
    this.namespace.use((socket, next) => {
      if (this.#closed) return next(new Error('the key service is closed'));
      const auth = socket.handshake.auth as Record<string, unknown> | undefined;
      const token: unknown = auth?.['token'];
      // A lobby socket may have no meeting connection yet (its holder may have to wait to be
      // admitted); with one, it is a full socket at once (and becomes one when its peer enters).
      const lobbyOnly = auth?.['lobby'] === true;
      const refuse = (data: { code: string; message: string }) => {
        KeyServiceStats.count(this.#stats.handshakeRefusals, data.code);
        next(Object.assign(new Error(data.message), { data }));
      };
      options.authenticate(token).then(
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
              this.#options.hasLivePeer !== undefined &&
              this.#options.hasPeerNow?.(user.room, user.sub) !== true,
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
    });
    this.namespace.on('connection', (socket) => this.#onConnection(socket as KeySocket));
  }

  /** Why a socket for `user` is refused at the handshake, or undefined when it may connect. */
  async #admissionRefusal(user: AuthenticatedUser, lobbyOnly: boolean): Promise<WireError | undefined> {
    const early = this.#capacityRefusal(user);
    if (early !== undefined) return early;
    if (this.#rooms.get(user.room)?.removed.has(user.sub) === true) {
      return { code: 'forbidden', message: 'a host removed you from this meeting' };
    }
    if (lobbyOnly) return undefined;
    const hasLivePeer = this.#options.hasLivePeer;
    if (hasLivePeer !== undefined && !(await hasLivePeer(user.room, user.sub).catch(() => false))) {
      return { code: 'not-in-meeting', message: 'this session has no live meeting connection' };
    }
    // Checked again: other sockets may have come while this one waited for its peer.
    return this.#capacityRefusal(user);
  }

  #capacityRefusal(user: AuthenticatedUser): WireError | undefined {
    if (this.#closed) return { code: 'invalid-state', message: 'the key service is closed' };
    if (!this.#rooms.has(user.room) && this.#rooms.size >= this.limits.maxRooms) {
      return { code: 'server-full', message: 'the key service holds as many rooms as it can' };
    }
    const room = this.#rooms.get(user.room);
    const open = [...(room?.sockets.values() ?? []), ...(room?.waiting.values() ?? [])].filter(
      (s) => s.data.sub === user.sub,
    ).length;
    const admitting = this.#admitting.get(sessionKey(user.room, user.sub)) ?? 0;
    if (open + admitting >= this.limits.maxSocketsPerSession) {
      return {
        code: 'too-many-connections',
        message: `this session holds ${this.limits.maxSocketsPerSession} key-service connections already`,
      };
    }
    return undefined;
  }

  /** Signaling reports that `userId` left `room`: members are told, and one of them is asked to
   *  commit the removal (lowest leaf index first, the next one after `removalTimeoutMs`). */
  peerGone(roomId: string, userId: string): void {
    const room = this.#rooms.get(roomId);
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
    const room = this.#rooms.get(roomId);
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
    const room = this.#rooms.get(roomId);
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
    return this.#rooms.get(roomId)?.isHost(userId) ?? false;
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
    const room = this.#rooms.get(roomId);
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
    for (const room of this.#rooms.values()) sockets += room.sockets.size;
    return this.#stats.snapshot(this.#rooms.size, sockets);
  }

  /** Stops serving: pending removals end and connections drop (clients reconnect to a successor). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#disconnectTimers) clearTimeout(t);
    for (const room of this.#rooms.values()) room.close();
    this.#rooms.clear();
    // Drop the connections rather than sending a namespace disconnect: clients then reconnect
    // (to this process's successor) and re-publish their GroupInfo, as after a crash.
    for (const socket of this.namespace.sockets.values()) socket.conn.close();
    this.namespace.removeAllListeners();
  }

  #onConnection(socket: KeySocket): void {
    const { room: roomId, sub } = socket.data;
    let room = this.#rooms.get(roomId);
    if (room === undefined) {
      room = new KeyRoom(roomId, this.limits, this.#logger);
      this.#rooms.set(roomId, room);
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

    const bucket = new TokenBucket(this.limits.ratePerSecond, this.limits.rateBurst);
    const handlers: { [N in RequestName]: Handler<N> } = {
      sync: async (r, s) => this.#sync(r, s),
      publish: (r, s, a) => r.serialized(() => this.#publish(r, s, a)),
      commit: (r, s, a) => r.serialized(() => this.#commit(r, s, a)),
      proposal: (r, s, a) => r.serialized(() => this.#proposal(r, s, a)),
      app: async (r, s, a) => this.#app(r, s, a),
      welcome: async (r, s, a) => this.#welcome(r, s, a),
      renew: async (_r, s, a) => this.#renew(s, a, expiry),
      knock: (r, s, a) => r.serialized(() => this.#knock(r, s, a)),
      deny: (r, s, a) => r.serialized(() => this.#deny(r, s, a)),
    };
    // Until it has a meeting connection, a lobby socket may only look, knock and renew.
    const lobbyAllowed = new Set<RequestName>(['sync', 'knock', 'renew']);
    for (const name of Object.keys(handlers) as RequestName[]) {
      socket.on(name as never, (payload: unknown, ack: unknown) => {
        if (typeof ack !== 'function') {
          this.#logger.debug({ room: roomId, event: name }, 'request without acknowledgement dropped');
          return;
        }
        const reply = ack as (a: Ack<unknown>) => void;
        const reject = (error: WireError) => {
          KeyServiceStats.count(this.#stats.requestRejections, error.code);
          if (name === 'commit') KeyServiceStats.count(this.#stats.commitRejections, error.code);
          reply({ ok: false, error });
        };
        const current = this.#rooms.get(roomId);
        if (this.#closed || current === undefined) {
          reply({ ok: false, error: { code: 'invalid-state', message: 'the key service is closing' } });
          return;
        }
        if (!bucket.take()) {
          reject({ code: 'rate-limited', message: 'too many requests; slow down' });
          return;
        }
        const parsed = this.#schemas[name].safeParse(payload);
        if (!parsed.success) {
          reject({
            code: parseErrorCode(parsed.error.issues),
            message: `invalid ${name}: ${parsed.error.issues[0]?.message ?? 'malformed'}`,
          });
          return;
        }
        const ready =
          socket.data.lobbyOnly && !lobbyAllowed.has(name) ? this.#leaveLobbyOnly(socket) : Promise.resolve();
        ready
          .then(() => (handlers[name] as Handler<RequestName>)(current, socket, parsed.data as never))
          .then(
            (result) => reply({ ok: true, result }),
            (error: unknown) => {
              if (!(error instanceof KeyServiceError)) {
                this.#logger.error(
                  { room: roomId, event: name, err: String(error) },
                  'key service handler failed',
                );
              } else {
                this.#logger.debug(
                  { room: roomId, event: name, code: error.code },
                  'key service request rejected',
                );
              }
              reject(toWireError(error));
            },
          );
      });
    }

    socket.on('disconnect', () => {
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
      const grace = this.#options.removeOnDisconnectMs;
      if (grace !== undefined && !room.isOnline(sub)) {
        const timer = setTimeout(() => {
          this.#disconnectTimers.delete(timer);
          if (this.#rooms.get(roomId) === room && !room.isOnline(sub)) this.peerGone(roomId, sub);
        }, grace);
        timer.unref?.();
        this.#disconnectTimers.add(timer);
      }
    });
  }

  #forget(room: KeyRoom): void {
    room.close();
    if (this.#rooms.get(room.id) === room) this.#rooms.delete(room.id);
  }

  /** A lobby socket's holder has entered the meeting since (e.g. just admitted): it is a full socket. */
  async #leaveLobbyOnly(socket: KeySocket): Promise<void> {
    const hasLivePeer = this.#options.hasLivePeer;
    if (
      hasLivePeer !== undefined &&
      !(await hasLivePeer(socket.data.room, socket.data.sub).catch(() => false))
    ) {
      throw new KeyServiceError('not-in-meeting', 'enter the meeting first; a lobby connection only waits');
    }
    socket.data.lobbyOnly = false;
    const room = this.#rooms.get(socket.data.room);
    if (room !== undefined && room.waiting.has(socket.id)) room.admit(socket);
  }

  async #sync(room: KeyRoom, socket: KeySocket): Promise<Requests['sync']['result']> {
    const view = room.view;
    const member = !socket.data.lobbyOnly && room.isMember(socket.data.sub);
    return {
      epoch: view === undefined ? null : Number(view.epoch),
      groupInfo: view === undefined ? null : view.bytes,
      online: room.online(),
      knocks: member ? room.lobby.all().map(Lobby.public) : [],
      host: socket.data.host,
    };
  }

  async #publish(
    room: KeyRoom,
    socket: KeySocket,
    args: { groupInfo: Uint8Array },
  ): Promise<{ epoch: number }> {
    const view = await readGroupInfo(args.groupInfo, this.limits.maxGroupInfoBytes, this.#policyEnforced);
    if (signerUserId(view) !== socket.data.sub) {
      throw new KeyServiceError('forbidden', 'a GroupInfo is published by its signer');
    }
    this.#checkRoster(room, view.leaves.length);
    const current = room.view;
    if (current === undefined) {
      // A new group (epoch 0) makes its creator the first host: only a host invite's session may.
      // A later epoch is a member re-publishing after a key-service restart.
      if (view.epoch === 0n && !socket.data.host && this.#policyEnforced) {
        throw new KeyServiceError('forbidden', 'only a host creates the meeting; wait for the host');
      }
      room.view = view;
      room.emitToOutsiders('lobby-changed', {});
      this.#logger.info(
        { room: room.id, epoch: Number(view.epoch), members: view.leaves.length },
        'group published',
      );
      return { epoch: Number(view.epoch) };
    }
    if (bytesEqual(current.groupId, view.groupId) && current.epoch === view.epoch) {
      return { epoch: Number(current.epoch) };
    }
    throw new KeyServiceError(
      'invalid-state',
      'the room already has a group in another epoch',
      Number(current.epoch),
    );
  }

  async #commit(
    room: KeyRoom,
    socket: KeySocket,
    args: { commit: Uint8Array; groupInfo: Uint8Array; welcome?: Uint8Array | undefined },
  ): Promise<{ epoch: number }> {
    const current = room.requireView();
    const sub = socket.data.sub;
    const checked = await checkCommit(current, args.commit, sub);
    const gone = (id: string) => room.isReportedGone(id) && !room.isOnline(id);
    // Judged first, so that what the commit itself does wrong is what the committer hears...
    this.#enforcePolicy(room, current, checked, gone);
    const admitted = this.#admittedKnocks(room, checked, args.welcome);
    const next = await readGroupInfo(args.groupInfo, this.limits.maxGroupInfoBytes, this.#policyEnforced);
    await checkNextGroupInfo(current, checked.message, next, sub);
    this.#checkRoster(room, next.leaves.length);
    // ...and again last, with no await after it: who is gone is read at the moment the commit lands.
    const verdict = this.#enforcePolicy(room, current, checked, gone);
    // Accepted: this is the one commit of its epoch.
    room.view = next;
    this.#stats.commits += 1;
    const epoch = Number(next.epoch);
    room.emitToMembers(current, 'commit', { epoch, commit: args.commit, from: sub }, socket);
    this.#logger.debug(
      { room: room.id, epoch, bytes: args.commit.byteLength, members: next.leaves.length },
      'commit accepted',
    );
    this.#welcomeAdmitted(room, admitted, args.welcome, sub);
    this.#afterRolesChange(room, current, next);
    this.#dropRemovedByHost(room, verdict);
    room.onNewEpoch();
    return { epoch };
  }

  /** The knocks a commit's Adds admit; with the policy on, every Add must answer a knock. */
  #admittedKnocks(room: KeyRoom, checked: CheckedCommit, welcome: Uint8Array | undefined): StoredKnock[] {
    const adds = checked.facts.commit.proposals.flatMap((p) =>
      p.proposalOrRefType === 'proposal' && p.proposal.proposalType === 'add' ? [p.proposal] : [],
    );
    if (adds.length === 0) {
      if (welcome !== undefined)
        throw new KeyServiceError('bad-request', 'a Welcome comes only with an admission');
      return [];
    }
    if (welcome === undefined) {
      if (!this.#policyEnforced) return []; // relayed as a hostile server would, with nobody to welcome
      throw new KeyServiceError('bad-request', 'an admission carries the Welcome for the admitted');
    }
    if (decodeWhole(welcome).wireformat !== 'mls_welcome') {
      throw new KeyServiceError('bad-request', 'an admission carries the Welcome for the admitted');
    }
    const knocks: StoredKnock[] = [];
    for (const add of adds) {
      const knock = room.lobby.bySignatureKey(add.add.keyPackage.leafNode.signaturePublicKey);
      if (knock === undefined && this.#policyEnforced) {
        throw new KeyServiceError(
          'forbidden',
          'refused by the membership policy: it admits someone who did not knock',
        );
      }
      if (knock !== undefined) knocks.push(knock);
    }
    return knocks;
  }

  #welcomeAdmitted(
    room: KeyRoom,
    admitted: StoredKnock[],
    welcome: Uint8Array | undefined,
    from: string,
  ): void {
    if (welcome === undefined) return;
    for (const knock of admitted) {
      room.lobby.delete(knock.id);
      room.admit(knock.socket);
      knock.socket.emit('welcome', { message: welcome, from });
      this.namespace.to(room.channel).emit('presence', { online: room.online() });
      if (room.view !== undefined) room.emitToMembers(room.view, 'knock-gone', { id: knock.id });
    }
  }

  /** The lobby or lock changed: those waiting look again; a lock turns them all away. */
  #afterRolesChange(room: KeyRoom, before: GroupView, after: GroupView): void {
    const was = before.roles;
    const now = after.roles;
    if (was?.lobby === now?.lobby && was?.locked === now?.locked) return;
    if (now?.locked === true) {
      for (const knock of room.lobby.all()) {
        room.lobby.delete(knock.id);
        knock.socket.emit('denied', { reason: 'locked' });
        room.emitToMembers(after, 'knock-gone', { id: knock.id });
      }
    }
    room.emitToOutsiders('lobby-changed', {});
  }

  /** "Remove Bob": the commit took his keys; the server's half is to drop his connections. */
  #dropRemovedByHost(room: KeyRoom, verdict: Verdict | undefined): void {
    if (verdict === undefined || !verdict.allowed || verdict.removedByHost.length === 0) return;
    const userIds = [...new Set(verdict.removedByHost.map((l) => l.userId))];
    for (const id of userIds) room.removed.add(id);
    // After the commit has reached them, so that their client learns from it who removed them.
    const timer = setTimeout(() => {
      this.#disconnectTimers.delete(timer);
      this.#options.onRemovedByHost?.(room.id, userIds);
      for (const sock of [...room.sockets.values()])
        if (userIds.includes(sock.data.sub)) sock.disconnect(true);
    }, 500);
    timer.unref?.();
    this.#disconnectTimers.add(timer);
  }

  async #knock(room: KeyRoom, socket: KeySocket, args: { keyPackage: Uint8Array }): Promise<{ id: string }> {
    const view = room.view;
    if (view === undefined)
      throw new KeyServiceError('invalid-state', 'the meeting has not started; wait for the host');
    if (room.isMember(socket.data.sub) && !socket.data.lobbyOnly) {
      throw new KeyServiceError('invalid-state', 'you are in the meeting already');
    }
    if (view.roles?.locked === true) throw new KeyServiceError('locked', 'This meeting is locked');
    if (view.roles?.lobby !== true)
      throw new KeyServiceError('invalid-state', 'the lobby is off: join directly');
    const signatureKey = await checkKeyPackage(args.keyPackage, view, socket.data.sub);
    const knock = room.lobby.knock(socket, args.keyPackage, signatureKey);
    room.emitToMembers(view, 'knock', Lobby.public(knock));
    this.#logger.debug({ room: room.id, user: socket.data.sub }, 'knocked');
    return { id: knock.id };
  }

  async #deny(room: KeyRoom, socket: KeySocket, args: { id: string }): Promise<Record<string, never>> {
    const view = room.requireView();
    if (!room.isHost(socket.data.sub)) throw new KeyServiceError('forbidden', 'only a host answers a knock');
    const knock = room.lobby.get(args.id);
    if (knock === undefined) throw new KeyServiceError('invalid-state', 'nobody is waiting with that knock');
    room.lobby.delete(knock.id);
    knock.socket.emit('denied', { reason: 'denied' });
    room.emitToMembers(view, 'knock-gone', { id: knock.id });
    return {};
  }

  async #proposal(
    room: KeyRoom,
    socket: KeySocket,
    args: { message: Uint8Array },
  ): Promise<Record<string, never>> {
    const current = room.requireView();
    const message = decodeWhole(args.message);
    if (
      message.wireformat !== 'mls_public_message' ||
      message.publicMessage.content.contentType !== 'proposal'
    ) {
      throw new KeyServiceError('bad-request', 'proposals travel as MLS PublicMessages');
    }
    const pm = message.publicMessage;
    const content = pm.content;
    if (content.contentType !== 'proposal') throw new KeyServiceError('bad-request', 'expected a proposal');
    if (!bytesEqual(content.groupId, current.groupId))
      throw new KeyServiceError('bad-request', 'another group');
    if (content.epoch !== current.epoch) {
      throw new KeyServiceError(
        'stale-epoch',
        'the proposal is not for the current epoch',
        Number(current.epoch),
      );
    }
    if (content.sender.senderType !== 'member') {
      throw new KeyServiceError('forbidden', 'only members send proposals here');
    }
    const leafIndex = content.sender.leafIndex;
    const leaf = current.leaves.find((l) => l.leafIndex === leafIndex);
    if (leaf === undefined || leaf.userId !== socket.data.sub) {
      throw new KeyServiceError('forbidden', "the proposal's sender leaf is not this user's");
    }
    if (this.#policyEnforced) {
      // Nothing in a meeting travels as a standalone proposal; relaying one would let a later commit
      // carry it by reference, out of sight of the commit checks.
      const violation = judgeProposal(content.proposal, leaf.userId);
      KeyServiceStats.count(this.#stats.policyRefusals, violation.code);
      throw new KeyServiceError('forbidden', `refused by the membership policy: ${violation.message}`);
    }
    const impl = await suiteImpl(current.suite);
    if (
      !(await verifies(() =>
        verifyFramedContentSignature(
          leaf.signatureKey,
          'mls_public_message',
          content,
          pm.auth,
          current.context,
          impl.signature,
        ),
      ))
    ) {
      throw new KeyServiceError('forbidden', 'the proposal signature does not verify');
    }
    socket
      .to(room.channel)
      .emit('proposal', { epoch: Number(current.epoch), message: args.message, from: socket.data.sub });
    return {};
  }

  async #app(
    room: KeyRoom,
    socket: KeySocket,
    args: { message: Uint8Array },
  ): Promise<Record<string, never>> {
    const current = room.requireView();
    if (!room.isMember(socket.data.sub))
      throw new KeyServiceError('not-member', 'only members send to the group');
    const message = decodeWhole(args.message);
    if (message.wireformat !== 'mls_private_message') {
      throw new KeyServiceError('bad-request', 'application messages travel as MLS PrivateMessages');
    }
    const pm = message.privateMessage;
    if (pm.contentType !== 'application')
      throw new KeyServiceError('bad-request', 'expected an application message');
    if (!bytesEqual(pm.groupId, current.groupId)) throw new KeyServiceError('bad-request', 'another group');
    // Messages sent just before a commit landed are still readable by members for a few epochs.
    if (pm.epoch > current.epoch || pm.epoch + 3n < current.epoch) {
      throw new KeyServiceError(
        'stale-epoch',
        'the message is for an epoch outside the window',
        Number(current.epoch),
      );
    }
    room.emitToMembers(
      current,
      'app',
      { epoch: Number(pm.epoch), message: args.message, from: socket.data.sub },
      socket,
    );
    return {};
  }

  async #welcome(
    room: KeyRoom,
    socket: KeySocket,
    args: { to: string; message: Uint8Array },
  ): Promise<Record<string, never>> {
    room.requireView();
    if (!room.isMember(socket.data.sub))
      throw new KeyServiceError('not-member', 'only members send welcomes');
    if (decodeWhole(args.message).wireformat !== 'mls_welcome') {
      throw new KeyServiceError('bad-request', 'expected an MLS Welcome');
    }
    if (!room.isOnline(args.to)) throw new KeyServiceError('invalid-state', 'that user is not in the room');
    room.emitToUser(args.to, 'welcome', { message: args.message, from: socket.data.sub });
    return {};
  }

  /**
   * The membership policy's verdict; with the policy on, a refusal throws. A member may be removed
   * only once signaling has reported them gone and they have not returned, or by a host.
   */
  #enforcePolicy(
    room: KeyRoom,
    current: GroupView,
    checked: CheckedCommit,
    gone: (userId: string) => boolean,
  ): Verdict {
    const verdict = judge(current, checked, gone);
    if (verdict.allowed || !this.#policyEnforced) return verdict;
    KeyServiceStats.count(this.#stats.policyRefusals, verdict.violation.code);
    this.#logger.info(
      { room: room.id, epoch: Number(current.epoch), code: verdict.violation.code },
      'commit refused by the membership policy',
    );
    throw new KeyServiceError('forbidden', `refused by the membership policy: ${verdict.violation.message}`);
  }

  /** A fresh token for the same room and user extends the socket's session. */
  async #renew(
    socket: KeySocket,
    args: { token: string },
    expiry: SessionExpiry | undefined,
  ): Promise<{ expiresAt: number }> {
    let renewed: AuthenticatedUser;
    try {
      renewed = await this.#options.authenticate(args.token);
    } catch (error) {
      const code = (error as { code?: unknown } | undefined)?.code;
      throw new KeyServiceError(
        'unauthorized',
        code === 'token-expired' ? 'the token has expired' : 'invalid token',
      );
    }
    if (renewed.room !== socket.data.room || renewed.sub !== socket.data.sub) {
      throw new KeyServiceError('forbidden', 'a renewal keeps the room and user of the session');
    }
    if (renewed.exp !== undefined) expiry?.extend(renewed.exp);
    return { expiresAt: expiry?.expiresAtMs ?? 0 };
  }

  #checkRoster(_room: KeyRoom, size: number): void {
    if (size > this.limits.maxMembersPerRoom)
      throw new KeyServiceError('forbidden', 'the group is too large');
  }
}

function sessionKey(room: string, userId: string): string {
  return `${room}\n${userId}`;
}

/** Mounts the key service on `io` (namespace '/keys'). */
export function attachKeyService(io: Server, options: KeyServiceOptions): KeyService {
  return new KeyService(io, options);
}

export type { SocketData };
