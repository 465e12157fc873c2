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
  type Credential,
  type GroupContext,
  type GroupInfo,
  type MLSMessage,
  type PublicMessage,
} from 'ts-mls';
import { verifyFramedContentSignature } from 'ts-mls/framedContent.js';
import { ratchetTreeFromExtension, verifyGroupInfoSignature } from 'ts-mls/groupInfo.js';
import { createConfirmedHash, createInterimHash } from 'ts-mls/transcriptHash.js';
import { KeyServiceError } from '../errors.ts';
import { SUPPORTED_MLS_SUITES, userIdSchema } from '../protocol.ts';

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

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The user id a basic credential names, or undefined when it names none acceptable. */
export function credentialUserId(credential: Credential): string | undefined {
  if (credential.credentialType !== 'basic') return undefined;
  let id: string;
  try {
    id = decoder.decode(credential.identity);
  } catch {
    return undefined;
  }
  return userIdSchema.safeParse(id).success ? id : undefined;
}

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

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
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
 *  leaf names a valid user id, and a signature by its signer leaf. */
export async function readGroupInfo(bytes: Uint8Array): Promise<GroupView> {
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
  /** Identities the commit adds (by Add proposals) other than the sender. */
  added: string[];
}

/**
 * Checks a commit against the current epoch's public state: a PublicMessage commit for this group
 * and epoch (a late one gets 'stale-epoch' with the current epoch), from `userId` — as a member
 * whose leaf names `userId`, or as a new member by external commit whose leaf names `userId` and
 * which removes at most a leaf of its own (resync) — with a valid signature.
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
  const commit = content.commit;
  let signatureKey: Uint8Array;
  const added: string[] = [];
  if (content.sender.senderType === 'member') {
    const leafIndex = content.sender.leafIndex;
    const leaf = current.leaves.find((l) => l.leafIndex === leafIndex);
    if (leaf === undefined)
      throw new KeyServiceError('not-member', 'the commit names a sender outside the group');
    if (leaf.userId !== userId)
      throw new KeyServiceError('forbidden', "the commit's sender leaf is another user's");
    if (commit.path !== undefined && credentialUserId(commit.path.leafNode.credential) !== userId) {
      throw new KeyServiceError('forbidden', 'a member cannot change its identity');
    }
    for (const p of commit.proposals) {
      if (p.proposalOrRefType !== 'proposal') continue;
      const proposal = p.proposal;
      if (proposal.proposalType === 'add') {
        const id = credentialUserId(proposal.add.keyPackage.leafNode.credential);
        if (id === undefined)
          throw new KeyServiceError('forbidden', 'an added member carries no valid user id');
        added.push(id);
      } else if (proposal.proposalType === 'external_init') {
        throw new KeyServiceError('bad-request', 'external_init in a member commit');
      }
    }
    signatureKey = leaf.signatureKey;
  } else if (content.sender.senderType === 'new_member_commit') {
    if (commit.path === undefined)
      throw new KeyServiceError('bad-request', 'an external commit needs a path');
    const leafNode = commit.path.leafNode;
    if (credentialUserId(leafNode.credential) !== userId) {
      throw new KeyServiceError('forbidden', "the credential's identity is not the authenticated user");
    }
    let externalInits = 0;
    for (const p of commit.proposals) {
      if (p.proposalOrRefType !== 'proposal') {
        throw new KeyServiceError('bad-request', 'an external commit carries proposals by value');
      }
      const proposal = p.proposal;
      if (proposal.proposalType === 'external_init') externalInits++;
      else if (proposal.proposalType === 'remove') {
        const removed = current.leaves.find((l) => l.leafIndex === proposal.remove.removed);
        if (removed === undefined || removed.userId !== userId) {
          throw new KeyServiceError(
            'forbidden',
            'an external commit may remove only its sender’s own old leaf',
          );
        }
      } else {
        throw new KeyServiceError('bad-request', `an external commit cannot carry ${proposal.proposalType}`);
      }
    }
    if (externalInits !== 1)
      throw new KeyServiceError('bad-request', 'an external commit has one external_init');
    signatureKey = leafNode.signaturePublicKey;
  } else {
    throw new KeyServiceError(
      'forbidden',
      `commits from ${content.sender.senderType} senders are not relayed`,
    );
  }
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
  return { message: pm, added };
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
