// A meeting's end-to-end encryption: the MLS member (KeyClient) that agrees the group keys with the
// others, and the crypto worker (FrameCryptor) that encrypts every frame we send and decrypts every
// frame we receive. Each MLS epoch gives one SFrame base key; every stream of every member sends
// under its own KID (epochKids.ts). Keys go from the KeyClient straight into the worker (WorkerKeys.ts
// installs them, in order); this class keeps no copy and never logs one. It turns the key client's
// events into what the meeting shows: epoch, members, roles, knocks, notices (membershipNotices.ts).
//
// Fail closed: until the first epoch's keys are installed the worker has no sender key and drops
// every frame; `ready` resolves only after they are, and the meeting produces media only then.
//
// The group's chat lines and hands go up through one narrow channel (GroupChannel.ts), to the store
// that shows them (meeting/GroupMessages.svelte.ts): this layer never imports meeting/.
import { backoffDelayMs } from '@conclave/common/backoff';
import { FrameCryptor, type CryptoState } from '@conclave/crypto-worker/client';
import type { MediaSource } from '@conclave/crypto-worker/sframe';
import {
  IndexedDbKeyStores,
  KeyClient,
  type EpochKeys,
  type HandMessage,
  type KnockInfo,
  type MemberInfo,
  type MembershipChange,
  type Refusal,
} from '@conclave/key-service/client';
import { GroupChannel, type GroupMessaging } from './GroupChannel.ts';
import { FirstSightTrustStore } from './keyTrust.ts';
import { WorkerKeys } from './WorkerKeys.ts';
import {
  membershipNotices,
  rolesNotices,
  rolesOf,
  type MembershipNotice,
  type NoticeDraft,
  type RolesView,
} from './membershipNotices.ts';

export type { MembershipNotice } from './membershipNotices.ts';

export interface KeyChange {
  userId: string;
  previousFingerprint: string;
  fingerprint: string;
}

export type EncryptionStatus = 'starting' | 'ready' | 'rejoining' | 'failed';

/** A key a compared security code vouched for: this exact key of this user id, nothing else. */
export interface VerifiedKey {
  userId: string;
  fingerprint: string;
}

type StateListener = (state: CryptoState) => void;

export class MeetingEncryption {
  status = $state<EncryptionStatus>('starting');
  error = $state<string | null>(null);
  epoch = $state<bigint | null>(null);
  securityCode = $state('');
  members = $state<MemberInfo[]>([]);
  ownLeafIndex = $state(-1);
  keyChanges = $state<KeyChange[]>([]);
  /** User ids whose signature key this browser first saw in this meeting (keyTrust.ts). */
  firstSeen = $state<string[]>([]);
  /** The keys held when you marked the security code as compared (every such set, this meeting). */
  verifiedKeys = $state<VerifiedKey[]>([]);
  /** Set when this browser refused a commit that broke the membership policy (membership-guard.ts). */
  refusal = $state<Refusal | null>(null);
  /** Joins and leaves, newest last. */
  notices = $state<MembershipNotice[]>([]);
  /** Who removed this browser from the meeting keys, when that happened (it then rejoins). */
  removedBy = $state<string | null>(null);
  /** The epoch whose security code you last marked as compared. */
  verifiedEpoch = $state<bigint | null>(null);
  /** Not in the meeting yet: 'knocking' in the lobby, or 'no-meeting' until a host starts it. */
  waiting = $state<'knocking' | 'no-meeting' | null>(null);
  /** Turned away: a host denied us, or the meeting is locked. */
  turnedAway = $state<'denied' | 'locked' | null>(null);
  /** A host removed us while we were here: the meeting ends for us (no rejoin). */
  removedByHost = $state(false);
  /** People waiting in the lobby (hosts answer them). */
  knocks = $state<KnockInfo[]>([]);
  /** Leaf indexes of the members acting as hosts, from the group itself. */
  hosts = $state<number[]>([]);
  lobby = $state(false);
  locked = $state(false);
  /** This browser's signature key fingerprint (what hosts see when we knock). */
  fingerprint = $state<string | null>(null);
  readonly isHost = $derived(this.hosts.includes(this.ownLeafIndex));

  /** Resolves once the first epoch's keys are in the worker. */
  readonly ready: Promise<void>;
  /** Resolves once we may enter the meeting's media (at once, or when a host admitted us); rejects
   *  when we are turned away. */
  readonly entry: Promise<void>;
  #entered: { resolve: () => void; reject: (error: Error) => void } | undefined;
  /** Who waits for the next epoch's keys (nextKeys). */
  #keyWaiters: Array<() => void> = [];
  readonly #onRemovedByHost: ((by: string) => void) | undefined;
  /** The roles as last announced, to say what a host's change changed. */
  #lastRoles: RolesView | undefined;
  /** Resolves once the crypto worker runs: transforms can be attached from then on. */
  readonly workerReady: Promise<void>;
  /** The group's chat and hands, end-to-end encrypted (meeting/GroupMessages.svelte.ts shows them). */
  readonly group: GroupMessaging;
  readonly #group: GroupChannel;
  readonly userId: string;
  readonly #token: () => string;
  readonly #stores: IndexedDbKeyStores;
  readonly #trust: FirstSightTrustStore;
  // Bookkeeping the UI never reads: no reactivity needed.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #stateListeners = new Map<string, StateListener>();
  #cryptor: FrameCryptor | undefined;
  #keys: WorkerKeys | undefined;
  #client: KeyClient | undefined;
  #resolveReady: () => void = () => {};
  #workerStarted: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #installs: Promise<void> = Promise.resolve();
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #restarts = 0;
  #noticeIds = 0;
  #closed = false;

  static isSupported(): boolean {
    return FrameCryptor.isSupported();
  }

  /** Browsers whose RTCPeerConnection must be created with `encodedInsertableStreams: true`. */
  static needsEncodedInsertableStreams(): boolean {
    return FrameCryptor.supportedPath() === 'encoded-streams';
  }

  constructor(options: { userId: string; token: () => string; onRemovedByHost?: (by: string) => void }) {
    this.userId = options.userId;
    this.#onRemovedByHost = options.onRemovedByHost;
    this.#token = options.token;
    // One MLS identity per user id: two tabs of this browser are two members with their own keys.
    this.#stores = new IndexedDbKeyStores(indexedDB, `user:${options.userId}`);
    this.#trust = new FirstSightTrustStore(this.#stores);
    this.ready = new Promise<void>((resolve) => (this.#resolveReady = resolve));
    this.entry = new Promise<void>((resolve, reject) => (this.#entered = { resolve, reject }));
    this.entry.catch(() => undefined);
    this.workerReady = new Promise<void>((resolve, reject) => (this.#workerStarted = { resolve, reject }));
    this.workerReady.catch(() => undefined); // start() reports the failure
    this.#group = new GroupChannel(options.userId, () =>
      this.status === 'ready' ? this.#client : undefined,
    );
    this.group = this.#group;
  }

  /** Starts the worker, then joins the MLS group; retries on its own if joining fails. */
  async start(): Promise<void> {
    try {
      this.#cryptor = await FrameCryptor.create({ suite: 4 });
    } catch (error) {
      this.#workerStarted?.reject(error as Error);
      this.#entered?.reject(error as Error);
      throw error;
    }
    this.#workerStarted?.resolve();
    this.#cryptor.onStatus((s) => this.#stateListeners.get(s.attachmentId)?.(s.state));
    this.#keys = new WorkerKeys(this.#cryptor);
    await this.#joinGroup();
  }

  /** Encrypts everything `sender` sends. Call before the sender's first frame (mediasoup's
   *  `onRtpSender` runs before negotiation). */
  attachSender(sender: RTCRtpSender, source: MediaSource, onState: StateListener): void {
    const attaching = this.#requireCryptor().attachSender(sender, source);
    this.#track(attaching, onState);
  }

  /** Decrypts what `receiver` gets; frames must authenticate under `userId`'s `source` KID. */
  attachReceiver(
    receiver: RTCRtpReceiver,
    from: { userId: string; source: MediaSource },
    onState: StateListener,
  ): void {
    const attaching = this.#requireCryptor().attachReceiver(receiver, {
      participantId: from.userId,
      context: from.source,
    });
    this.#track(attaching, onState);
  }

  /** The session was renewed: the key-service connection takes the fresh token (see KeyClient.renew). */
  renewConnection(): void {
    this.#client?.renew().catch((e: unknown) => {
      console.warn(`renewing the key-service connection failed: ${(e as Error).message}`);
    });
  }

  /** The person confirmed the new key of `userId` (e.g. compared fingerprints aloud). */
  async acceptKeyChange(userId: string): Promise<void> {
    await this.#client?.acceptKey(userId);
    this.keyChanges = this.keyChanges.filter((k) => k.userId !== userId);
  }

  /** You compared the current security code with everyone: every key of this epoch is vouched for. */
  markCodeVerified(): void {
    if (this.epoch === null) return;
    this.verifiedEpoch = this.epoch;
    const fresh = this.members
      .filter((m) => !this.verifiedKeys.some((v) => v.fingerprint === m.fingerprint && v.userId === m.userId))
      .map((m) => ({ userId: m.userId, fingerprint: m.fingerprint }));
    this.verifiedKeys = [...this.verifiedKeys, ...fresh];
  }

  // ---- host actions: each is a host's commit, checked by every member (membership-policy.ts) ----

  async admit(knockId: string): Promise<void> {
    await this.#requireClient().admit(knockId);
  }

  async deny(knockId: string): Promise<void> {
    await this.#requireClient().deny(knockId);
  }

  async removeMember(leafIndex: number): Promise<void> {
    await this.#requireClient().removeMember(leafIndex);
  }

  async makeHost(leafIndex: number): Promise<void> {
    await this.#requireClient().makeHost(leafIndex);
  }

  async setLobby(on: boolean): Promise<void> {
    await this.#requireClient().setLobby(on);
  }

  async setLocked(on: boolean): Promise<void> {
    await this.#requireClient().setLocked(on);
  }

  /** Before we leave: the last host here passes the role on (KeyClient.handOver). */
  async handOver(): Promise<void> {
    if (this.isHost) await this.#client?.handOver().catch(() => false);
  }

  #requireClient(): KeyClient {
    if (this.#client === undefined || this.status !== 'ready')
      throw new Error('the meeting keys are not ready');
    return this.#client;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#keys?.close();
    clearTimeout(this.#restartTimer);
    this.#client?.close();
    this.#cryptor?.close();
    this.#stateListeners.clear();
  }

  #track(attaching: Promise<string>, onState: StateListener): void {
    onState('missing-key');
    attaching.then(
      (attachmentId) => this.#stateListeners.set(attachmentId, onState),
      (error: unknown) => {
        onState('failing');
        console.warn(`attaching a frame transform failed: ${(error as Error).message}`);
      },
    );
  }

  #newClient(): KeyClient {
    this.#client?.close();
    const client = new KeyClient({
      url: '/keys',
      token: this.#token,
      userId: this.userId,
      identityStore: this.#stores,
      trustStore: this.#trust,
      sframeKeyLength: 16,
      // New meetings start with the lobby on (this only matters when this session creates the group).
      lobby: true,
    });
    client.entry.then(
      () => {
        if (client !== this.#client) return;
        this.waiting = null;
        this.#entered?.resolve();
      },
      (error: unknown) => {
        if (client !== this.#client) return;
        const code = (error as { code?: string }).code;
        this.turnedAway = code === 'locked' ? 'locked' : code === 'denied' ? 'denied' : null;
        this.#entered?.reject(error as Error);
      },
    );
    client.on('waiting', ({ reason }) => {
      if (client !== this.#client) return;
      this.waiting = reason;
      void client.ownFingerprint().then((f) => (this.fingerprint = f));
    });
    client.on('knocks', ({ knocks }) => {
      // As the server's knocks say: two under one name are told apart where they are shown.
      if (client === this.#client) this.knocks = knocks;
    });
    client.on('intruder', () => {
      if (client === this.#client) this.#notify([{ kind: 'intruder', userId: '', by: '' }]);
    });
    client.on('epoch', (keys) => this.#onEpoch(client, keys));
    client.on('chat', ({ from, text }) => {
      if (client === this.#client) this.#group.publish({ kind: 'chat', from: from.userId, text });
    });
    client.on('hand', (message) => this.#onHand(client, message));
    client.on('key-changed', (change) => {
      if (client !== this.#client) return;
      this.keyChanges = [...this.keyChanges.filter((k) => k.userId !== change.userId), change];
    });
    client.on('removed', ({ by, byHost }) => {
      if (client !== this.#client) return;
      this.removedBy = by;
      if (byHost) {
        // "Remove Bob": our keys go, and we do not come back on our own.
        this.removedByHost = true;
        void this.#forgetKeys();
        this.#onRemovedByHost?.(by);
        return;
      }
      void this.#rejoin('This browser was removed from the meeting keys.');
    });
    client.on('membership', (change) => {
      if (client === this.#client) this.#onMembership(change);
    });
    client.on('membership-refused', (refusal) => {
      // Nothing else changes: the worker keeps the keys of the last accepted epoch, which the
      // refused commit's newcomers never held, and nobody rejoins the server's group on their own.
      if (client === this.#client) this.refusal = refusal;
    });
    client.on('out-of-sync', ({ message }) => {
      if (client === this.#client) void this.#rejoin(`The meeting keys could not catch up (${message}).`);
    });
    client.on('warning', ({ message }) => console.warn(`key service: ${message}`));
    this.#client = client;
    this.#group.publish({ kind: 'new-group' });
    return client;
  }

  async #joinGroup(): Promise<void> {
    const client = this.#client ?? this.#newClient();
    try {
      await client.start();
      this.#restarts = 0;
    } catch (error) {
      if (client === this.#client) await this.#rejoin((error as Error).message);
    }
  }

  /** Stops sending (no key: frames are dropped), then joins the group afresh after a delay. */
  async #rejoin(reason: string): Promise<void> {
    if (this.#closed) return;
    this.#client?.close();
    this.#client = undefined;
    this.status = 'rejoining';
    this.error = reason;
    await this.#keys?.clearSenders();
    this.#restarts += 1;
    const delay = backoffDelayMs(this.#restarts);
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (this.#closed) return;
      this.#newClient();
      void this.#joinGroup();
    }, delay);
  }

  /** Epochs install one after another, in the order they arrive. */
  #onEpoch(client: KeyClient, keys: EpochKeys): void {
    this.#installs = this.#installs
      .then(() => (client === this.#client && !this.#closed ? this.#install(keys) : undefined))
      .catch((error: unknown) => {
        console.warn(`installing epoch keys failed: ${(error as Error).message}`);
        void this.#rejoin('The meeting keys could not be installed.');
      });
  }

  /** The epoch's keys into the worker (WorkerKeys), then what the meeting shows of the epoch. */
  async #install(keys: EpochKeys): Promise<void> {
    if (this.#keys === undefined) throw new Error('the crypto worker is not running');
    await this.#keys.install(keys);
    this.epoch = keys.epoch;
    this.securityCode = keys.securityCode;
    this.members = keys.members;
    this.firstSeen = [...this.#trust.firstSeen];
    this.ownLeafIndex = keys.ownLeafIndex;
    this.hosts = keys.hosts;
    this.lobby = keys.lobby;
    this.locked = keys.locked;
    this.#lastRoles ??= rolesOf(keys);
    this.status = 'ready';
    this.error = null;
    // Holding an epoch's keys means being in the group: a knock as a returning member is over.
    this.waiting = null;
    this.#resolveReady();
    for (const resolve of this.#keyWaiters.splice(0)) resolve();
    // The client's roster, not this epoch's: hands of a later epoch may have arrived meanwhile.
    const roster = this.#client?.current?.members ?? keys.members;
    this.#group.publish({ kind: 'keys', members: roster.map((m) => m.userId) });
  }

  /** Resolves when the keys of a later epoch than the current one are in place. */
  nextKeys(): Promise<void> {
    return new Promise((resolve) => this.#keyWaiters.push(resolve));
  }

  #onMembership(change: MembershipChange): void {
    const fresh = membershipNotices(change, this.userId);
    const current = this.#client?.current;
    if (change.rolesChanged && current !== undefined) {
      fresh.push(...rolesNotices(this.#lastRoles, current, change.by));
      this.#lastRoles = rolesOf(current);
    }
    this.#notify(fresh);
  }

  #notify(fresh: NoticeDraft[]): void {
    const at = Date.now();
    // The last few are enough for the announcements; older ones are gone from the screen anyway.
    if (fresh.length > 0) {
      const stamped = fresh.map((n) => ({ ...n, id: ++this.#noticeIds, at }));
      this.notices = [...this.notices, ...stamped].slice(-20);
    }
  }

  /** Removed by a host: the worker forgets every key, so nothing more is sent or read. */
  async #forgetKeys(): Promise<void> {
    this.#client?.close();
    this.status = 'failed';
    await this.#keys?.forgetAll();
  }

  #onHand(client: KeyClient, message: HandMessage): void {
    // A late message from someone who has since left is ignored. (The client's roster:
    // this.members is updated only once the epoch's keys are installed.)
    if (client !== this.#client) return;
    if (!client.current?.members.some((m) => m.userId === message.from.userId)) return;
    this.#group.publish({ kind: 'hand', from: message.from.userId, raised: message.raised });
  }

  #requireCryptor(): FrameCryptor {
    if (this.#cryptor === undefined) throw new Error('the crypto worker is not running');
    return this.#cryptor;
  }
}
