// The meeting's roles, recorded in the MLS group itself: a GroupContext extension of Conclave's own
// (RFC 9420 §13.3, private-use type) listing the hosts' signature keys and whether the lobby and the
// lock are on. Every member reads it from its own group state, so the server's word never makes a
// host; only a host's commit (a GroupContextExtensions proposal, checked by membership-policy.ts on
// every client) changes it.
//
// Wire format (TLS presentation style, all lengths explicit):
//   uint8 version (1) | uint8 flags (bit 0 lobby, bit 1 locked; others zero)
//   uint8 host count (1..MAX_HOSTS) | count × (uint8 key length (32) | key bytes)
//
// Who acts as host: the members whose signature key is listed. When none of them is in the group any
// more, and the lobby is on, the member with the lowest leaf index does: every member of a lobby
// meeting was admitted by a host, so the role passes to someone a host let in, and the server (which
// cannot be admitted without a host) can never inherit it. With the lobby off nobody inherits: the
// meeting goes on without host actions, and anyone with an invite still joins.
import type { Extension } from 'ts-mls';
import { bytesEqual } from '@conclave/common/bytes';

/** Private-use extension type (RFC 9420 §17.3: 0xF000–0xFFFF). */
export const ROLES_EXTENSION_TYPE = 0xf0c1;
const VERSION = 1;
const SIGNATURE_KEY_BYTES = 32; // Ed25519, the signature scheme of both supported suites
export const MAX_HOSTS = 16;
const LOBBY = 1;
const LOCKED = 2;

export interface Roles {
  /** Signature public keys of the hosts. */
  hosts: Uint8Array[];
  /** Only people a host admitted may join. */
  lobby: boolean;
  /** Nobody new may join or knock. */
  locked: boolean;
}

export interface RolesLeaf {
  leafIndex: number;
  signatureKey: Uint8Array;
}

/**
 * The roles extension's bytes: version, flags (lobby, locked), then each host's signature key.
 *
 * @throws {RangeError} with no host, more than MAX_HOSTS, or a host key that is not 32 bytes
 */
export function encodeRoles(roles: Roles): Uint8Array {
  if (roles.hosts.length === 0 || roles.hosts.length > MAX_HOSTS) {
    throw new RangeError(`a meeting has 1 to ${MAX_HOSTS} hosts`);
  }
  const out = new Uint8Array(3 + roles.hosts.length * (1 + SIGNATURE_KEY_BYTES));
  out[0] = VERSION;
  out[1] = (roles.lobby ? LOBBY : 0) | (roles.locked ? LOCKED : 0);
  out[2] = roles.hosts.length;
  let at = 3;
  for (const key of roles.hosts) {
    if (key.byteLength !== SIGNATURE_KEY_BYTES) throw new RangeError('a host key is 32 bytes');
    out[at] = SIGNATURE_KEY_BYTES;
    out.set(key, at + 1);
    at += 1 + SIGNATURE_KEY_BYTES;
  }
  return out;
}

/** The roles an extension carries, or undefined when its bytes are not exactly a valid encoding. */
export function decodeRoles(data: Uint8Array): Roles | undefined {
  if (data.byteLength < 3 || data[0] !== VERSION) return undefined;
  const flags = data[1] ?? 0;
  const count = data[2] ?? 0;
  if ((flags & ~(LOBBY | LOCKED)) !== 0 || count === 0 || count > MAX_HOSTS) return undefined;
  if (data.byteLength !== 3 + count * (1 + SIGNATURE_KEY_BYTES)) return undefined;
  const hosts: Uint8Array[] = [];
  for (let i = 0, at = 3; i < count; i++, at += 1 + SIGNATURE_KEY_BYTES) {
    if (data[at] !== SIGNATURE_KEY_BYTES) return undefined;
    const key = data.slice(at + 1, at + 1 + SIGNATURE_KEY_BYTES);
    if (hosts.some((h) => bytesEqual(h, key))) return undefined; // listed twice
    hosts.push(key);
  }
  return { hosts, lobby: (flags & LOBBY) !== 0, locked: (flags & LOCKED) !== 0 };
}

/**
 * The group context extension that carries `roles` (what a host's commit puts in the group).
 *
 * @throws {RangeError} as encodeRoles
 * @example
 * ```ts
 * const ext = rolesExtension({ hosts: [ownSignatureKey], lobby: true, locked: false });
 * ```
 */
export function rolesExtension(roles: Roles): Extension {
  return { extensionType: ROLES_EXTENSION_TYPE, extensionData: encodeRoles(roles) };
}

/**
 * The roles of a group context's extensions: undefined when the context carries none, or anything
 * besides exactly one valid roles extension (a Conclave meeting carries nothing else).
 */
export function rolesOf(extensions: readonly Extension[]): Roles | undefined {
  if (extensions.length !== 1) return undefined;
  const [only] = extensions;
  if (only === undefined || only.extensionType !== ROLES_EXTENSION_TYPE) return undefined;
  return decodeRoles(only.extensionData);
}

/** Whether `key` is a listed host. */
export function isListedHost(roles: Roles, key: Uint8Array): boolean {
  return roles.hosts.some((h) => bytesEqual(h, key));
}

/** The leaves that act as hosts now (see the file header for the rule when no listed host is left). */
export function actingHosts<L extends RolesLeaf>(roles: Roles, leaves: readonly L[]): L[] {
  const listed = leaves.filter((l) => isListedHost(roles, l.signatureKey));
  if (listed.length > 0 || !roles.lobby) return listed;
  const first = [...leaves].sort((a, b) => a.leafIndex - b.leafIndex)[0];
  return first === undefined ? [] : [first];
}

/** Whether the leaf at `leafIndex` acts as a host now (see actingHosts). */
export function actsAsHost(roles: Roles, leaves: readonly RolesLeaf[], leafIndex: number): boolean {
  return actingHosts(roles, leaves).some((l) => l.leafIndex === leafIndex);
}
