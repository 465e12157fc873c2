// The meeting's membership policy: which MLS commits a Conclave group may accept. One pure module,
// applied at two doors: by every member's client before it adopts an epoch's keys (the enforcement
// that counts, since the server may be hostile), and by the key service before it relays a commit
// (defence in depth, so an honest server refuses what clients would refuse anyway).
//
// A meeting needs only three commit shapes (RFC 9420 §12.4):
//   - a joiner's external commit (§12.4.3.2): one ExternalInit, optionally Removes of the joiner's own
//     earlier leaf, recognised by the same signature key (a resync after a reconnection);
//   - a member's commit whose proposals are only Removes, each of a member the judge sees gone, or of
//     the committer's own other leaf (same signature key);
//   - an empty or path-only commit (a rekey), which keeps the committer's identity and key.
// Everything else is refused: Adds inside member commits (admission comes with the lobby), proposals
// by reference (and standalone proposals, which nobody relays), Update, PreSharedKey, ReInit,
// GroupContextExtensions, ExternalInit outside an external commit, custom proposal types, and
// commits by `external` or `new_member_proposal` senders.
//
// "Gone" is the judge's own view: the key service asks signaling; a client asks what it saw of the
// room when the commit arrived (leave notices reach it before the removal they cause).
import type { Commit, Credential, Proposal, ProposalAdd, ProposalOrRef, Sender } from 'ts-mls';
import { userIdSchema } from './protocol.ts';

export interface PolicyLeaf {
  leafIndex: number;
  userId: string;
  signatureKey: Uint8Array;
}

export interface PolicyContext {
  /** The members of the epoch the commit is for, from its ratchet tree. */
  leaves: readonly PolicyLeaf[];
  /** Whether the judge considers `userId` gone from the room (so its leaves may be removed). */
  isGone(userId: string): boolean;
}

export type ViolationCode =
  | 'unknown-sender' // the sender leaf is not in the group
  | 'sender-type' // a commit from an `external` or `new_member_proposal` sender
  | 'by-reference' // a proposal by reference (its content was never checked here)
  | 'add' // a member commit adds someone
  | 'forbidden-proposal' // Update, PSK, ReInit, GroupContextExtensions, ExternalInit, custom
  | 'remove-present' // a member commit removes someone who is still in the room
  | 'remove-foreign' // an external commit removes someone else's leaf
  | 'identity-change' // a path changes the committer's credential or signature key
  | 'malformed'; // not a shape a commit of this kind can have

export interface Violation {
  code: ViolationCode;
  /** One sentence for people: who tried what (user ids; the UI puts names on them). */
  message: string;
  /** The user id of the committer, when the tree names one. */
  committer: string | undefined;
  /** User ids the commit tried to add or remove, for the UI to name. */
  subjects: string[];
}

export type CommitKind = 'join' | 'removal' | 'update';

export type Verdict =
  | {
      allowed: true;
      kind: CommitKind;
      /** The committer: a member, or the joiner of an external commit. */
      committer: { userId: string; signatureKey: Uint8Array; leafIndex: number | undefined };
      /** Leaves the commit removes (for an external commit: the joiner's own old leaves). */
      removed: PolicyLeaf[];
    }
  | { allowed: false; violation: Violation };

/** The parts of a commit's FramedContent the policy reads. */
export interface CommitFacts {
  sender: Sender;
  commit: Commit;
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

/** Constant-time equality of two byte strings (signature keys, tags). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Judges one commit against the group's current epoch. */
export function judgeCommit(facts: CommitFacts, context: PolicyContext): Verdict {
  const { sender, commit } = facts;
  if (sender.senderType === 'member') return judgeMemberCommit(sender.leafIndex, commit, context);
  if (sender.senderType === 'new_member_commit') return judgeExternalCommit(commit, context);
  return refuse('sender-type', `a commit from an ${sender.senderType} sender is not accepted`, undefined);
}

/** Standalone proposals have no place in a Conclave meeting: every change comes as a commit. */
export function judgeProposal(proposal: Proposal, senderUserId: string | undefined): Violation {
  return {
    code: proposal.proposalType === 'add' ? 'add' : 'forbidden-proposal',
    message: `a standalone ${proposalName(proposal)} proposal is not accepted; changes come as commits`,
    committer: senderUserId,
    subjects: proposal.proposalType === 'add' ? subjectOfAdd(proposal) : [],
  };
}

function judgeMemberCommit(leafIndex: number, commit: Commit, context: PolicyContext): Verdict {
  const committer = context.leaves.find((l) => l.leafIndex === leafIndex);
  if (committer === undefined)
    return refuse('unknown-sender', 'the commit names a sender outside the group', undefined);
  const who = committer.userId;
  if (commit.path !== undefined) {
    const leaf = commit.path.leafNode;
    if (
      credentialUserId(leaf.credential) !== who ||
      !bytesEqual(leaf.signaturePublicKey, committer.signatureKey)
    ) {
      return refuse('identity-change', `${who} tried to change their identity or signature key`, who);
    }
  }
  const removed: PolicyLeaf[] = [];
  for (const entry of commit.proposals) {
    const proposal = byValue(entry);
    if (proposal === undefined)
      return refuse('by-reference', `${who} committed a proposal by reference`, who);
    if (proposal.proposalType === 'add') {
      const subjects = subjectOfAdd(proposal);
      return refuse(
        'add',
        `${who} tried to add ${subjects[0] ?? 'someone'} to the meeting keys`,
        who,
        subjects,
      );
    }
    if (proposal.proposalType !== 'remove') {
      return refuse('forbidden-proposal', `${who} committed a ${proposalName(proposal)} proposal`, who);
    }
    const target = context.leaves.find((l) => l.leafIndex === proposal.remove.removed);
    if (target === undefined || target.leafIndex === leafIndex || removed.includes(target)) {
      return refuse('malformed', `${who} committed the removal of a leaf that cannot be removed`, who);
    }
    const ownOtherLeaf = bytesEqual(target.signatureKey, committer.signatureKey);
    if (!ownOtherLeaf && !context.isGone(target.userId)) {
      return refuse('remove-present', `${who} tried to remove ${target.userId}, who is still here`, who, [
        target.userId,
      ]);
    }
    removed.push(target);
  }
  const committerInfo = { userId: who, signatureKey: committer.signatureKey, leafIndex };
  return {
    allowed: true,
    kind: removed.length > 0 ? 'removal' : 'update',
    committer: committerInfo,
    removed,
  };
}

function judgeExternalCommit(commit: Commit, context: PolicyContext): Verdict {
  if (commit.path === undefined) return refuse('malformed', 'an external commit without a path', undefined);
  const leaf = commit.path.leafNode;
  const joiner = credentialUserId(leaf.credential);
  if (joiner === undefined) return refuse('malformed', 'the joiner carries no valid user id', undefined);
  let externalInits = 0;
  const removed: PolicyLeaf[] = [];
  for (const entry of commit.proposals) {
    const proposal = byValue(entry);
    if (proposal === undefined)
      return refuse('by-reference', `${joiner} joined with a proposal by reference`, joiner);
    if (proposal.proposalType === 'external_init') {
      externalInits++;
      continue;
    }
    if (proposal.proposalType !== 'remove') {
      return refuse(
        'forbidden-proposal',
        `${joiner} joined with a ${proposalName(proposal)} proposal`,
        joiner,
      );
    }
    const target = context.leaves.find((l) => l.leafIndex === proposal.remove.removed);
    if (target === undefined || removed.includes(target)) {
      return refuse('malformed', `${joiner} joined removing a leaf that cannot be removed`, joiner);
    }
    // RFC 9420 §12.4.3.2 resync: only the joiner's own earlier leaf, by the same signature key.
    if (!bytesEqual(target.signatureKey, leaf.signaturePublicKey)) {
      return refuse('remove-foreign', `${joiner} joined and tried to remove ${target.userId}`, joiner, [
        target.userId,
      ]);
    }
    removed.push(target);
  }
  if (externalInits !== 1)
    return refuse('malformed', 'an external commit carries exactly one ExternalInit', joiner);
  return {
    allowed: true,
    kind: 'join',
    committer: { userId: joiner, signatureKey: leaf.signaturePublicKey, leafIndex: undefined },
    removed,
  };
}

function byValue(entry: ProposalOrRef): Proposal | undefined {
  return entry.proposalOrRefType === 'proposal' ? entry.proposal : undefined;
}

function subjectOfAdd(proposal: ProposalAdd): string[] {
  const id = credentialUserId(proposal.add.keyPackage.leafNode.credential);
  return id === undefined ? [] : [id];
}

function proposalName(proposal: Proposal): string {
  return typeof proposal.proposalType === 'number'
    ? `custom (${proposal.proposalType})`
    : proposal.proposalType;
}

function refuse(
  code: ViolationCode,
  message: string,
  committer: string | undefined,
  subjects: string[] = [],
): Verdict {
  return { allowed: false, violation: { code, message, committer, subjects } };
}
