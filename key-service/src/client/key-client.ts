// The browser-side MLS member. It keeps the group state, talks to the key service over socket.io
// ('/keys'), and on every epoch change exports the SFrame base key (RFC 9605 §5.2):
//   base_key = MLS-Exporter("SFrame 1.0 Base Key", "", Nk)
// together with the epoch and every member's leaf index, from which the media layer derives
// KID = (context << (S+E)) + (leaf_index << E) + (epoch mod 2^E).
// The roster is read from the MLS ratchet tree, never from the server's presence list.
//
// KeyClient is the public face and the conductor; the work is in its parts: connection.ts (socket,
// acknowledgements, validation of every event), group.ts (pure ts-mls operations), epoch-adoption.ts
// (ordering, policy checks, key export, trust on first use) and knocks.ts (the lobby as a member and
// as a knocker sees it). Must hold: every MLS step runs in one queue, in arrival order; a listener
// that throws never stops that queue (emitter.ts).
import type { GroupInfo, Proposal } from 'ts-mls';
import { bytesEqual } from '@conclave/common/bytes';
import { KeyServiceError } from '../errors.ts';
import { credentialUserId } from '../membership-policy.ts';
import { rolesExtension, rolesOf, type Roles } from '../roles.ts';
import {
  DEFAULT_LIMITS,
  DEFAULT_MLS_SUITE,
  SUPPORTED_MLS_SUITES,
  syncResultSchema,
  turnResultSchema,
  userIdSchema,
  type Events,
  type KeyServiceLimits,
  type RequestName,
  type Requests,
} from '../protocol.ts';
import type { AppMessage } from './app-message.ts';
import { fingerprint } from './codes.ts';
import { KeyServiceConnection, type InboundEvent } from './connection.ts';
import { Emitter } from './emitter.ts';
import { EpochAdoption } from './epoch-adoption.ts';
import {
  commitOf,
  createMeetingGroup,
  decodeMessage,
  groupInfoOf,
  holdsLeafIn,
  joinByExternalCommit,
  joinByWelcome,
  keyPackageFor,
  membersOf,
  newIdentity,
  openAppMessage,
  requireJoinable,
  requireSupportedSuite,
  sealAppMessage,
  suiteImpl,
} from './group.ts';
import { Knocks } from './knocks.ts';
import { MembershipGuard, type Refusal } from './membership-guard.ts';
import { MemoryIdentityStore, MemoryTrustStore, type IdentityStore, type StoredIdentity } from './stores.ts';
import type { EpochKeys, KeyClientEvents, KeyClientOptions, KnockInfo, MemberInfo } from './types.ts';

export { membersOf, SFRAME_BASE_KEY_LABEL } from './group.ts';
export type {
  ChatMessage,
  ClientLogger,
  EpochKeys,
  HandMessage,
  KeyClientEvents,
  KeyClientOptions,
  KnockInfo,
  MemberInfo,
  MembershipChange,
} from './types.ts';

const MAX_SYNC_ATTEMPTS = 10;
/**
 * Between sync attempts that lost the epoch to another member's commit: a random wait up to
 * 50 ms × 2^attempt (at most 1.6 s). Without it, a member whose crypto is slow (a busy phone, a
 * room where many join at once) keeps losing the race to faster ones and gives up; the load run
 * showed exactly that at 200 members.
 */
function syncBackoffMs(attempt: number): number {
  return Math.random() * Math.min(1_600, 50 * 2 ** attempt);
}

/**
 * How long a joiner waits for its turn at the external commit (server/join-turns.ts) before it
 * commits without one. The turn only spares joiners building commits that lose the race for an
 * epoch; a key service that never grants it can delay a join by this much, and no more.
 */
const TURN_WAIT_MS = 30_000;

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  settled: boolean;
}

function deferred<T>(): Deferred<T> {
  const d = { settled: false } as Deferred<T>;
  d.promise = new Promise<T>((resolve, reject) => {
    d.resolve = (v) => {
      d.settled = true;
      resolve(v);
    };
    d.reject = (e) => {
      d.settled = true;
      reject(e);
    };
  });
  d.promise.catch(() => undefined);
  return d;
}

/**
 * One member of a meeting's MLS group, in a browser (or in Node, for tests and the load generator).
 *
 * @example
 * ```ts
 * const client = new KeyClient({ url: '/keys', token: () => session.token, userId: session.userId });
 * client.on('epoch', (keys) => cryptor.setKeys(keys)); // a new SFrame base key per epoch
 * client.on('key-changed', ({ userId }) => warn(userId));
 * await client.start(); // in the group (or rejects: locked, denied)
 * ```
 */
export class KeyClient extends Emitter<KeyClientEvents> {
  readonly userId: string;
  readonly #options: KeyClientOptions;
  readonly #identityStore: IdentityStore;
  readonly #limits: KeyServiceLimits;
  readonly #guard: MembershipGuard;
  readonly #connection: KeyServiceConnection;
  readonly #adoption: EpochAdoption;
  readonly #knocks: Knocks;
  #identity: StoredIdentity | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Resolved once this client may enter the meeting (signaling): it is not waiting in the lobby. */
  readonly #entry = deferred<undefined>();
  /** Resolved when this client first holds the group's keys; rejected when turned away. */
  readonly #joined = deferred<undefined>();

  /**
   * @param options where the key service is, who this member is, and its stores and limits
   * @throws {TypeError} when `userId` is not a valid user id or `suite` is not supported
   */
  constructor(options: KeyClientOptions) {
    super();
    if (!userIdSchema.safeParse(options.userId).success) throw new TypeError('invalid user id');
    const suite = options.suite ?? DEFAULT_MLS_SUITE;
    if (!SUPPORTED_MLS_SUITES.includes(suite)) throw new TypeError(`unsupported MLS suite ${suite}`);
    this.userId = options.userId;
    this.#options = options;
    this.#identityStore = options.identityStore ?? new MemoryIdentityStore();
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#guard = new MembershipGuard(options.userId);
    this.#connection = new KeyServiceConnection(options, this.#limits, options.logger);
    this.#adoption = new EpochAdoption({
      userId: options.userId,
      nk: options.sframeKeyLength ?? 16,
      trustStore: options.trustStore ?? new MemoryTrustStore(),
      guard: this.#guard,
      logger: options.logger,
      ownKey: () => this.#identity?.signaturePublicKey,
      emit: (event, payload) => this.emit(event, payload),
      commit: (proposals) => this.#commitProposals(proposals),
      resync: () => this.#sync(),
      entered: () => {
        this.#entry.resolve(undefined);
        this.#joined.resolve(undefined);
      },
    });
    this.#knocks = new Knocks({
      emit: (event, payload) => this.emit(event, payload),
      current: () => this.#adoption.current,
      goneSince: (key) => this.#adoption.goneSince(key),
      admit: (knockId) => {
        if (!this.#closed) this.admit(knockId).catch((e: unknown) => this.#warn(e));
      },
    });
  }

  /** Set once this client refused a commit (see 'membership-refused'). */
  get refusal(): Refusal | undefined {
    return this.#guard.refusal;
  }

  /** The keys of the current epoch, once the client is in the group. */
  get current(): EpochKeys | undefined {
    return this.#adoption.current;
  }

  get epoch(): bigint | undefined {
    return this.#adoption.state?.groupContext.epoch;
  }

  /** This browser's signature key fingerprint (to compare with what others see). */
  async ownFingerprint(): Promise<string> {
    return fingerprint((await this.#loadIdentity()).signaturePublicKey);
  }

  /**
   * Connects, then creates the room's group or joins it by external commit (or knocks and waits for
   * a host's Welcome). Resolves in the group.
   *
   * @returns the keys of the first epoch this member holds
   * @throws {KeyServiceError} 'unauthorized' (handshake refused), 'locked' or 'denied' (turned away),
   *   'invalid-state' (already started, or could not catch up with the group)
   */
  async start(): Promise<EpochKeys> {
    if (this.#connection.started) throw new KeyServiceError('invalid-state', 'already started');
    await this.#loadIdentity();
    await this.#connection.open({
      event: (event) => this.#onEvent(event),
      connected: () => this.#enqueue(() => this.#sync()),
      catchUpFailed: (error) => this.#outOfSync(error),
      warning: (message) => this.emit('warning', { message }),
    });
    // Knocking: the Welcome (or a refusal) comes later.
    await this.#joined.promise;
    const current = this.#adoption.current;
    if (current === undefined) throw new KeyServiceError('invalid-state', 'not in the group');
    return current;
  }

  /** Resolves once this client may enter the meeting's media: at once, unless it waits in the lobby,
   *  in which case once a host admitted it. Rejects when it is turned away. */
  get entry(): Promise<void> {
    return Promise.race([this.#entry.promise, this.#joined.promise.then(() => undefined)]);
  }

  /** The roles of the current epoch, read from our own group state. */
  get roles(): Roles | undefined {
    const state = this.#adoption.state;
    return state === undefined ? undefined : rolesOf(state.groupContext.extensions);
  }

  /** Whether this member acts as a host now. */
  get isHost(): boolean {
    const current = this.#adoption.current;
    return current !== undefined && current.hosts.includes(current.ownLeafIndex);
  }

  /** People waiting in the lobby (for hosts to answer). */
  get knocks(): KnockInfo[] {
    return this.#knocks.list();
  }

  /**
   * Admits a knock: a host's commit adds exactly the KeyPackage that knocked, with its Welcome.
   *
   * @returns false when another member's commit won the epoch
   * @throws {KeyServiceError} 'invalid-state' (no such knock, not in the group), 'bad-request' (a
   *   malformed knock, or one for another suite), 'forbidden' (its key names someone else)
   */
  admit(knockId: string): Promise<boolean> {
    return this.#enqueue(async () => {
      const knock = this.#knocks.get(knockId);
      if (knock === undefined)
        throw new KeyServiceError('invalid-state', 'nobody is waiting with that knock');
      const { state } = this.#adoption.requireGroup();
      const message = decodeMessage(knock.keyPackage);
      if (message?.wireformat !== 'mls_key_package')
        throw new KeyServiceError('bad-request', 'a malformed knock');
      const keyPackage = message.keyPackage;
      if (credentialUserId(keyPackage.leafNode.credential) !== knock.userId) {
        throw new KeyServiceError('forbidden', 'the knock names someone else than its key');
      }
      if (keyPackage.cipherSuite !== state.groupContext.cipherSuite) {
        throw new KeyServiceError('bad-request', 'a knock for another suite');
      }
      return this.#commitProposals([{ proposalType: 'add', add: { keyPackage } }], true);
    });
  }

  /**
   * Turns a knock away (the key service tells the knocker; only a host's request counts).
   *
   * @throws {KeyServiceError} the key service's refusal ('forbidden' for a non-host)
   */
  async deny(knockId: string): Promise<void> {
    await this.#request('deny', { id: knockId });
  }

  /** A host removes a member who is here ("Remove Bob"); the others accept it only from a host.
   *  Resolves to false when another member's commit won the epoch. */
  removeMember(leafIndex: number): Promise<boolean> {
    return this.#enqueue(() =>
      this.#commitProposals([{ proposalType: 'remove', remove: { removed: leafIndex } }]),
    );
  }

  /**
   * A host turns the lobby on or off.
   *
   * @throws {KeyServiceError} 'forbidden' unless this member acts as a host
   */
  setLobby(on: boolean): Promise<boolean> {
    return this.#changeRoles((r) => ({ ...r, lobby: on }));
  }

  /**
   * A host locks or unlocks the meeting.
   *
   * @throws {KeyServiceError} 'forbidden' unless this member acts as a host
   */
  setLocked(on: boolean): Promise<boolean> {
    return this.#changeRoles((r) => ({ ...r, locked: on }));
  }

  /**
   * A host makes the member at `leafIndex` a host too.
   *
   * @throws {KeyServiceError} 'forbidden' unless this member acts as a host; 'invalid-state' when
   *   there is no such member
   */
  makeHost(leafIndex: number): Promise<boolean> {
    return this.#changeRoles((r, members) => {
      const member = members.find((m) => m.leafIndex === leafIndex);
      if (member === undefined) throw new KeyServiceError('invalid-state', 'no such member');
      if (r.hosts.some((h) => bytesEqual(h, member.signatureKey))) return r;
      return { ...r, hosts: [...r.hosts, member.signatureKey] };
    });
  }

  /**
   * Before leaving: if this is the last host here, the member with the lowest leaf index becomes
   * host, so the meeting keeps one (roles.ts says what happens when a host vanishes instead).
   */
  handOver(): Promise<boolean> {
    return this.#changeRoles((r, members, own) => {
      const others = members.filter((m) => m.leafIndex !== own);
      const hostHere = others.some((m) => r.hosts.some((h) => bytesEqual(h, m.signatureKey)));
      const successor = others.sort((a, b) => a.leafIndex - b.leafIndex)[0];
      if (hostHere || successor === undefined) return r;
      return { ...r, hosts: [...r.hosts, successor.signatureKey].slice(-16) };
    });
  }

  #changeRoles(
    change: (roles: Roles, members: MemberInfo[], ownLeafIndex: number) => Roles,
  ): Promise<boolean> {
    return this.#enqueue(async () => {
      const { state } = this.#adoption.requireGroup();
      const roles = rolesOf(state.groupContext.extensions);
      if (roles === undefined || !this.isHost)
        throw new KeyServiceError('forbidden', 'only a host can do that');
      const next = change(roles, membersOf(state), state.privatePath.leafIndex);
      if (next === roles) return true;
      return this.#commitProposals([
        {
          proposalType: 'group_context_extensions',
          groupContextExtensions: { extensions: [rolesExtension(next)] },
        },
      ]);
    });
  }

  /**
   * Sends a chat line as an MLS application message; resolves once the key service has relayed it.
   *
   * @throws {KeyServiceError} 'invalid-state' when not connected or not in the group (the line was
   *   not sent: say so, and let the sender try again)
   */
  sendChat(text: string): Promise<void> {
    return this.#sendApplication({ type: 'chat', text });
  }

  /** Tells the group this member's hand is raised or lowered; resolves once relayed. Members who
   *  join later cannot read it: the owner re-sends a raised hand after each epoch change. */
  sendHand(raised: boolean): Promise<void> {
    return this.#sendApplication({ type: 'hand', raised });
  }

  /** Trust the current key of `userId` after a 'key-changed' warning. */
  acceptKey(userId: string): Promise<void> {
    return this.#adoption.acceptKey(userId);
  }

  /** Commits an empty update (fresh path secrets: post-compromise security); false when another
   *  member's commit won the epoch. */
  rekey(): Promise<boolean> {
    return this.#enqueue(() => this.#commitProposals([]));
  }

  /**
   * Hands the key service a fresh session token (from `token()`) for this connection, so that it
   * does not close the socket when the token it connected with expires. Call it after the session
   * was renewed; not queued behind MLS work, since the expiry does not wait for it either.
   *
   * @throws {KeyServiceError} 'unauthorized' or 'forbidden' when the key service refuses the token
   */
  async renew(): Promise<void> {
    const token = await this.#options.token();
    await this.#request('renew', { token });
  }

  /** Disconnects and forgets the group's state; the client cannot be started again. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connection.close();
    this.#adoption.leave();
  }

  // ---- internals ----

  /** A listener threw: the owner's bug, not the group's. Reported, and the client carries on. */
  protected override listenerFailed(event: keyof KeyClientEvents, error: unknown): void {
    const logger = this.#options.logger;
    if (logger === undefined) return super.listenerFailed(event, error);
    logger.warn(
      { event, err: error instanceof Error ? error.message : String(error) },
      'a key client listener threw',
    );
  }

  #sendApplication(content: AppMessage): Promise<void> {
    return this.#enqueue(async () => {
      // socket.io would hold the message until a reconnection and send it under an old epoch, or
      // never: refuse now, so the sender can see it was not sent and try again.
      if (!this.#connection.connected) {
        throw new KeyServiceError('invalid-state', 'not connected to the key service');
      }
      const { state, impl } = this.#adoption.requireGroup();
      if (this.#adoption.hasIntruders) {
        throw new KeyServiceError(
          'invalid-state',
          'someone joined without being admitted; wait for their removal',
        );
      }
      const sealed = await sealAppMessage(state, content, impl);
      this.#adoption.advance(sealed.state);
      await this.#request('app', { message: sealed.message });
    });
  }

  async #onApp(event: Events['app']): Promise<void> {
    const group = this.#adoption.group;
    if (group === undefined) return;
    const message = decodeMessage(event.message);
    if (message === undefined || message.wireformat !== 'mls_private_message') return;
    const pm = message.privateMessage;
    const opened = await openAppMessage(group.state, pm, group.impl);
    if (opened === undefined) return;
    this.#adoption.advance(opened.state);
    if (opened.content === undefined) return;
    const { from, message: content } = opened.content;
    if (content.type === 'chat') this.emit('chat', { epoch: pm.epoch, from, text: content.text });
    else this.emit('hand', { epoch: pm.epoch, from, raised: content.raised });
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Runs an MLS step in the queue; a failure becomes a 'warning' (nobody awaits it). */
  #inQueue(task: () => Promise<void>): void {
    void this.#enqueue(task).catch((e: unknown) => this.#warn(e));
  }

  async #loadIdentity(): Promise<StoredIdentity> {
    if (this.#identity !== undefined) return this.#identity;
    let identity = await this.#identityStore.load();
    if (identity === undefined) {
      identity = await newIdentity(await this.#suiteImpl(DEFAULT_MLS_SUITE));
      await this.#identityStore.save(identity);
    }
    this.#identity = identity;
    return identity;
  }

  #suiteImpl(suite: Parameters<typeof suiteImpl>[0]) {
    return suiteImpl(suite, this.#options.cryptoProvider);
  }

  async #request<N extends RequestName>(
    name: N,
    args: Requests[N]['args'],
    timeoutMs?: number,
  ): Promise<unknown> {
    if (this.#closed) throw new KeyServiceError('invalid-state', 'the client is closed');
    return this.#connection.request(name, args, timeoutMs);
  }

  async #keyPackage(impl: Awaited<ReturnType<typeof suiteImpl>>) {
    return keyPackageFor(this.userId, await this.#loadIdentity(), impl);
  }

  /** Brings this member in line with the key service: create, re-publish, or (re)join. */
  async #sync(): Promise<void> {
    for (let attempt = 0; attempt < MAX_SYNC_ATTEMPTS && !this.#closed; attempt++) {
      // After a refusal, whatever group the server offers now is the one we refused to follow.
      if (this.#guard.refusal !== undefined) return;
      const result = syncResultSchema(this.#limits).parse(await this.#request('sync', {}));
      this.#guard.setOnline(result.online);
      this.#knocks.replace(result.knocks);
      try {
        if (result.groupInfo === null) {
          if (this.#adoption.state !== undefined) await this.#republish();
          else if (result.host) {
            this.#entry.resolve(undefined);
            await this.#createGroup();
          } else this.emit('waiting', { reason: 'no-meeting' }); // 'lobby-changed' brings us back
          return;
        }
        await this.#joinOffered(result.groupInfo);
        return;
      } catch (error) {
        if (
          error instanceof KeyServiceError &&
          (error.code === 'stale-epoch' || error.code === 'invalid-state' || error.code === 'not-your-turn')
        ) {
          // Someone else moved the group on first (or took the turn while ours lapsed): look again,
          // after a pause that spreads out members racing for the same epoch.
          await new Promise((resolve) => setTimeout(resolve, syncBackoffMs(attempt)));
          continue;
        }
        if (error instanceof KeyServiceError && (error.code === 'locked' || error.code === 'denied')) {
          this.#joined.reject(error);
          this.#entry.reject(error);
        }
        throw error;
      }
    }
    throw new KeyServiceError('invalid-state', 'could not catch up with the group');
  }

  /**
   * The key service has a group: stay (same epoch), or join it, or knock on its lobby. `inTurn`:
   * this GroupInfo came with our turn at the external commit, so join it without asking again.
   */
  async #joinOffered(bytes: Uint8Array, inTurn = false): Promise<void> {
    const message = decodeMessage(bytes);
    if (message === undefined || message.wireformat !== 'mls_group_info') {
      throw new KeyServiceError('bad-request', 'the key service sent a malformed GroupInfo');
    }
    const info = message.groupInfo;
    const state = this.#adoption.state;
    if (state !== undefined && bytesEqual(state.groupContext.groupId, info.groupContext.groupId)) {
      if (info.groupContext.epoch === state.groupContext.epoch) return;
      if (info.groupContext.epoch < state.groupContext.epoch) {
        // The key service lost its state (a restart) and a member that had not seen the last
        // commits published the group as it knew it. Our epochs after that one now lead nowhere:
        // nobody else can follow them. Join the group as the service has it (our old leaf goes).
        this.#options.logger?.warn(
          { epoch: Number(info.groupContext.epoch) },
          'the key service is behind us; rejoining its epoch',
        );
      }
    }
    requireJoinable(info, bytes.byteLength, this.#limits.maxGroupInfoBytes);
    const resync = holdsLeafIn(info, await this.#loadIdentity(), this.userId);
    const roles = rolesOf(info.groupContext.extensions);
    if (!resync && roles?.locked === true) throw new KeyServiceError('locked', 'This meeting is locked');
    if (!resync && roles?.lobby === true) {
      await this.#knock(info);
      return;
    }
    this.#entry.resolve(undefined);
    const turn = inTurn ? undefined : await this.#awaitTurn();
    // The group moved on while we waited: judge the epoch we now join afresh (lobby, lock, shape).
    if (turn !== undefined && BigInt(turn.epoch) !== info.groupContext.epoch) {
      return this.#joinOffered(turn.groupInfo, true);
    }
    await this.#joinExternal(info, resync);
  }

  /**
   * Waits for our turn at the external commit, and returns the GroupInfo the key service offers
   * with it; undefined when no turn came within TURN_WAIT_MS (we commit anyway: the turn is only a
   * scheduling aid, and the key service's one-commit-per-epoch rule decides either way).
   */
  async #awaitTurn(): Promise<{ epoch: number; groupInfo: Uint8Array } | undefined> {
    let answer: unknown;
    try {
      answer = await this.#request('turn', {}, TURN_WAIT_MS);
    } catch (error) {
      if (error instanceof KeyServiceError && error.code === 'internal') return undefined;
      throw error;
    }
    return turnResultSchema(this.#limits).parse(answer);
  }

  /** Waits in the lobby: a KeyPackage for the group's suite, whose Welcome a host's Add will send. */
  async #knock(info: GroupInfo): Promise<void> {
    if (!this.#connection.started) return;
    const socketId = this.#connection.id;
    if (this.#knocks.knockingOn(socketId, info.groupContext.groupId)) return; // still knocking
    const suite = info.groupContext.cipherSuite;
    requireSupportedSuite(suite);
    const impl = await this.#suiteImpl(suite);
    const kp = await this.#keyPackage(impl);
    const keyPackage = this.#knocks.startKnocking(socketId, info.groupContext.groupId, impl, kp);
    await this.#request('knock', { keyPackage });
    this.emit('waiting', { reason: 'knocking' });
  }

  /** A host admitted us: the Welcome (RFC 9420 §12.4.3.1) for our KeyPackage brings the group. */
  async #onWelcome(event: Events['welcome']): Promise<void> {
    const knocking = this.#knocks.knocking;
    // (A member coming back after its leaf was removed still holds its old state: the Welcome replaces it.)
    if (knocking === undefined) return;
    const message = decodeMessage(event.message);
    if (message?.wireformat !== 'mls_welcome') return;
    const state = await joinByWelcome(message.welcome, knocking.kp, knocking.groupId, knocking.impl);
    this.#knocks.stopKnocking();
    this.#entry.resolve(undefined);
    await this.#adoption.adopt(state, knocking.impl);
    this.emit('membership', {
      epoch: state.groupContext.epoch,
      kind: 'admission',
      by: event.from,
      joined: this.userId,
      left: [],
      admitted: [this.userId],
      removedByHost: [],
      intrudersRemoved: [],
      rolesChanged: false,
    });
  }

  async #createGroup(): Promise<void> {
    const impl = await this.#suiteImpl(this.#options.suite ?? DEFAULT_MLS_SUITE);
    const kp = await this.#keyPackage(impl);
    const identity = await this.#loadIdentity();
    // The creator is the first host.
    const roles = {
      hosts: [identity.signaturePublicKey],
      lobby: this.#options.lobby ?? false,
      locked: false,
    };
    const { state, groupInfo } = await createMeetingGroup(kp, roles, impl);
    await this.#request('publish', { groupInfo });
    await this.#adoption.adopt(state, impl);
  }

  /** After a key-service restart: hand it our current GroupInfo so joiners can find the group. */
  async #republish(): Promise<void> {
    const { state, impl } = this.#adoption.requireGroup();
    await this.#request('publish', { groupInfo: await groupInfoOf(state, impl) });
  }

  async #joinExternal(info: GroupInfo, resync: boolean): Promise<void> {
    requireSupportedSuite(info.groupContext.cipherSuite);
    const impl = await this.#suiteImpl(info.groupContext.cipherSuite);
    const kp = await this.#keyPackage(impl);
    const joined = await joinByExternalCommit(info, kp, resync, impl);
    await this.#request('commit', { commit: joined.commit, groupInfo: joined.groupInfo });
    await this.#adoption.adopt(joined.state, impl);
  }

  /** Commits `proposals` (with a path) for the current epoch. A 'stale-epoch' answer means another
   *  member's commit won this epoch: it is already queued for processing, so we simply drop ours. */
  async #commitProposals(proposals: Proposal[], withWelcome = false): Promise<boolean> {
    const { state, impl } = this.#adoption.requireGroup();
    const result = await commitOf(state, impl, proposals, withWelcome);
    try {
      await this.#request('commit', {
        commit: result.commit,
        groupInfo: result.groupInfo,
        ...(result.welcome === undefined ? {} : { welcome: result.welcome }),
      });
    } catch (error) {
      if (error instanceof KeyServiceError && error.code === 'stale-epoch') return false;
      throw error;
    }
    await this.#adoption.adopt(result.state, impl);
    return true;
  }

  #onEvent(event: InboundEvent): void {
    if (this.#closed) return;
    switch (event.name) {
      case 'commit': {
        const gone = this.#guard.snapshot();
        this.#inQueue(() => this.#adoption.onCommit(event.data, gone));
        return;
      }
      case 'app':
        this.#inQueue(() => this.#onApp(event.data));
        return;
      case 'remove-request':
        this.#inQueue(() => this.#adoption.onRemoveRequest(event.data));
        return;
      case 'peer-gone':
        this.#guard.peerGone(event.data.userId);
        this.emit('peer-gone', event.data);
        return;
      case 'presence':
        this.#guard.setOnline(event.data.online);
        this.emit('presence', event.data);
        return;
      case 'welcome':
        this.#inQueue(() => this.#onWelcome(event.data));
        return;
      case 'knock':
        this.#knocks.add(event.data);
        return;
      case 'knock-gone':
        this.#knocks.remove(event.data.id);
        return;
      case 'denied':
        this.#onDenied(event.data);
        return;
      case 'lobby-changed':
        // Waiting for the meeting or in its lobby: look again (it started, or the lobby opened).
        // Not after being turned away: that person asks again, if at all, by choice.
        if (this.#adoption.state === undefined && !this.#joined.settled) this.#inQueue(() => this.#sync());
        return;
      case 'proposal':
        // Every change comes as a commit (membership-policy.ts): nothing to do.
        return;
    }
  }

  #onDenied(event: Events['denied']): void {
    if (this.#adoption.state !== undefined || this.#knocks.knocking === undefined) return;
    const error =
      event.reason === 'locked'
        ? new KeyServiceError('locked', 'This meeting is locked')
        : new KeyServiceError('denied', 'The host did not let you in');
    this.#knocks.stopKnocking();
    this.#entry.reject(error);
    this.#joined.reject(error);
  }

  #outOfSync(error: unknown): void {
    if (this.#closed) return;
    const message = error instanceof Error ? error.message : 'failed';
    this.#options.logger?.warn({ err: message }, 'catching up with the group failed');
    this.emit('out-of-sync', { message });
  }

  #warn(error: unknown): void {
    const message = error instanceof Error ? error.message : 'failed';
    this.#options.logger?.warn({ err: message }, 'key client task failed');
    this.emit('warning', { message });
  }
}
