// The browser-side MLS member. It keeps the group state, talks to the key service over socket.io
// ('/keys'), and on every epoch change exports the SFrame base key (RFC 9605 §5.2):
//   base_key = MLS-Exporter("SFrame 1.0 Base Key", "", Nk)
// together with the epoch and every member's leaf index, from which the media layer derives
// KID = (context << (S+E)) + (leaf_index << E) + (epoch mod 2^E).
// The roster is read from the MLS ratchet tree, never from the server's presence list.
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  createApplicationMessage,
  createCommit,
  createGroup,
  createGroupInfoWithExternalPubAndRatchetTree,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackageWithKey,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroupExternal,
  mlsExporter,
  processPrivateMessage,
  processPublicMessage,
  type CiphersuiteImpl,
  type CiphersuiteName,
  type ClientState,
  type CryptoProvider,
  type GroupInfo,
  type MLSMessage,
  type Proposal,
} from 'ts-mls';
import { defaultClientConfig } from 'ts-mls/clientConfig.js';
import { ratchetTreeFromExtension } from 'ts-mls/groupInfo.js';
import { decryptSenderData } from 'ts-mls/privateMessage.js';
import { KeyServiceError } from '../errors.ts';
import { groupInfoShapeProblem } from '../group-info-limits.ts';
import { bytesEqual, type CommitKind } from '../membership-policy.ts';
import {
  DEFAULT_LIMITS,
  DEFAULT_MLS_SUITE,
  SUPPORTED_MLS_SUITES,
  eventSchemas,
  syncResultSchema,
  userIdSchema,
  type Ack,
  type EventName,
  type Events,
  type KeyServiceLimits,
  type MlsSuiteName,
  type RequestName,
  type Requests,
} from '../protocol.ts';
import { decodeAppMessage, encodeAppMessage, type AppMessage } from './app-message.ts';
import { fingerprint, securityCode } from './codes.ts';
import { Emitter } from './emitter.ts';
import { MembershipGuard, type GoneView, type Refusal } from './membership-guard.ts';
import {
  MemoryIdentityStore,
  MemoryTrustStore,
  type IdentityStore,
  type StoredIdentity,
  type TrustStore,
} from './stores.ts';

export const SFRAME_BASE_KEY_LABEL = 'SFrame 1.0 Base Key';

export interface MemberInfo {
  leafIndex: number;
  userId: string;
  signatureKey: Uint8Array;
  fingerprint: string;
}

/** Everything the media layer needs for one epoch. `baseKey` is secret: never log it. */
export interface EpochKeys {
  epoch: bigint;
  baseKey: Uint8Array;
  /** Length of `baseKey` in bytes (the SFrame AEAD's Nk). */
  nk: number;
  suite: CiphersuiteName;
  ownLeafIndex: number;
  members: MemberInfo[];
  securityCode: string;
}

export interface ChatMessage {
  epoch: bigint;
  /** The MLS-authenticated sender (from the decrypted sender data and signature), not the server's claim. */
  from: { leafIndex: number; userId: string };
  text: string;
}

/** A member raised or lowered their hand (an MLS application message, like chat). */
export interface HandMessage {
  epoch: bigint;
  /** The MLS-authenticated sender, as for chat: never taken from the message body. */
  from: { leafIndex: number; userId: string };
  raised: boolean;
}

/** Who an accepted commit let in or took out, for "Dave joined" and "Bob left". */
export interface MembershipChange {
  /** The epoch the commit created. */
  epoch: bigint;
  kind: CommitKind;
  /** The committer's user id (for a join, the joiner). */
  by: string;
  /** The joiner of an external commit. */
  joined: string | undefined;
  /** User ids whose leaves were removed because they had gone (not a joiner's own old leaf). */
  left: string[];
}

export interface KeyClientEvents {
  epoch: EpochKeys;
  /** An accepted commit changed the group. */
  membership: MembershipChange;
  /** A commit broke the membership policy: this client refused its epoch, keeps the keys of the last
   *  epoch it accepted, and follows the server's group no more (membership-guard.ts). */
  'membership-refused': Refusal;
  chat: ChatMessage;
  hand: HandMessage;
  /** A known user now signs with another key (trust on first use). Call `acceptKey` once the
   *  user has confirmed it; until then the warning is raised again on later epochs. */
  'key-changed': { userId: string; previousFingerprint: string; fingerprint: string };
  /** This member was removed from the group (by `by`, the committer's user id); keys stop here. */
  removed: { epoch: bigint; by: string };
  /** Catching up with the group after a reconnection failed; the keys in use may be stale. */
  'out-of-sync': { message: string };
  'peer-gone': { userId: string };
  presence: { online: string[] };
  /** Something failed that the client handled by itself (e.g. it rejoined). */
  warning: { message: string };
}

export interface ClientLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface KeyClientOptions {
  /** The key-service namespace URL: '/keys' in the browser, 'http://host:port/keys' in Node. */
  url: string;
  /** A fresh session token for each (re)connection. */
  token: () => string | Promise<string>;
  /** The authenticated user id (`sub` of the session token): the MLS credential's identity. */
  userId: string;
  /** The suite of a group this client creates; joiners follow the group's suite. */
  suite?: MlsSuiteName;
  identityStore?: IdentityStore;
  trustStore?: TrustStore;
  /** Nk of the SFrame AEAD: 16 for AES_128_GCM_SHA256_128 (the default SFrame suite), 32 for AES-256. */
  sframeKeyLength?: number;
  requestTimeoutMs?: number;
  limits?: Partial<KeyServiceLimits>;
  logger?: ClientLogger;
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
  /** ts-mls's crypto: WebCrypto by default, as in browsers. The load generator, which runs
   *  hundreds of members in one process, passes ts-mls's faster pure-JS provider. */
  cryptoProvider?: CryptoProvider;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
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
/** How soon to come back after the server dropped this socket (see the 'disconnect' handler). */
const SERVER_DISCONNECT_RECONNECT_MS = 1_000;

function encodeGroupInfo(groupInfo: GroupInfo): Uint8Array {
  return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_group_info', groupInfo });
}

function decodeMessage(bytes: Uint8Array): MLSMessage | undefined {
  try {
    const decoded = decodeMlsMessage(bytes, 0);
    return decoded !== undefined && decoded[1] === bytes.byteLength ? decoded[0] : undefined;
  } catch {
    return undefined;
  }
}

function userIdOf(identity: Uint8Array): string | undefined {
  try {
    const id = decoder.decode(identity);
    return userIdSchema.safeParse(id).success ? id : undefined;
  } catch {
    return undefined;
  }
}

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  return b;
}

/** The members of a group state, from its ratchet tree. */
export function membersOf(state: ClientState): MemberInfo[] {
  const members: MemberInfo[] = [];
  state.ratchetTree.forEach((node, i) => {
    if (i % 2 !== 0 || node === undefined || node.nodeType !== 'leaf') return;
    const credential = node.leaf.credential;
    const userId = credential.credentialType === 'basic' ? userIdOf(credential.identity) : undefined;
    if (userId === undefined) return;
    members.push({
      leafIndex: i / 2,
      userId,
      signatureKey: node.leaf.signaturePublicKey,
      fingerprint: fingerprint(node.leaf.signaturePublicKey),
    });
  });
  return members;
}

export class KeyClient extends Emitter<KeyClientEvents> {
  readonly userId: string;
  readonly #options: KeyClientOptions;
  readonly #identityStore: IdentityStore;
  readonly #trustStore: TrustStore;
  readonly #limits: KeyServiceLimits;
  readonly #events: ReturnType<typeof eventSchemas>;
  readonly #nk: number;
  readonly #warned = new Set<string>();
  readonly #guard: MembershipGuard;
  #identity: StoredIdentity | undefined;
  #socket: Socket | undefined;
  #state: ClientState | undefined;
  #impl: CiphersuiteImpl | undefined;
  #current: EpochKeys | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #everConnected = false;
  #closed = false;

  constructor(options: KeyClientOptions) {
    super();
    if (!userIdSchema.safeParse(options.userId).success) throw new TypeError('invalid user id');
    const suite = options.suite ?? DEFAULT_MLS_SUITE;
    if (!SUPPORTED_MLS_SUITES.includes(suite)) throw new TypeError(`unsupported MLS suite ${suite}`);
    this.userId = options.userId;
    this.#options = options;
    this.#identityStore = options.identityStore ?? new MemoryIdentityStore();
    this.#trustStore = options.trustStore ?? new MemoryTrustStore();
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#events = eventSchemas(this.#limits);
    this.#nk = options.sframeKeyLength ?? 16;
    this.#guard = new MembershipGuard(options.userId);
  }

  /** Set once this client refused a commit (see 'membership-refused'). */
  get refusal(): Refusal | undefined {
    return this.#guard.refusal;
  }

  /** The keys of the current epoch, once the client is in the group. */
  get current(): EpochKeys | undefined {
    return this.#current;
  }

  get epoch(): bigint | undefined {
    return this.#state?.groupContext.epoch;
  }

  /** This browser's signature key fingerprint (to compare with what others see). */
  async ownFingerprint(): Promise<string> {
    return fingerprint((await this.#loadIdentity()).signaturePublicKey);
  }

  /** Connects, then creates the room's group or joins it by external commit. Resolves in the group. */
  async start(): Promise<EpochKeys> {
    if (this.#socket !== undefined) throw new Error('already started');
    await this.#loadIdentity();
    const socket = io(this.#options.url, {
      transports: ['websocket'],
      // Its own connection: socket.io would otherwise share one with any other namespace of the same
      // server (the meeting's signaling), and inherit that one's reconnection settings and fate.
      forceNew: true,
      ...this.#options.socketOptions,
      auth: (cb) => {
        void Promise.resolve(this.#options.token()).then(
          (token) => cb({ token }),
          () => cb({}),
        );
      },
    });
    this.#socket = socket;
    for (const name of Object.keys(this.#events) as EventName[]) {
      socket.on(name, (payload: unknown) => this.#onEvent(name, payload));
    }
    const first = new Promise<void>((resolve, reject) => {
      socket.once('connect_error', (err: Error & { data?: { code?: string; message?: string } }) => {
        if (!socket.active) {
          reject(new KeyServiceError('unauthorized', err.data?.message ?? err.message));
        }
      });
      let connected = false;
      socket.on('connect', () => {
        // First connection and every reconnection (e.g. after a key-service restart): catch up.
        const sync = this.#enqueue(() => this.#sync());
        sync.then(resolve, reject);
        // After the first, nobody awaits the catch-up: say so when it fails, the owner starts afresh.
        if (connected) sync.catch((e: unknown) => this.#outOfSync(e));
        connected = true;
      });
    });
    // socket.io gives up after the server refuses a handshake. After the first connection that is
    // a transient refusal (this user's meeting connection is not back yet: 'not-in-meeting'), so
    // keep coming back, each time with a fresh token.
    socket.on('connect_error', () => {
      if (!this.#everConnected || this.#closed || socket.active) return;
      setTimeout(() => {
        if (!this.#closed && !socket.connected && !socket.active) socket.connect();
      }, SERVER_DISCONNECT_RECONNECT_MS);
    });
    socket.on('connect', () => (this.#everConnected = true));
    socket.on('disconnect', (reason) => {
      // socket.io reconnects by itself after a lost connection, but not after the server closed the
      // socket. The server does that when signaling reports this user gone (their meeting connection
      // dropped, or the room's media server died); if this client is still here, its meeting rejoins,
      // and so must its membership: come back and catch up with the group.
      if (reason !== 'io server disconnect' || this.#closed) return;
      this.emit('warning', { message: 'the key service closed the connection; reconnecting' });
      setTimeout(() => {
        if (!this.#closed && !socket.connected) socket.connect();
      }, SERVER_DISCONNECT_RECONNECT_MS);
    });
    await first;
    const current = this.#current;
    if (current === undefined) throw new KeyServiceError('invalid-state', 'not in the group');
    return current;
  }

  /** Sends a chat line as an MLS application message; resolves once the key service has relayed it. */
  sendChat(text: string): Promise<void> {
    return this.#sendApplication({ type: 'chat', text });
  }

  /** Tells the group this member's hand is raised or lowered; resolves once relayed. Members who
   *  join later cannot read it: the owner re-sends a raised hand after each epoch change. */
  sendHand(raised: boolean): Promise<void> {
    return this.#sendApplication({ type: 'hand', raised });
  }

  /** Trust the current key of `userId` after a 'key-changed' warning. */
  async acceptKey(userId: string): Promise<void> {
    const member = this.#current?.members.find((m) => m.userId === userId);
    if (member === undefined) return;
    await this.#trustStore.set(userId, member.signatureKey);
    this.#warned.delete(userId);
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
   */
  async renew(): Promise<void> {
    const token = await this.#options.token();
    await this.#request('renew', { token });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket?.removeAllListeners();
    this.#socket?.disconnect();
    this.#state = undefined;
    this.#current = undefined;
  }

  // ---- internals ----

  #sendApplication(content: AppMessage): Promise<void> {
    return this.#enqueue(async () => {
      // socket.io would hold the message until a reconnection and send it under an old epoch, or
      // never: refuse now, so the sender can see it was not sent and try again.
      if (this.#socket?.connected !== true) {
        throw new KeyServiceError('invalid-state', 'not connected to the key service');
      }
      const { state, impl } = this.#requireGroup();
      const result = await createApplicationMessage(state, encodeAppMessage(content), impl);
      this.#state = result.newState;
      const message = encodeMlsMessage({
        version: 'mls10',
        wireformat: 'mls_private_message',
        privateMessage: result.privateMessage,
      });
      await this.#request('app', { message });
    });
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #loadIdentity(): Promise<StoredIdentity> {
    if (this.#identity !== undefined) return this.#identity;
    let identity = await this.#identityStore.load();
    if (identity === undefined) {
      // Both supported suites sign with Ed25519, so one key pair serves either.
      const impl = await this.#suiteImpl(DEFAULT_MLS_SUITE);
      const pair = await impl.signature.keygen();
      identity = { signaturePublicKey: pair.publicKey, signaturePrivateKey: pair.signKey };
      await this.#identityStore.save(identity);
    }
    this.#identity = identity;
    return identity;
  }

  #suiteImpl(suite: CiphersuiteName): Promise<CiphersuiteImpl> {
    return getCiphersuiteImpl(getCiphersuiteFromName(suite), this.#options.cryptoProvider);
  }

  #requireGroup(): { state: ClientState; impl: CiphersuiteImpl } {
    if (this.#state === undefined || this.#impl === undefined) {
      throw new KeyServiceError('invalid-state', 'not in the group');
    }
    return { state: this.#state, impl: this.#impl };
  }

  async #request<N extends RequestName>(name: N, args: Requests[N]['args']): Promise<unknown> {
    const socket = this.#socket;
    if (socket === undefined || this.#closed)
      throw new KeyServiceError('invalid-state', 'the client is closed');
    let ack: Ack<unknown>;
    try {
      ack = (await socket
        .timeout(this.#options.requestTimeoutMs ?? 10_000)
        .emitWithAck(name, args)) as Ack<unknown>;
    } catch {
      throw new KeyServiceError('internal', `${name}: no answer from the key service`);
    }
    if (typeof ack !== 'object' || ack === null)
      throw new KeyServiceError('internal', 'malformed acknowledgement');
    if (ack.ok) return ack.result;
    throw new KeyServiceError(ack.error.code, String(ack.error.message), ack.error.epoch);
  }

  async #keyPackage(impl: CiphersuiteImpl) {
    const identity = await this.#loadIdentity();
    return generateKeyPackageWithKey(
      { credentialType: 'basic', identity: encoder.encode(this.userId) },
      defaultCapabilities(),
      defaultLifetime,
      [],
      { signKey: identity.signaturePrivateKey, publicKey: identity.signaturePublicKey },
      impl,
    );
  }

  /** Brings this member in line with the key service: create, re-publish, or (re)join. */
  async #sync(): Promise<void> {
    for (let attempt = 0; attempt < MAX_SYNC_ATTEMPTS && !this.#closed; attempt++) {
      // After a refusal, whatever group the server offers now is the one we refused to follow.
      if (this.#guard.refusal !== undefined) return;
      const result = syncResultSchema(this.#limits).parse(await this.#request('sync', {}));
      this.#guard.setOnline(result.online);
      try {
        if (result.groupInfo === null) {
          await (this.#state !== undefined ? this.#republish() : this.#createGroup());
          return;
        }
        const message = decodeMessage(result.groupInfo);
        if (message === undefined || message.wireformat !== 'mls_group_info') {
          throw new KeyServiceError('bad-request', 'the key service sent a malformed GroupInfo');
        }
        const info = message.groupInfo;
        const state = this.#state;
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
        this.#checkJoinable(info, result.groupInfo.byteLength);
        await this.#joinExternal(info);
        return;
      } catch (error) {
        if (
          error instanceof KeyServiceError &&
          (error.code === 'stale-epoch' || error.code === 'invalid-state')
        ) {
          // Someone else moved the group on first: look again, after a pause that spreads out
          // members racing for the same epoch.
          await new Promise((resolve) => setTimeout(resolve, syncBackoffMs(attempt)));
          continue;
        }
        throw error;
      }
    }
    throw new KeyServiceError('invalid-state', 'could not catch up with the group');
  }

  /** A group whose GroupInfo is not the shape a Conclave group has is not joined (group-info-limits.ts). */
  #checkJoinable(info: GroupInfo, byteLength: number): void {
    const tree = ratchetTreeFromExtension(info);
    const problem =
      tree === undefined
        ? 'it carries no ratchet tree'
        : groupInfoShapeProblem(info, tree, byteLength, this.#limits.maxGroupInfoBytes);
    if (problem !== undefined) {
      throw new KeyServiceError('forbidden', `the meeting's group cannot be joined safely: ${problem}`);
    }
  }

  async #createGroup(): Promise<void> {
    const suite = this.#options.suite ?? DEFAULT_MLS_SUITE;
    const impl = await this.#suiteImpl(suite);
    const kp = await this.#keyPackage(impl);
    const state = await createGroup(
      randomBytes(16),
      kp.publicPackage,
      kp.privatePackage,
      [],
      impl,
      this.#clientConfig(),
    );
    const groupInfo = await createGroupInfoWithExternalPubAndRatchetTree(state, [], impl);
    await this.#request('publish', { groupInfo: encodeGroupInfo(groupInfo) });
    await this.#adopt(state, impl);
  }

  /** After a key-service restart: hand it our current GroupInfo so joiners can find the group. */
  async #republish(): Promise<void> {
    const { state, impl } = this.#requireGroup();
    const groupInfo = await createGroupInfoWithExternalPubAndRatchetTree(state, [], impl);
    await this.#request('publish', { groupInfo: encodeGroupInfo(groupInfo) });
  }

  async #joinExternal(info: GroupInfo): Promise<void> {
    const suite = info.groupContext.cipherSuite;
    if (!(SUPPORTED_MLS_SUITES as readonly string[]).includes(suite)) {
      throw new KeyServiceError('bad-request', `the group uses an unsupported suite ${suite}`);
    }
    const impl = await this.#suiteImpl(suite);
    const kp = await this.#keyPackage(impl);
    const identity = await this.#loadIdentity();
    // Resync (RFC 9420 §12.4.3.2): if our own old leaf is still there (reload, lost state), the
    // external commit removes it.
    const tree = ratchetTreeFromExtension(info);
    const resync =
      tree?.some(
        (n) =>
          n?.nodeType === 'leaf' &&
          bytesEqual(n.leaf.signaturePublicKey, identity.signaturePublicKey) &&
          n.leaf.credential.credentialType === 'basic' &&
          userIdOf(n.leaf.credential.identity) === this.userId,
      ) ?? false;
    const { publicMessage, newState } = await joinGroupExternal(
      info,
      kp.publicPackage,
      kp.privatePackage,
      resync,
      impl,
      undefined,
      this.#clientConfig(),
    );
    const groupInfo = await createGroupInfoWithExternalPubAndRatchetTree(newState, [], impl);
    const commit = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_public_message', publicMessage });
    await this.#request('commit', { commit, groupInfo: encodeGroupInfo(groupInfo) });
    await this.#adopt(newState, impl);
  }

  /** Commits `proposals` (with a path) for the current epoch. A 'stale-epoch' answer means another
   *  member's commit won this epoch: it is already queued for processing, so we simply drop ours. */
  async #commitProposals(proposals: Proposal[]): Promise<boolean> {
    const { state, impl } = this.#requireGroup();
    const result = await createCommit(
      { state, cipherSuite: impl },
      { wireAsPublicMessage: true, extraProposals: proposals },
    );
    const groupInfo = await createGroupInfoWithExternalPubAndRatchetTree(result.newState, [], impl);
    try {
      await this.#request('commit', {
        commit: encodeMlsMessage(result.commit),
        groupInfo: encodeGroupInfo(groupInfo),
      });
    } catch (error) {
      if (error instanceof KeyServiceError && error.code === 'stale-epoch') return false;
      throw error;
    }
    await this.#adopt(result.newState, impl);
    return true;
  }

  #clientConfig() {
    return {
      ...defaultClientConfig,
      authService: {
        // Authentication Service, client side: a credential must name a well-formed user id; the
        // key service has bound it to an authenticated socket. Key changes are flagged per epoch.
        async validateCredential(credential: {
          credentialType: string;
          identity?: Uint8Array;
        }): Promise<boolean> {
          return credential.credentialType === 'basic' && credential.identity !== undefined
            ? userIdOf(credential.identity) !== undefined
            : false;
        },
      },
    };
  }

  async #adopt(state: ClientState, impl: CiphersuiteImpl): Promise<void> {
    this.#state = state;
    this.#impl = impl;
    const members = membersOf(state);
    const own = members.find(
      (m) => this.#identity !== undefined && bytesEqual(m.signatureKey, this.#identity.signaturePublicKey),
    );
    const keys: EpochKeys = {
      epoch: state.groupContext.epoch,
      baseKey: await mlsExporter(
        state.keySchedule.exporterSecret,
        SFRAME_BASE_KEY_LABEL,
        new Uint8Array(0),
        this.#nk,
        impl,
      ),
      nk: this.#nk,
      suite: state.groupContext.cipherSuite,
      ownLeafIndex: own?.leafIndex ?? state.privatePath.leafIndex,
      members,
      securityCode: securityCode(state.keySchedule.epochAuthenticator),
    };
    this.#current = keys;
    await this.#checkTrust(members);
    this.emit('epoch', keys);
  }

  async #checkTrust(members: MemberInfo[]): Promise<void> {
    for (const m of members) {
      const known = await this.#trustStore.get(m.userId);
      if (known === undefined) {
        await this.#trustStore.set(m.userId, m.signatureKey);
      } else if (!bytesEqual(known, m.signatureKey) && !this.#warned.has(m.userId)) {
        this.#warned.add(m.userId);
        this.emit('key-changed', {
          userId: m.userId,
          previousFingerprint: fingerprint(known),
          fingerprint: m.fingerprint,
        });
      }
    }
  }

  #onEvent(name: EventName, payload: unknown): void {
    if (this.#closed) return;
    const parsed = this.#events[name].safeParse(payload);
    if (!parsed.success) {
      this.#options.logger?.warn({ event: name }, 'malformed event from the key service dropped');
      return;
    }
    const data = parsed.data;
    switch (name) {
      case 'commit': {
        const gone = this.#guard.snapshot();
        void this.#enqueue(() => this.#onCommit(data as Events['commit'], gone)).catch((e: unknown) =>
          this.#warn(e),
        );
        return;
      }
      case 'app':
        void this.#enqueue(() => this.#onApp(data as Events['app'])).catch((e: unknown) => this.#warn(e));
        return;
      case 'remove-request':
        void this.#enqueue(() => this.#onRemoveRequest(data as Events['remove-request'])).catch(
          (e: unknown) => this.#warn(e),
        );
        return;
      case 'peer-gone':
        this.#guard.peerGone((data as Events['peer-gone']).userId);
        this.emit('peer-gone', data as Events['peer-gone']);
        return;
      case 'presence':
        this.#guard.setOnline((data as Events['presence']).online);
        this.emit('presence', data as Events['presence']);
        return;
      case 'proposal':
      case 'welcome':
        // This client joins by external commit and commits its own proposals: nothing to do.
        return;
    }
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

  async #onCommit(event: Events['commit'], gone: GoneView): Promise<void> {
    const state = this.#state;
    const impl = this.#impl;
    if (state === undefined || impl === undefined || this.#guard.refusal !== undefined) return;
    const message = decodeMessage(event.commit);
    if (message === undefined || message.wireformat !== 'mls_public_message') return;
    const pm = message.publicMessage;
    if (pm.content.contentType !== 'commit') return;
    const epoch = pm.content.epoch;
    if (epoch < state.groupContext.epoch) return; // already past it (e.g. our own)
    if (epoch > state.groupContext.epoch) {
      await this.#sync(); // we missed commits: rejoin from the latest GroupInfo
      return;
    }
    const verdict = this.#guard.judge(
      { sender: pm.content.sender, commit: pm.content.commit },
      membersOf(state),
      gone,
    );
    if (!verdict.allowed) {
      this.#refuse(epoch + 1n, verdict.violation);
      return;
    }
    let next: ClientState;
    try {
      next = (await processPublicMessage(state, pm, emptyPskIndex, impl)).newState;
    } catch (error) {
      this.#options.logger?.warn({ epoch: Number(epoch) }, 'a commit did not process; rejoining');
      this.emit('warning', { message: `commit rejected: ${(error as Error).message}` });
      await this.#sync();
      return;
    }
    if (next.groupActiveState.kind === 'removedFromGroup') {
      this.#state = undefined;
      this.#current = undefined;
      this.emit('removed', { epoch: epoch + 1n, by: verdict.committer.userId });
      return;
    }
    await this.#adopt(next, impl);
    this.#announce(epoch + 1n, verdict.kind, verdict.committer.userId, verdict.removed, gone);
  }

  /** Keeps the keys we have and stops following the group: see membership-guard.ts. */
  #refuse(epoch: bigint, violation: Refusal['violation']): void {
    this.#guard.refuse(epoch, violation);
    this.#options.logger?.warn(
      { epoch: Number(epoch), code: violation.code },
      'commit refused by the membership policy',
    );
    this.emit('membership-refused', { epoch, violation });
  }

  #announce(
    epoch: bigint,
    kind: CommitKind,
    by: string,
    removed: readonly { userId: string }[],
    gone: GoneView,
  ): void {
    const left = [...new Set(removed.map((l) => l.userId).filter((id) => id !== by && gone(id)))];
    this.emit('membership', { epoch, kind, by, joined: kind === 'join' ? by : undefined, left });
  }

  async #onApp(event: Events['app']): Promise<void> {
    const state = this.#state;
    const impl = this.#impl;
    if (state === undefined || impl === undefined) return;
    const message = decodeMessage(event.message);
    if (message === undefined || message.wireformat !== 'mls_private_message') return;
    const pm = message.privateMessage;
    const epochData =
      pm.epoch === state.groupContext.epoch
        ? { senderDataSecret: state.keySchedule.senderDataSecret, ratchetTree: state.ratchetTree }
        : state.historicalReceiverData.get(pm.epoch);
    if (epochData === undefined) return;
    const sender = await decryptSenderData(pm, epochData.senderDataSecret, impl);
    if (sender === undefined) return;
    const result = await processPrivateMessage(state, pm, emptyPskIndex, impl);
    this.#state = result.newState;
    if (result.kind !== 'applicationMessage') return;
    const leaf = epochData.ratchetTree[sender.leafIndex * 2];
    const userId =
      leaf?.nodeType === 'leaf' && leaf.leaf.credential.credentialType === 'basic'
        ? userIdOf(leaf.leaf.credential.identity)
        : undefined;
    if (userId === undefined) return;
    const content = decodeAppMessage(result.message);
    if (content === undefined) return;
    const from = { leafIndex: sender.leafIndex, userId };
    if (content.type === 'chat') this.emit('chat', { epoch: pm.epoch, from, text: content.text });
    else this.emit('hand', { epoch: pm.epoch, from, raised: content.raised });
  }

  async #onRemoveRequest(event: Events['remove-request']): Promise<void> {
    const state = this.#state;
    if (state === undefined || state.groupContext.epoch !== BigInt(event.epoch)) return;
    // Remove only leaves that really are the gone user's in our own tree, and never ourselves.
    const members = membersOf(state);
    const own = state.privatePath.leafIndex;
    // And only once we too see them gone: everyone else judges the commit the same way.
    if (this.#guard.refusal !== undefined || this.#guard.isOnline(event.userId)) return;
    const removed = event.leaves.filter(
      (leaf) => leaf !== own && members.some((m) => m.leafIndex === leaf && m.userId === event.userId),
    );
    if (removed.length === 0) return;
    const gone = this.#guard.snapshot();
    const committed = await this.#commitProposals(
      removed.map((leaf) => ({ proposalType: 'remove', remove: { removed: leaf } })),
    );
    if (committed)
      this.#announce(state.groupContext.epoch + 1n, 'removal', this.userId, [{ userId: event.userId }], gone);
  }
}
