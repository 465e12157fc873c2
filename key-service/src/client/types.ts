// The key client's public data types: what one epoch gives the media layer, what the client tells
// its owner (events), and how it is configured. No behaviour lives here.
//
// Must hold: `EpochKeys.baseKey` is secret and never logged; every `from` is the MLS-authenticated
// sender (decrypted sender data and signature), never a claim of the server or of the message body.
import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import type { CiphersuiteName, CryptoProvider } from 'ts-mls';
import type { CommitKind } from '../membership-policy.ts';
import type { KeyServiceLimits, MlsSuiteName } from '../protocol.ts';
import type { Refusal } from './membership-guard.ts';
import type { IdentityStore, TrustStore } from './stores.ts';

/** A member of the group, read from the MLS ratchet tree (never from the server's presence list). */
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
