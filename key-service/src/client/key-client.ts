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
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackageWithKey,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
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
import { bytesEqual } from '@conclave/common/bytes';
import { credentialUserId, type CommitKind, type Verdict } from '../membership-policy.ts';
import { memberCapabilities } from '../capabilities.ts';
import { actingHosts, rolesExtension, rolesOf, type Roles } from '../roles.ts';
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
  /** Leaf indexes of the members acting as hosts (roles.ts), read from the group itself. */
  hosts: number[];
  lobby: boolean;
  locked: boolean;
}

/** Someone waiting in the lobby, as a host sees them. */
export interface KnockInfo {
  id: string;
  userId: string;
  /** The server's word for their display name; the fingerprint is their KeyPackage's own key. */
  name: string;
  fingerprint: string;
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
  /** User ids a host admitted from the lobby. */
  admitted: string[];
  /** User ids a host removed while they were here. */
  removedByHost: string[];
  /** User ids of leaves that had come in without admission and are now out. */
  intrudersRemoved: string[];
  /** The roles changed (a host's commit). */
  rolesChanged: boolean;
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
  /** This member was removed from the group (by `by`, the committer's user id); keys stop here.
   *  `byHost`: a host removed this member while it was here ("Remove Bob"): do not come back. */
  removed: { epoch: bigint; by: string; byHost: boolean };
  /** Not yet in the group: waiting for a host to admit us, or for a host to start the meeting. */
  waiting: { reason: 'knocking' | 'no-meeting' };
  /** Who is in the lobby now (told to members). */
  knocks: { knocks: KnockInfo[] };
  /** A leaf came in without admission (an external commit behind the lobby). This client holds that
   *  epoch's state only to commit the intruder's removal: it exports no key from it. */
  intruder: { epoch: bigint; userId: string };
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
  /** The lobby of a group this client creates (the web app turns it on; default off). Only a host
   *  invite's session creates a group (the key service says which this is); others wait for one. */
  lobby?: boolean;
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

/** How long one connection attempt to the key service may take before the next one starts. */
const KEY_SOCKET_CONNECT_TIMEOUT_MS = 4_000;
/** How long after a member was removed as gone their key walks back in through the lobby. */
const REJOIN_WITHOUT_ADMISSION_MS = 120_000;

function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

type GeneratedKeyPackage = Awaited<ReturnType<typeof generateKeyPackageWithKey>>;

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
  /** Resolved once this client may enter the meeting (signaling): it is not waiting in the lobby. */
  readonly #entry = deferred<undefined>();
  /** Resolved when this client first holds the group's keys; rejected when turned away. */
  readonly #joined = deferred<undefined>();
  /** Our knock, while we wait in the lobby: the KeyPackage whose Welcome lets us in. */
  #knocking:
    { socketId: string; groupId: Uint8Array; impl: CiphersuiteImpl; kp: GeneratedKeyPackage } | undefined;
  readonly #knocks = new Map<string, KnockInfo & { keyPackage: Uint8Array }>();
  /** Keys of members removed because they had gone (hex → when): a host lets them back in by itself,
   *  for a while, since a host admitted them before (a network cut, a reload). */
  readonly #recentlyGone = new Map<string, number>();
  /** Leaves that came in unadmitted (leaf index → signature key), until they are removed. */
  readonly #intruders = new Map<number, Uint8Array>();

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
      // A connection attempt into a network that is not back yet can hang rather than fail; socket.io
      // waits 20 s by default before it tries again, long after the meeting itself has rejoined.
      timeout: KEY_SOCKET_CONNECT_TIMEOUT_MS,
      ...this.#options.socketOptions,
      auth: (cb) => {
        // Always as one who may have to wait in the lobby: a member whose leaf was removed while it
        // was cut off knocks again, before the meeting lets it in. With a meeting connection (or once
        // one enters) the key service treats the socket as a member's.
        const lobby = true;
        void Promise.resolve(this.#options.token()).then(
          (token) => cb({ token, lobby }),
          () => cb({ lobby }),
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
    // Knocking: the Welcome (or a refusal) comes later.
    await this.#joined.promise;
    const current = this.#current;
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
    return this.#state === undefined ? undefined : rolesOf(this.#state.groupContext.extensions);
  }

  /** Whether this member acts as a host now. */
  get isHost(): boolean {
    const current = this.#current;
    return current !== undefined && current.hosts.includes(current.ownLeafIndex);
  }

  /** People waiting in the lobby (for hosts to answer). */
  get knocks(): KnockInfo[] {
    return [...this.#knocks.values()].map(({ id, userId, name, fingerprint }) => ({
      id,
      userId,
      name,
      fingerprint,
    }));
  }

  /** Admits a knock: a host's commit adds exactly the KeyPackage that knocked, with its Welcome. */
  admit(knockId: string): Promise<boolean> {
    return this.#enqueue(async () => {
      const knock = this.#knocks.get(knockId);
      if (knock === undefined)
        throw new KeyServiceError('invalid-state', 'nobody is waiting with that knock');
      const { impl } = this.#requireGroup();
      const message = decodeMessage(knock.keyPackage);
      if (message?.wireformat !== 'mls_key_package')
        throw new KeyServiceError('bad-request', 'a malformed knock');
      const keyPackage = message.keyPackage;
      if (credentialUserId(keyPackage.leafNode.credential) !== knock.userId) {
        throw new KeyServiceError('forbidden', 'the knock names someone else than its key');
      }
      if (keyPackage.cipherSuite !== this.#state?.groupContext.cipherSuite) {
        throw new KeyServiceError('bad-request', 'a knock for another suite');
      }
      void impl;
      return this.#commitProposals([{ proposalType: 'add', add: { keyPackage } }], true);
    });
  }

  /** Turns a knock away (the key service tells the knocker; only a host's request counts). */
  async deny(knockId: string): Promise<void> {
    await this.#request('deny', { id: knockId });
  }

  /** A host removes a member who is here ("Remove Bob"); the others accept it only from a host. */
  removeMember(leafIndex: number): Promise<boolean> {
    return this.#enqueue(() =>
      this.#commitProposals([{ proposalType: 'remove', remove: { removed: leafIndex } }]),
    );
  }

  /** A host turns the lobby on or off. */
  setLobby(on: boolean): Promise<boolean> {
    return this.#changeRoles((r) => ({ ...r, lobby: on }));
  }

  /** A host locks or unlocks the meeting. */
  setLocked(on: boolean): Promise<boolean> {
    return this.#changeRoles((r) => ({ ...r, locked: on }));
  }

  /** A host makes the member at `leafIndex` a host too. */
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
      const { state } = this.#requireGroup();
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
      if (this.#intruders.size > 0) {
        throw new KeyServiceError(
          'invalid-state',
          'someone joined without being admitted; wait for their removal',
        );
      }
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
      memberCapabilities(),
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
      this.#setKnocks(result.knocks);
      try {
        if (result.groupInfo === null) {
          if (this.#state !== undefined) await this.#republish();
          else if (result.host) {
            this.#entry.resolve(undefined);
            await this.#createGroup();
          } else this.emit('waiting', { reason: 'no-meeting' }); // 'lobby-changed' brings us back
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
        const resync = this.#holdsLeafIn(info, await this.#loadIdentity());
        const roles = rolesOf(info.groupContext.extensions);
        if (!resync && roles?.locked === true) throw new KeyServiceError('locked', 'This meeting is locked');
        if (!resync && roles?.lobby === true) {
          await this.#knock(info);
          return;
        }
        this.#entry.resolve(undefined);
        await this.#joinExternal(info, resync);
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
        if (error instanceof KeyServiceError && (error.code === 'locked' || error.code === 'denied')) {
          this.#joined.reject(error);
          this.#entry.reject(error);
        }
        throw error;
      }
    }
    throw new KeyServiceError('invalid-state', 'could not catch up with the group');
  }

  /** Whether the GroupInfo's tree still holds our own leaf (same key and user id): a resync. */
  #holdsLeafIn(info: GroupInfo, identity: StoredIdentity): boolean {
    return (
      ratchetTreeFromExtension(info)?.some(
        (n) =>
          n?.nodeType === 'leaf' &&
          bytesEqual(n.leaf.signaturePublicKey, identity.signaturePublicKey) &&
          n.leaf.credential.credentialType === 'basic' &&
          userIdOf(n.leaf.credential.identity) === this.userId,
      ) ?? false
    );
  }

  /** Waits in the lobby: a KeyPackage for the group's suite, whose Welcome a host's Add will send. */
  async #knock(info: GroupInfo): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined) return;
    const knocking = this.#knocking;
    if (
      knocking !== undefined &&
      knocking.socketId === socket.id &&
      bytesEqual(knocking.groupId, info.groupContext.groupId)
    ) {
      return; // still knocking on this connection
    }
    const suite = info.groupContext.cipherSuite;
    if (!(SUPPORTED_MLS_SUITES as readonly string[]).includes(suite)) {
      throw new KeyServiceError('bad-request', `the group uses an unsupported suite ${suite}`);
    }
    const impl = await this.#suiteImpl(suite);
    const kp = await this.#keyPackage(impl);
    const keyPackage = encodeMlsMessage({
      version: 'mls10',
      wireformat: 'mls_key_package',
      keyPackage: kp.publicPackage,
    });
    this.#knocking = { socketId: socket.id ?? '', groupId: info.groupContext.groupId, impl, kp };
    await this.#request('knock', { keyPackage });
    this.emit('waiting', { reason: 'knocking' });
  }

  /** A host admitted us: the Welcome (RFC 9420 §12.4.3.1) for our KeyPackage brings the group. */
  async #onWelcome(event: Events['welcome']): Promise<void> {
    const knocking = this.#knocking;
    // (A member coming back after its leaf was removed still holds its old state: the Welcome replaces it.)
    if (knocking === undefined) return;
    const message = decodeMessage(event.message);
    if (message?.wireformat !== 'mls_welcome') return;
    const state = await joinGroup(
      message.welcome,
      knocking.kp.publicPackage,
      knocking.kp.privatePackage,
      emptyPskIndex,
      knocking.impl,
      undefined,
      undefined,
      this.#clientConfig(),
    );
    if (!bytesEqual(state.groupContext.groupId, knocking.groupId)) {
      throw new KeyServiceError('forbidden', 'the Welcome is for another group than the one we knocked on');
    }
    if (state.groupContext.extensions.length > 0 && rolesOf(state.groupContext.extensions) === undefined) {
      throw new KeyServiceError('forbidden', "the Welcome's group carries extensions a meeting never has");
    }
    this.#knocking = undefined;
    this.#entry.resolve(undefined);
    await this.#adopt(state, knocking.impl);
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

  #setKnocks(knocks: readonly Events['knock'][]): void {
    this.#knocks.clear();
    for (const k of knocks) this.#addKnock(k, false);
    this.emit('knocks', { knocks: this.knocks });
  }

  #addKnock(knock: Events['knock'], announce = true): void {
    const message = decodeMessage(knock.keyPackage);
    if (message?.wireformat !== 'mls_key_package') return;
    const key = message.keyPackage.leafNode.signaturePublicKey;
    this.#knocks.set(knock.id, { ...knock, fingerprint: fingerprint(key) });
    if (announce) this.emit('knocks', { knocks: this.knocks });
    this.#readmitIfReturning(knock.id, key);
  }

  /**
   * A member whose connection dropped (and whom the others removed as gone) knocks again with the
   * same key: a host admitted that key before, so the host's browser admits it again by itself, for
   * REJOIN_WITHOUT_ADMISSION_MS. The first acting host does it at once, the others if it is still
   * waiting a moment later. A key a host removed is never in this list.
   */
  #readmitIfReturning(knockId: string, key: Uint8Array): void {
    const since = this.#recentlyGone.get(hexOf(key));
    const current = this.#current;
    if (since === undefined || current === undefined || Date.now() - since > REJOIN_WITHOUT_ADMISSION_MS)
      return;
    const rank = current.hosts.indexOf(current.ownLeafIndex);
    if (rank === -1) return;
    setTimeout(() => {
      if (this.#closed || !this.#knocks.has(knockId)) return;
      this.admit(knockId).catch((e: unknown) => this.#warn(e));
    }, rank * 2_000);
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
    const identity = await this.#loadIdentity();
    // The creator is the first host.
    const roles = rolesExtension({
      hosts: [identity.signaturePublicKey],
      lobby: this.#options.lobby ?? false,
      locked: false,
    });
    const state = await createGroup(
      randomBytes(16),
      kp.publicPackage,
      kp.privatePackage,
      [roles],
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

  async #joinExternal(info: GroupInfo, resync: boolean): Promise<void> {
    const suite = info.groupContext.cipherSuite;
    if (!(SUPPORTED_MLS_SUITES as readonly string[]).includes(suite)) {
      throw new KeyServiceError('bad-request', `the group uses an unsupported suite ${suite}`);
    }
    const impl = await this.#suiteImpl(suite);
    const kp = await this.#keyPackage(impl);
    // Resync (RFC 9420 §12.4.3.2): if our own old leaf is still there (reload, lost state), the
    // external commit removes it.
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
  async #commitProposals(proposals: Proposal[], withWelcome = false): Promise<boolean> {
    const { state, impl } = this.#requireGroup();
    const result = await createCommit(
      { state, cipherSuite: impl },
      { wireAsPublicMessage: true, extraProposals: proposals, ratchetTreeExtension: withWelcome },
    );
    const groupInfo = await createGroupInfoWithExternalPubAndRatchetTree(result.newState, [], impl);
    const welcome =
      withWelcome && result.welcome !== undefined
        ? encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: result.welcome })
        : undefined;
    try {
      await this.#request('commit', {
        commit: encodeMlsMessage(result.commit),
        groupInfo: encodeGroupInfo(groupInfo),
        ...(welcome === undefined ? {} : { welcome }),
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
    // An intruder still in this epoch: hold the state (to commit the removal), export no key from it.
    for (const [leaf, key] of this.#intruders) {
      if (!members.some((m) => m.leafIndex === leaf && bytesEqual(m.signatureKey, key)))
        this.#intruders.delete(leaf);
    }
    if (this.#intruders.size > 0) return;
    const roles = rolesOf(state.groupContext.extensions);
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
      hosts: roles === undefined ? [] : actingHosts(roles, members).map((m) => m.leafIndex),
      lobby: roles?.lobby ?? false,
      locked: roles?.locked ?? false,
    };
    this.#current = keys;
    await this.#checkTrust(members);
    this.emit('epoch', keys);
    this.#entry.resolve(undefined);
    this.#joined.resolve(undefined);
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
      case 'welcome':
        void this.#enqueue(() => this.#onWelcome(data as Events['welcome'])).catch((e: unknown) =>
          this.#warn(e),
        );
        return;
      case 'knock':
        this.#addKnock(data as Events['knock']);
        return;
      case 'knock-gone':
        if (this.#knocks.delete((data as Events['knock-gone']).id))
          this.emit('knocks', { knocks: this.knocks });
        return;
      case 'denied': {
        if (this.#state !== undefined || this.#knocking === undefined) return;
        const locked = (data as Events['denied']).reason === 'locked';
        const error = locked
          ? new KeyServiceError('locked', 'This meeting is locked')
          : new KeyServiceError('denied', 'The host did not let you in');
        this.#knocking = undefined;
        this.#entry.reject(error);
        this.#joined.reject(error);
        return;
      }
      case 'lobby-changed':
        // Waiting for the meeting or in its lobby: look again (it started, or the lobby opened).
        // Not after being turned away: that person asks again, if at all, by choice.
        if (this.#state === undefined && !this.#joined.settled)
          void this.#enqueue(() => this.#sync()).catch((e: unknown) => this.#warn(e));
        return;
      case 'proposal':
        // Every change comes as a commit (membership-policy.ts): nothing to do.
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
      rolesOf(state.groupContext.extensions),
      new Set(this.#intruders.keys()),
    );
    if (!verdict.allowed && verdict.violation.code === 'not-admitted') {
      await this.#takeInToRemove(pm, state, impl, epoch, verdict.violation.committer);
      return;
    }
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
      const own = state.privatePath.leafIndex;
      this.#state = undefined;
      this.#current = undefined;
      this.#intruders.clear();
      const byHost = verdict.removedByHost.some((l) => l.leafIndex === own);
      this.emit('removed', { epoch: epoch + 1n, by: verdict.committer.userId, byHost });
      return;
    }
    await this.#adopt(next, impl);
    this.#announce(epoch + 1n, verdict, gone);
  }

  /**
   * An external commit behind the lobby: someone nobody admitted. We follow the group into that
   * epoch only to remove them at once, and send nothing under it (#adopt exports no key while an
   * intruder is in the tree); whoever's removal the key service orders first wins.
   */
  async #takeInToRemove(
    pm: Extract<MLSMessage, { wireformat: 'mls_public_message' }>['publicMessage'],
    state: ClientState,
    impl: CiphersuiteImpl,
    epoch: bigint,
    userId: string | undefined,
  ): Promise<void> {
    const path = pm.content.contentType === 'commit' ? pm.content.commit.path : undefined;
    if (path === undefined) return;
    let next: ClientState;
    try {
      next = (await processPublicMessage(state, pm, emptyPskIndex, impl)).newState;
    } catch {
      return; // not a valid commit: nothing happened
    }
    const key = path.leafNode.signaturePublicKey;
    const leaf = membersOf(next).find((m) => bytesEqual(m.signatureKey, key));
    if (leaf === undefined) return;
    this.#intruders.set(leaf.leafIndex, key);
    this.#state = next;
    this.#options.logger?.warn({ epoch: Number(epoch + 1n) }, 'someone joined without being admitted');
    this.emit('intruder', { epoch: epoch + 1n, userId: userId ?? leaf.userId });
    const gone = this.#guard.snapshot();
    const removal = { proposalType: 'remove' as const, remove: { removed: leaf.leafIndex } };
    const committed = await this.#commitProposals([removal]);
    if (committed) {
      this.#announce(epoch + 2n, { ...removedIntruder(this.userId, leaf) }, gone);
    }
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

  #announce(epoch: bigint, verdict: Announced, gone: GoneView): void {
    const by = verdict.committer.userId;
    const now = Date.now();
    for (const leaf of verdict.removed) {
      const special = verdict.removedByHost.includes(leaf) || verdict.removedIntruders.includes(leaf);
      if (!special && leaf.signatureKey.byteLength > 0 && gone(leaf.userId)) {
        this.#recentlyGone.set(hexOf(leaf.signatureKey), now);
      }
    }
    const ids = (leaves: readonly { userId: string }[]) => [...new Set(leaves.map((l) => l.userId))];
    const special = new Set([...verdict.removedByHost, ...verdict.removedIntruders]);
    const left = ids(verdict.removed.filter((l) => !special.has(l) && l.userId !== by && gone(l.userId)));
    this.emit('membership', {
      epoch,
      kind: verdict.kind,
      by,
      joined: verdict.kind === 'join' ? by : undefined,
      left,
      admitted: verdict.added.map((a) => a.userId),
      removedByHost: ids(verdict.removedByHost),
      intrudersRemoved: ids(verdict.removedIntruders),
      rolesChanged: verdict.roles !== undefined,
    });
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
    if (committed) {
      const leaves = members
        .filter((m) => removed.includes(m.leafIndex))
        .map((m) => ({ leafIndex: m.leafIndex, userId: m.userId, signatureKey: m.signatureKey }));
      this.#announce(
        state.groupContext.epoch + 1n,
        { ...emptyAnnounced(this.userId, 'removal'), removed: leaves },
        gone,
      );
    }
  }
}

type Announced = Pick<
  Extract<Verdict, { allowed: true }>,
  'kind' | 'committer' | 'removed' | 'removedByHost' | 'removedIntruders' | 'added' | 'roles'
>;

function emptyAnnounced(userId: string, kind: CommitKind): Announced {
  return {
    kind,
    committer: { userId, signatureKey: new Uint8Array(), leafIndex: undefined },
    removed: [],
    removedByHost: [],
    removedIntruders: [],
    added: [],
    roles: undefined,
  };
}

function removedIntruder(
  userId: string,
  leaf: { leafIndex: number; userId: string; signatureKey: Uint8Array },
): Announced {
  return { ...emptyAnnounced(userId, 'removal'), removed: [leaf], removedIntruders: [leaf] };
}
