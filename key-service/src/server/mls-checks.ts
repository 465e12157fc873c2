// What the Delivery Service and Authentication Service can check about an MLS message without any
// secret: its framing (RFC 9420 §6), group id and epoch, the sender's signature (§6.1) against the
// public ratchet tree of the current epoch, that the credential's identity is the authenticated user
// of the socket, and that a commit and the GroupInfo published with it belong together (the
// confirmation tag and the confirmed transcript hash, §8.2). Membership tags and everything
// encrypted stay out of reach, by design.
import {
  decodeMlsMessage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  type CiphersuiteImpl,
  type CiphersuiteName,
  type GroupContext,
  type GroupInfo,
  type MLSMessage,
  type PublicMessage,
} from 'ts-mls';
import { verifyFramedContentSignature } from 'ts-mls/framedContent.js';
import { verifyKeyPackage } from 'ts-mls/keyPackage.js';
import { ratchetTreeFromExtension, verifyGroupInfoSignature } from 'ts-mls/groupInfo.js';
import { createConfirmedHash, createInterimHash } from 'ts-mls/transcriptHash.js';
import { KeyServiceError } from '../errors.ts';
import { groupInfoShapeProblem } from '../group-info-limits.ts';
import { bytesEqual } from '@conclave/common/bytes';
import { credentialUserId, judgeCommit, type CommitFacts, type Verdict } from '../membership-policy.ts';
import { SUPPORTED_MLS_SUITES } from '../protocol.ts';
import { ROLES_EXTENSION_TYPE, rolesOf, type Roles } from '../roles.ts';

export interface LeafView {
  leafIndex: number;
  userId: string;
  signatureKey: Uint8Array;
}

/** The public state of a room's group in one epoch, read from a GroupInfo with its ratchet tree. */
export interface GroupView {
  groupId: Uint8Array;
  epoch: bigint;
  suite: CiphersuiteName;
  context: GroupContext;
  confirmationTag: Uint8Array;
  signer: number;
  leaves: LeafView[];
  /** The meeting's roles in this epoch (roles.ts), from the GroupContext. */
  roles: Roles | undefined;
  /** The encoded MLSMessage(GroupInfo) as published, handed to joiners. */
  bytes: Uint8Array;
}

const impls = new Map<CiphersuiteName, Promise<CiphersuiteImpl>>();
export function suiteImpl(name: CiphersuiteName): Promise<CiphersuiteImpl> {
  let impl = impls.get(name);
  if (impl === undefined) {
    impl = getCiphersuiteImpl(getCiphersuiteFromName(name));
    impls.set(name, impl);
  }
  return impl;
}

export { credentialUserId };

export function decodeWhole(bytes: Uint8Array): MLSMessage {
  let decoded: [MLSMessage, number] | undefined;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch {
    decoded = undefined;
  }
  if (decoded === undefined || decoded[1] !== bytes.byteLength) {
    throw new KeyServiceError('bad-request', 'not a well-formed MLS message');
  }
  if (decoded[0].version !== 'mls10') throw new KeyServiceError('bad-request', 'unsupported MLS version');
  return decoded[0];
}

/**
 * A signature check over client bytes. ts-mls and the curve libraries throw, rather than answer
 * false, on some malformed keys, signatures or contents; those do not verify either.
 */
export async function verifies(check: () => Promise<boolean>): Promise<boolean> {
  try {
    return await check();
  } catch {
    return false;
  }
}

/** Reads and authenticates a GroupInfo: well-formed, a supported suite, a ratchet tree whose every
 *  leaf names a valid user id, the shape a Conclave group has (group-info-limits.ts; unless
 *  `checkShape` is false, a test-only switch), and a signature by its signer leaf. */
export async function readGroupInfo(
  bytes: Uint8Array,
  maxBytes: number,
  checkShape = true,
): Promise<GroupView> {
  const message = decodeWhole(bytes);
  if (message.wireformat !== 'mls_group_info')
    throw new KeyServiceError('bad-request', 'expected a GroupInfo');
  const info: GroupInfo = message.groupInfo;
  const suite = info.groupContext.cipherSuite;
  if (!(SUPPORTED_MLS_SUITES as readonly string[]).includes(suite)) {
    throw new KeyServiceError('bad-request', `MLS cipher suite ${suite} is not accepted here`);
  }
  if (!info.extensions.some((e) => e.extensionType === 'external_pub')) {
    throw new KeyServiceError('bad-request', 'the GroupInfo carries no external_pub extension');
  }
  // The tree extension is decoded here, not with the message: a malformed one throws a CodecError.
  let tree: ReturnType<typeof ratchetTreeFromExtension>;
  try {
    tree = ratchetTreeFromExtension(info);
  } catch {
    throw new KeyServiceError('bad-request', 'malformed ratchet tree extension');
  }
  if (tree === undefined) throw new KeyServiceError('bad-request', 'the GroupInfo carries no ratchet tree');
  const shape = checkShape ? groupInfoShapeProblem(info, tree, bytes.byteLength, maxBytes) : undefined;
  if (shape !== undefined) throw new KeyServiceError('forbidden', shape);
  const leaves: LeafView[] = [];
  for (let node = 0; node < tree.length; node += 2) {
    const entry = tree[node];
    if (entry === undefined) continue;
    if (entry.nodeType !== 'leaf') throw new KeyServiceError('bad-request', 'malformed ratchet tree');
    const userId = credentialUserId(entry.leaf.credential);
    if (userId === undefined)
      throw new KeyServiceError('forbidden', 'a leaf carries no valid user id credential');
    leaves.push({ leafIndex: node / 2, userId, signatureKey: entry.leaf.signaturePublicKey });
  }
  const signer = leaves.find((l) => l.leafIndex === info.signer);
  if (signer === undefined)
    throw new KeyServiceError('bad-request', 'the GroupInfo signer is not in its tree');
  const impl = await suiteImpl(suite);
  if (!(await verifies(() => verifyGroupInfoSignature(info, signer.signatureKey, impl.signature)))) {
    throw new KeyServiceError('forbidden', 'the GroupInfo signature does not verify');
  }
  return {
    groupId: info.groupContext.groupId,
    epoch: info.groupContext.epoch,
    suite,
    context: info.groupContext,
    confirmationTag: info.confirmationTag,
    signer: info.signer,
    leaves,
    roles: rolesOf(info.groupContext.extensions),
    bytes,
  };
}

export function signerUserId(view: GroupView): string {
  const signer = view.leaves.find((l) => l.leafIndex === view.signer);
  if (signer === undefined)
    throw new KeyServiceError('bad-request', 'the GroupInfo signer is not in its tree');
  return signer.userId;
}

export interface CheckedCommit {
  message: PublicMessage;
  /** What the membership policy needs to judge the commit (membership-policy.ts). */
  facts: CommitFacts;
}

/**
 * Checks a commit's authenticity against the current epoch's public state: a PublicMessage commit
 * for this group and epoch (a late one gets 'stale-epoch' with the current epoch), from `userId` — as
 * a member whose leaf names `userId`, or as a joiner by external commit whose leaf names `userId` —
 * with a valid signature. Whether the group may accept it is the membership policy's question,
 * asked separately (`judge`), because its answer depends on who is in the room at that moment.
 */
export async function checkCommit(
  current: GroupView,
  bytes: Uint8Array,
  userId: string,
): Promise<CheckedCommit> {
  const message = decodeWhole(bytes);
  if (message.wireformat !== 'mls_public_message') {
    throw new KeyServiceError('bad-request', 'commits travel as MLS PublicMessages');
  }
  const pm = message.publicMessage;
  const content = pm.content;
  if (content.contentType !== 'commit') throw new KeyServiceError('bad-request', 'expected a commit');
  if (!bytesEqual(content.groupId, current.groupId)) {
    throw new KeyServiceError('bad-request', 'the commit is for another group');
  }
  if (content.epoch !== current.epoch) {
    throw new KeyServiceError(
      content.epoch < current.epoch ? 'stale-epoch' : 'bad-request',
      `the commit is for epoch ${content.epoch}; the group is in epoch ${current.epoch}`,
      Number(current.epoch),
    );
  }
  const signatureKey = committerKey(current, content.sender, content.commit.path?.leafNode, userId);
  const impl = await suiteImpl(current.suite);
  if (
    !(await verifies(() =>
      verifyFramedContentSignature(
        signatureKey,
        'mls_public_message',
        content,
        pm.auth,
        current.context,
        impl.signature,
      ),
    ))
  ) {
    throw new KeyServiceError('forbidden', 'the commit signature does not verify');
  }
  return { message: pm, facts: { sender: content.sender, commit: content.commit } };
}

/** The key the commit must be signed with, once the sender is shown to be `userId`. */
function committerKey(
  current: GroupView,
  sender: CommitFacts['sender'],
  pathLeaf:
    { credential: Parameters<typeof credentialUserId>[0]; signaturePublicKey: Uint8Array } | undefined,
  userId: string,
): Uint8Array {
  if (sender.senderType === 'member') {
    const leaf = current.leaves.find((l) => l.leafIndex === sender.leafIndex);
    if (leaf === undefined)
      throw new KeyServiceError('not-member', 'the commit names a sender outside the group');
    if (leaf.userId !== userId)
      throw new KeyServiceError('forbidden', "the commit's sender leaf is another user's");
    return leaf.signatureKey;
  }
  if (sender.senderType === 'new_member_commit') {
    if (pathLeaf === undefined) throw new KeyServiceError('bad-request', 'an external commit needs a path');
    if (credentialUserId(pathLeaf.credential) !== userId) {
      throw new KeyServiceError('forbidden', "the credential's identity is not the authenticated user");
    }
    return pathLeaf.signaturePublicKey;
  }
  throw new KeyServiceError('forbidden', `commits from ${sender.senderType} senders are not relayed`);
}

/** The membership policy's verdict on a checked commit, with `isGone` as the key service sees it. */
export function judge(
  current: GroupView,
  checked: CheckedCommit,
  isGone: (userId: string) => boolean,
): Verdict {
  return judgeCommit(checked.facts, { leaves: current.leaves, isGone, roles: current.roles });
}

/** The GroupInfo published with a commit must describe the epoch that commit creates. */
export async function checkNextGroupInfo(
  current: GroupView,
  commit: PublicMessage,
  next: GroupView,
  userId: string,
): Promise<void> {
  if (!bytesEqual(next.groupId, current.groupId) || next.suite !== current.suite) {
    throw new KeyServiceError('bad-request', 'the GroupInfo is for another group');
  }
  if (next.epoch !== current.epoch + 1n)
    throw new KeyServiceError('bad-request', 'the GroupInfo is not for the next epoch');
  if (signerUserId(next) !== userId)
    throw new KeyServiceError('forbidden', 'the GroupInfo is not signed by the committer');
  if (
    commit.auth.contentType !== 'commit' ||
    !bytesEqual(commit.auth.confirmationTag, next.confirmationTag)
  ) {
    throw new KeyServiceError('bad-request', 'the GroupInfo does not match the commit (confirmation tag)');
  }
  if (commit.content.contentType !== 'commit') throw new KeyServiceError('bad-request', 'expected a commit');
  const impl = await suiteImpl(current.suite);
  // RFC 9420 §8.2: confirmed_transcript_hash[n+1] = Hash(interim[n] || ConfirmedTranscriptHashInput).
  const interim = await createInterimHash(
    current.context.confirmedTranscriptHash,
    current.confirmationTag,
    impl.hash,
  );
  const confirmed = await createConfirmedHash(
    interim,
    { wireformat: 'mls_public_message', content: commit.content, signature: commit.auth.signature },
    impl.hash,
  );
  if (!bytesEqual(confirmed, next.context.confirmedTranscriptHash)) {
    throw new KeyServiceError('bad-request', 'the GroupInfo does not match the commit (transcript hash)');
  }
}

/**
 * A knock's KeyPackage (RFC 9420 §10): well-formed, for the group's suite, naming the knocking user,
 * able to hold the meeting's roles extension, and signed by its own leaf key. Returns that key: the
 * one an admitting Add must carry.
 */
export async function checkKeyPackage(
  bytes: Uint8Array,
  view: GroupView,
  userId: string,
): Promise<Uint8Array> {
  const message = decodeWhole(bytes);
  if (message.wireformat !== 'mls_key_package')
    throw new KeyServiceError('bad-request', 'expected a KeyPackage');
  const kp = message.keyPackage;
  if (kp.cipherSuite !== view.suite) {
    throw new KeyServiceError(
      'bad-request',
      `the meeting uses ${view.suite}; the KeyPackage is for another suite`,
    );
  }
  const leaf = kp.leafNode;
  if (credentialUserId(leaf.credential) !== userId) {
    throw new KeyServiceError('forbidden', "the KeyPackage's identity is not the authenticated user");
  }
  if (leaf.extensions.length > 0 || !leaf.capabilities.extensions.includes(ROLES_EXTENSION_TYPE)) {
    throw new KeyServiceError('bad-request', 'the KeyPackage is not one a Conclave member makes');
  }
  const impl = await suiteImpl(view.suite);
  if (!(await verifies(() => verifyKeyPackage(kp, impl.signature)))) {
    throw new KeyServiceError('forbidden', 'the KeyPackage signature does not verify');
  }
  return leaf.signaturePublicKey;
}
