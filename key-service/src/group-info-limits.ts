// What a Conclave group's public GroupInfo may look like (RFC 9420 §12.4.3): only the two extensions a
// joiner needs (external_pub and ratchet_tree), no group-context extension but the meeting's roles
// (roles.ts, at most a few hundred bytes), leaves whose credential
// is a user id and which carry no extensions, capability lists of a sane length, and a size in
// proportion to the number of members.
//
// Why: the key service hands the GroupInfo to every joiner and every `sync`. Left unchecked, one
// member could publish a 1.4 MB GroupInfo that the service then sends to everyone again and again,
// or a group-context extension no client supports, after which nobody can join or rejoin. Checked by
// the key service on every publish and commit, and by clients before they join a group.
//
// Yardstick, measured with ts-mls 1.6 (64-character user ids): a 200-member group's GroupInfo is
// 57 kB with X25519 (about 286 bytes a member) and 305 kB with X-Wing (1.5 kB a member) after one
// full-tree commit; with every parent node populated an X-Wing tree reaches about 560 kB. The
// allowance below (1 kB and 4 kB a member, plus 4 kB) leaves room for that, and the absolute cap
// (DEFAULT_LIMITS.maxGroupInfoBytes, 640 KiB) holds a 200-member X-Wing group.
import type { CiphersuiteName, GroupInfo, RatchetTree } from 'ts-mls';
import { credentialUserId } from './membership-policy.ts';
import { rolesOf } from './roles.ts';

/** Bytes a member may add to the GroupInfo, per MLS suite (a post-quantum KEM key is 1216 bytes). */
const BYTES_PER_MEMBER: Partial<Record<CiphersuiteName, number>> = {
  MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519: 1024,
  MLS_256_XWING_AES256GCM_SHA512_Ed25519: 4096,
};
const BASE_BYTES = 4096;
/** Entries in each capability list of a leaf (ts-mls 1.6 lists 20 suites and a GREASE value). */
const MAX_CAPABILITY_ENTRIES = 32;
const ALLOWED_GROUP_INFO_EXTENSIONS = new Set(['external_pub', 'ratchet_tree']);

/** The largest GroupInfo a group of `members` may publish in `suite`. */
export function groupInfoAllowance(suite: CiphersuiteName, members: number, absoluteMax: number): number {
  const perMember = BYTES_PER_MEMBER[suite] ?? 4096;
  return Math.min(absoluteMax, BASE_BYTES + perMember * Math.max(1, members));
}

/**
 * Why this GroupInfo is not one a Conclave group publishes, or undefined when it is.
 * `tree` is its decoded ratchet tree; `byteLength` the size of the encoded MLSMessage.
 */
export function groupInfoShapeProblem(
  info: GroupInfo,
  tree: RatchetTree,
  byteLength: number,
  absoluteMax: number,
): string | undefined {
  const seen = new Set<string>();
  for (const extension of info.extensions) {
    const type = String(extension.extensionType);
    if (!ALLOWED_GROUP_INFO_EXTENSIONS.has(type)) return `the GroupInfo carries a ${type} extension`;
    if (seen.has(type)) return `the GroupInfo carries two ${type} extensions`;
    seen.add(type);
  }
  const contextExtensions = info.groupContext.extensions;
  if (contextExtensions.length > 0 && rolesOf(contextExtensions) === undefined) {
    return 'the group context carries extensions other than valid meeting roles';
  }
  let members = 0;
  for (let node = 0; node < tree.length; node += 2) {
    const entry = tree[node];
    if (entry === undefined) continue;
    if (entry.nodeType !== 'leaf') return 'malformed ratchet tree';
    members++;
    const problem = leafProblem(entry.leaf);
    if (problem !== undefined) return `leaf ${node / 2}: ${problem}`;
  }
  const allowance = groupInfoAllowance(info.groupContext.cipherSuite, members, absoluteMax);
  if (byteLength > allowance) {
    return `the GroupInfo is ${byteLength} bytes; a group of ${members} publishes at most ${allowance}`;
  }
  return undefined;
}

type TreeLeaf = Extract<RatchetTree[number], { nodeType: 'leaf' }>['leaf'];

function leafProblem(leaf: TreeLeaf): string | undefined {
  if (credentialUserId(leaf.credential) === undefined) return 'its credential names no valid user id';
  if (leaf.extensions.length > 0) return 'it carries extensions';
  const caps = leaf.capabilities;
  const lists = [caps.versions, caps.ciphersuites, caps.extensions, caps.proposals, caps.credentials];
  if (lists.some((list) => list.length > MAX_CAPABILITY_ENTRIES)) return 'its capability lists are too long';
  return undefined;
}
