// What the key service's parts share: its options (how it authenticates, and what signaling tells
// it in-process), and the context its admission, request routing and handlers run in.
//
// Must hold: the context hands out the service's own state (rooms, limits, stats), never a copy, and
// `later` timers are cleared when the service closes.
import type { Namespace } from 'socket.io';
import type { KeyServiceLimits } from '../protocol.ts';
import type { ClusterCommits, ClusterGate } from './cluster-gate.ts';
import type { Logger } from './logger.ts';
import type { KeyRoom } from './room.ts';
import type { KeyServiceStats } from './stats.ts';

/** Who a session token names, as `KeyServiceOptions.authenticate` returns it. */
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
  /**
   * Cluster mode (docs/cluster.md): admits sockets only for rooms this node owns, and fences every
   * commit through the cluster before it lands. Unset (Conclave alone): neither happens.
   */
  cluster?: ClusterGate;
}

/** The key service's shared state, as its parts see it. */
export interface ServiceContext {
  readonly namespace: Namespace;
  readonly limits: KeyServiceLimits;
  readonly logger: Logger;
  readonly stats: KeyServiceStats;
  readonly options: KeyServiceOptions;
  /** Rooms with a connected socket, by room id. */
  readonly rooms: Map<string, KeyRoom>;
  /** Cluster mode only: the commit fence and the door (cluster-gate.ts). */
  readonly cluster: ClusterCommits | undefined;
  /** False only through the test-only switch (KeyService.unsafeDisableMembershipPolicy). */
  policyEnforced(): boolean;
  closed(): boolean;
  /** Runs `task` after `ms`, unless the service closes first. */
  later(ms: number, task: () => void): void;
}
