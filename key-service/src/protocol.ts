// Browser ↔ key service protocol (socket.io namespace '/keys'). Types first, then the run-time
// schemas the server applies to every inbound message before any handler sees it.
//
// Every client → server message is a request with a socket.io acknowledgement carrying
// `{ ok: true, result } | { ok: false, error: { code, message, epoch? } }`. Server → client messages
// are one-way events. MLS messages travel as binary (TLS-encoded `MLSMessage`, RFC 9420 §6); the key
// service reads only their public framing (group id, epoch, sender, signatures), never a secret.
import { z } from 'zod';

export const KEY_SERVICE_NAMESPACE = '/keys';

export const DEFAULT_MLS_SUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';
export const PQ_MLS_SUITE = 'MLS_256_XWING_AES256GCM_SHA512_Ed25519';
export const SUPPORTED_MLS_SUITES = [DEFAULT_MLS_SUITE, PQ_MLS_SUITE] as const;
export type MlsSuiteName = (typeof SUPPORTED_MLS_SUITES)[number];

/** Every code a key-service error carries, on the wire and in `KeyServiceError.code`: a closed set. */
export const KEY_SERVICE_ERROR_CODES = [
  'bad-request',
  'too-large',
  'unauthorized',
  'forbidden',
  'not-member',
  'stale-epoch',
  'invalid-state',
  'rate-limited',
  'too-many-connections',
  'not-in-meeting',
  'server-full',
  'locked',
  'denied',
  'not-your-turn',
  // Cluster mode only (CONCLAVE_REDIS_URL; docs/cluster.md): another node owns the room (the error
  // names it), this node's hold on the room is out of date, this node may no longer commit for the
  // room, or the cluster store cannot be reached (retry later).
  'wrong-node',
  'stale-generation',
  'fenced',
  'unavailable',
  'internal',
] as const;
export type KeyServiceErrorCode = (typeof KEY_SERVICE_ERROR_CODES)[number];

export interface WireError {
  code: KeyServiceErrorCode;
  message: string;
  /** With 'stale-epoch' (and 'invalid-state' about the group): the room's current epoch. */
  epoch?: number;
}

export type Ack<T> = { ok: true; result: T } | { ok: false; error: WireError };

/** Limits; the defaults hold a 200-member X-Wing group (its GroupInfo with a full tree is ≈ 560 kB;
 *  group-info-limits.ts also bounds it by the number of members). */
export interface KeyServiceLimits {
  /** A GroupInfo with its ratchet tree. */
  maxGroupInfoBytes: number;
  /** A commit, proposal or welcome. */
  maxHandshakeBytes: number;
  /** An application message (chat: at most 2000 characters, so ≈ 8 kB of UTF-8, plus MLS framing). */
  maxApplicationBytes: number;
  /** Sockets one session (room and user id) may hold at once: tabs of a named invite, reconnections. */
  maxSocketsPerSession: number;
  /** Token bucket per socket: sustained requests per second and burst. */
  ratePerSecond: number;
  rateBurst: number;
  /** How long a member asked to commit a removal has before the next one is asked. */
  removalTimeoutMs: number;
  /** How long a joiner holds its turn at the external commit (join-turns.ts) before the next one's. */
  joinTurnMs: number;
  maxMembersPerRoom: number;
  /** Rooms with a connected socket at once; a socket for one more is refused at the handshake. */
  maxRooms: number;
}

export const DEFAULT_LIMITS: KeyServiceLimits = {
  maxGroupInfoBytes: 640 * 1024,
  maxHandshakeBytes: 256 * 1024,
  maxApplicationBytes: 16 * 1024,
  maxSocketsPerSession: 4,
  ratePerSecond: 20,
  rateBurst: 60,
  removalTimeoutMs: 3000,
  joinTurnMs: 2000,
  maxMembersPerRoom: 1000,
  maxRooms: 10_000,
};

// ---- client → server requests --------------------------------------------------------------

export interface SyncResult {
  /** null while the room has no group yet (or after a key-service restart, until someone re-publishes). */
  epoch: number | null;
  groupInfo: Uint8Array | null;
  /** User ids with a socket in the room (presence, not membership: the roster is the MLS tree). */
  online: string[];
  /** People waiting in the lobby; only members are told. */
  knocks: Knock[];
  /** This socket's session came from a host invite: if there is no group, it may create one. */
  host: boolean;
}

/** Someone in the lobby: the KeyPackage a host's Add would admit (its leaf names `userId`). */
export interface Knock {
  id: string;
  userId: string;
  /** The display name of the knocker's session: the server's word, shown beside the key's fingerprint. */
  name: string;
  keyPackage: Uint8Array;
}

export interface Requests {
  /** What the key service knows about the room. */
  sync: { args: Record<string, never>; result: SyncResult };
  /** Create the group (room has none) or re-publish its GroupInfo after a key-service restart. */
  publish: { args: { groupInfo: Uint8Array }; result: { epoch: number } };
  /** A commit for the current epoch plus the GroupInfo of the epoch it creates; a host's admission
   *  carries the Welcome for the admitted. */
  commit: {
    args: { commit: Uint8Array; groupInfo: Uint8Array; welcome?: Uint8Array };
    result: { epoch: number };
  };
  /** Waits in the lobby with this MLS KeyPackage (MLSMessage, mls_key_package). */
  knock: { args: { keyPackage: Uint8Array }; result: { id: string } };
  /** A host turns someone in the lobby away. */
  deny: { args: { id: string }; result: Record<string, never> };
  proposal: { args: { message: Uint8Array }; result: Record<string, never> };
  /** An MLS application message (chat). */
  app: { args: { message: Uint8Array }; result: Record<string, never> };
  /** A Welcome for one user of the room. */
  welcome: { args: { to: string; message: Uint8Array }; result: Record<string, never> };
  /** A fresh session token for this socket's room and user: the socket outlives the old one's expiry. */
  renew: { args: { token: string }; result: { expiresAt: number } };
  /** Waits for this socket's turn at the external commit (answered when it begins), with the
   *  GroupInfo of the epoch to join then. A scheduling aid: see server/join-turns.ts. */
  turn: { args: Record<string, never>; result: TurnResult };
}

export interface TurnResult {
  epoch: number;
  groupInfo: Uint8Array;
}
export type RequestName = keyof Requests;

// ---- server → client events ----------------------------------------------------------------

export interface Events {
  /** An accepted commit; `epoch` is the epoch it creates. */
  commit: { epoch: number; commit: Uint8Array; from: string };
  proposal: { epoch: number; message: Uint8Array; from: string };
  app: { epoch: number; message: Uint8Array; from: string };
  welcome: { message: Uint8Array; from: string };
  /** Signaling reported this user gone; members drop it from their view of presence. */
  'peer-gone': { userId: string };
  /** Asks this member to commit the removal of `leaves` (all held by `userId`) in `epoch`. */
  'remove-request': { epoch: number; userId: string; leaves: number[] };
  presence: { online: string[] };
  /** To members: someone knocked. */
  knock: Knock;
  /** To members: a knock was answered or withdrawn. */
  'knock-gone': { id: string };
  /** To the knocker: not let in (`denied` by a host, or the meeting was `locked`). */
  denied: { reason: 'denied' | 'locked' };
  /** To those waiting: the group appeared or its lobby or lock changed; look again (sync). */
  'lobby-changed': Record<string, never>;
}
export type EventName = keyof Events;

// ---- schemas (server side: inbound requests; client side: inbound events) ------------------

/**
 * Binary as socket.io delivers it: Buffer/Uint8Array in Node, ArrayBuffer in browsers; never empty.
 *
 * @param max the largest size accepted; a larger field fails with an issue tagged 'too-large'
 */
export function bytes(max: number) {
  return z
    .union([z.instanceof(Uint8Array), z.instanceof(ArrayBuffer)])
    .transform((b) =>
      b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
    )
    .refine((b) => b.byteLength > 0, 'empty binary field')
    .refine((b) => b.byteLength <= max, {
      message: `binary field larger than ${max} bytes`,
      params: { code: 'too-large' satisfies KeyServiceErrorCode },
    });
}

/** The error code a failed request parse answers with: 'too-large' when a binary field was over its
 *  limit (tagged by `bytes`), 'bad-request' otherwise. Decided by the issue's tag, not its text. */
export function parseErrorCode(issues: readonly z.core.$ZodIssue[]): 'too-large' | 'bad-request' {
  return issues.some((i) => i.code === 'custom' && i.params?.['code'] === 'too-large')
    ? 'too-large'
    : 'bad-request';
}

export const userIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
const knockIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16,32}$/);
/** An X-Wing KeyPackage is about 2.7 kB; X25519 about 400 bytes. */
export const MAX_KEY_PACKAGE_BYTES = 8 * 1024;
const knockSchema = z.object({
  id: knockIdSchema,
  userId: userIdSchema,
  name: z.string().min(1).max(64),
  keyPackage: bytes(MAX_KEY_PACKAGE_BYTES),
});
const epochSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** The schema of every request's arguments (the key service applies them before any handler). */
export function requestSchemas(limits: KeyServiceLimits) {
  return {
    sync: z.object({}).strict(),
    publish: z.object({ groupInfo: bytes(limits.maxGroupInfoBytes) }).strict(),
    commit: z
      .object({
        commit: bytes(limits.maxHandshakeBytes),
        groupInfo: bytes(limits.maxGroupInfoBytes),
        welcome: bytes(limits.maxHandshakeBytes).optional(),
      })
      .strict(),
    knock: z.object({ keyPackage: bytes(MAX_KEY_PACKAGE_BYTES) }).strict(),
    deny: z.object({ id: knockIdSchema }).strict(),
    proposal: z.object({ message: bytes(limits.maxHandshakeBytes) }).strict(),
    app: z.object({ message: bytes(limits.maxApplicationBytes) }).strict(),
    welcome: z.object({ to: userIdSchema, message: bytes(limits.maxHandshakeBytes) }).strict(),
    renew: z.object({ token: z.string().min(1).max(4096) }).strict(),
    turn: z.object({}).strict(),
  } satisfies Record<RequestName, z.ZodType>;
}

/** The schema of every event (the client applies them before its logic sees one). */
export function eventSchemas(limits: KeyServiceLimits) {
  return {
    commit: z.object({ epoch: epochSchema, commit: bytes(limits.maxHandshakeBytes), from: userIdSchema }),
    proposal: z.object({ epoch: epochSchema, message: bytes(limits.maxHandshakeBytes), from: userIdSchema }),
    app: z.object({ epoch: epochSchema, message: bytes(limits.maxApplicationBytes), from: userIdSchema }),
    welcome: z.object({ message: bytes(limits.maxHandshakeBytes), from: userIdSchema }),
    'peer-gone': z.object({ userId: userIdSchema }),
    'remove-request': z.object({
      epoch: epochSchema,
      userId: userIdSchema,
      leaves: z.array(z.number().int().min(0).max(1_000_000)).max(64),
    }),
    presence: z.object({ online: z.array(userIdSchema).max(10_000) }),
    knock: knockSchema,
    'knock-gone': z.object({ id: knockIdSchema }),
    denied: z.object({ reason: z.enum(['denied', 'locked']) }),
    'lobby-changed': z.object({}),
  } satisfies Record<EventName, z.ZodType>;
}

/** An acknowledgement as the client receives it: an error's code must be one of ours, its message
 *  short text (a hostile server's answer is validated like any other input). */
export const wireErrorSchema = z.object({
  code: z.enum(KEY_SERVICE_ERROR_CODES),
  message: z.string().max(1000),
  epoch: epochSchema.optional(),
});
export const ackSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: wireErrorSchema }),
]);

/** The schema of a `sync` result, as the client checks it. */
export function syncResultSchema(limits: KeyServiceLimits) {
  return z.object({
    epoch: epochSchema.nullable(),
    groupInfo: bytes(limits.maxGroupInfoBytes).nullable(),
    online: z.array(userIdSchema),
    knocks: z.array(knockSchema).max(1000),
    host: z.boolean(),
  });
}

/** The schema of a `turn` result, as the client checks it. */
export function turnResultSchema(limits: KeyServiceLimits) {
  return z.object({ epoch: epochSchema, groupInfo: bytes(limits.maxGroupInfoBytes) });
}
