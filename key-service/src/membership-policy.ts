// The meeting's membership policy: which MLS commits a Conclave group may accept. One pure module,
// applied at two doors: by every member's client before it adopts an epoch's keys (the enforcement
// that counts, since the server may be hostile), and by the key service before it relays a commit
// (defence in depth, so an honest server refuses what clients would refuse anyway).
//
// The group's roles (roles.ts: hosts, lobby, lock) live in its GroupContext, so every judge reads the
// same ones. A meeting needs only these commit shapes (RFC 9420 §12.4):
//   - a joiner's external commit (§12.4.3.2): one ExternalInit, optionally Removes of the joiner's own
//     earlier leaf, recognised by the same signature key. With the lobby or the lock on, only such a
//     resync may come in by external commit: anyone new is admitted by a host (below);
//   - a member's commit of Removes, each of a member the judge sees gone, of the committer's own other
//     leaf (same signature key), of a leaf the judge saw come in unadmitted (an intruder), or, by a
//     host, of anyone ("Remove Bob");
//   - a host's commit of Adds (an admission from the lobby: the Welcome goes to the KeyPackage's
//     holder), never while the meeting is locked, possibly with Removes as above;
//   - a host's commit of one GroupContextExtensions proposal carrying exactly a valid roles extension
//     whose hosts are members or were hosts already (make a host, lobby on/off, lock/unlock);
//   - an empty or path-only commit (a rekey), which keeps the committer's identity and key.
// Everything else is refused: proposals by reference (and standalone proposals, which nobody relays),
// Update, PreSharedKey, ReInit, other extensions, ExternalInit outside an external commit, custom
// proposal types, and commits by `external` or `new_member_proposal` senders.
//
// "Gone" is the judge's own view: the key service asks signaling; a client asks what it saw of the
// room when the commit arrived (leave notices reach it before the removal they cause).
import type { Commit, Credential, Proposal, ProposalAdd, ProposalOrRef, Sender } from 'ts-mls';
import { bytesEqual } from '@conclave/common/bytes';
import { userIdSchema } from './protocol.ts';
import { actsAsHost, isListedHost, rolesOf, type Roles } from './roles.ts';

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
  /** The epoch's roles, from its GroupContext; undefined for a group without (no hosts, no lobby). */
  roles?: Roles | undefined;
  /** Leaves this judge saw come in without admission: any member may remove them. */
  intruders?: ReadonlySet<number>;
}

const NO_ROLES: Roles = { hosts: [], lobby: false, locked: false };

export type ViolationCode =
  | 'unknown-sender' // the sender leaf is not in the group
  | 'sender-type' // a commit from an `external` or `new_member_proposal` sender
  | 'by-reference' // a proposal by reference (its content was never checked here)
  | 'add' // a commit by someone who is not a host adds someone
  | 'locked' // a host admits someone while the meeting is locked
  | 'not-admitted' // an external commit by someone new while the lobby or the lock is on
  | 'roles' // a roles change by someone who is not a host, or not a valid one
  | 'forbidden-proposal' // Update, PSK, ReInit, other extensions, ExternalInit, custom
  | 'remove-present' // a commit by someone who is not a host removes someone still in the room
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

export type CommitKind = 'join' | 'admission' | 'removal' | 'roles' | 'update';

export interface AddedMember {
  userId: string;
  signatureKey: Uint8Array;
}

export type Verdict =
  | {
      allowed: true;
      kind: CommitKind;
      /** The committer: a member, or the joiner of an external commit. */
      committer: { userId: string; signatureKey: Uint8Array; leafIndex: number | undefined };
      /** Leaves the commit removes (for an external commit: the joiner's own old leaves). */
      removed: PolicyLeaf[];
      /** Of `removed`: members still present whom a host removed. */
      removedByHost: PolicyLeaf[];
      /** Of `removed`: leaves that had come in unadmitted. */
      removedIntruders: PolicyLeaf[];
      /** Members a host admitted. */
      added: AddedMember[];
      /** The roles of the new epoch, when the commit changes them. */
      roles: Roles | undefined;
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

/**
 * Judges one commit against the group's current epoch: the one policy both the key service and
 * every member's client apply.
 *
 * @param facts the commit and its sender, from its public framing
 * @param context the current epoch's leaves and roles, who is gone, and leaves that are intruders
 * @returns allowed (with what it does: who joined, left, was admitted or removed) or a violation
 */
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
  const roles = context.roles ?? NO_ROLES;
  const host = actsAsHost(roles, context.leaves, leafIndex);
  const proposals: Proposal[] = [];
  for (const entry of commit.proposals) {
    const proposal = byValue(entry);
    if (proposal === undefined)
      return refuse('by-reference', `${who} committed a proposal by reference`, who);
    proposals.push(proposal);
  }
  const change = proposals.find((p) => p.proposalType === 'group_context_extensions');
  if (change !== undefined) return judgeRolesChange(committer, host, change, proposals.length, context);
  const verdict = allowed('update', committer, leafIndex);
  for (const proposal of proposals) {
    const problem =
      proposal.proposalType === 'add'
        ? judgeAdd(who, host, roles, proposal, context, verdict)
        : proposal.proposalType === 'remove'
          ? judgeRemove(committer, host, proposal.remove.removed, context, verdict)
          : refuse('forbidden-proposal', `${who} committed a ${proposalName(proposal)} proposal`, who);
    if (problem !== undefined) return problem;
  }
  if (verdict.added.length > 0) verdict.kind = 'admission';
  else if (verdict.removed.length > 0) verdict.kind = 'removal';
  return verdict;
}

type Allowed = Extract<Verdict, { allowed: true }>;

function allowed(kind: CommitKind, committer: PolicyLeaf, leafIndex: number | undefined): Allowed {
  return {
    allowed: true,
    kind,
    committer: { userId: committer.userId, signatureKey: committer.signatureKey, leafIndex },
    removed: [],
    removedByHost: [],
    removedIntruders: [],
    added: [],
    roles: undefined,
  };
}

/** An Add is a host's admission; nobody is admitted into a locked meeting, nor twice with one key. */
function judgeAdd(
  who: string,
  host: boolean,
  roles: Roles,
  proposal: ProposalAdd,
  context: PolicyContext,
  verdict: Allowed,
): Verdict | undefined {
  const subjects = subjectOfAdd(proposal);
  const leaf = proposal.add.keyPackage.leafNode;
  if (!host)
    return refuse(
      'add',
      `${who} tried to add ${subjects[0] ?? 'someone'} to the meeting keys`,
      who,
      subjects,
    );
  if (roles.locked)
    return refuse(
      'locked',
      `${who} tried to admit ${subjects[0] ?? 'someone'} into a locked meeting`,
      who,
      subjects,
    );
  const userId = subjects[0];
  const key = leaf.signaturePublicKey;
  const known =
    context.leaves.some((l) => bytesEqual(l.signatureKey, key)) ||
    verdict.added.some((a) => bytesEqual(a.signatureKey, key));
  if (userId === undefined || known) {
    return refuse(
      'malformed',
      `${who} tried to admit a key that names nobody or is already in`,
      who,
      subjects,
    );
  }
  verdict.added.push({ userId, signatureKey: key });
  return undefined;
}

function judgeRemove(
  committer: PolicyLeaf,
  host: boolean,
  removedIndex: number,
  context: PolicyContext,
  verdict: Allowed,
): Verdict | undefined {
  const who = committer.userId;
  const target = context.leaves.find((l) => l.leafIndex === removedIndex);
  if (target === undefined || target.leafIndex === committer.leafIndex || verdict.removed.includes(target)) {
    return refuse('malformed', `${who} committed the removal of a leaf that cannot be removed`, who);
  }
  const ownOtherLeaf = bytesEqual(target.signatureKey, committer.signatureKey);
  const intruder = context.intruders?.has(target.leafIndex) === true;
  const gone = context.isGone(target.userId);
  if (!ownOtherLeaf && !intruder && !gone && !host) {
    return refuse('remove-present', `${who} tried to remove ${target.userId}, who is still here`, who, [
      target.userId,
    ]);
  }
  verdict.removed.push(target);
  if (intruder) verdict.removedIntruders.push(target);
  else if (!ownOtherLeaf && !gone) verdict.removedByHost.push(target);
  return undefined;
}

/** A roles change: a host's, alone in its commit, to valid roles whose new hosts are members. */
function judgeRolesChange(
  committer: PolicyLeaf,
  host: boolean,
  change: Extract<Proposal, { proposalType: 'group_context_extensions' }>,
  proposalCount: number,
  context: PolicyContext,
): Verdict {
  const who = committer.userId;
  if (!host)
    return refuse('roles', `${who} tried to change who hosts the meeting, without being a host`, who);
  if (proposalCount !== 1) return refuse('roles', `${who} combined a roles change with other changes`, who);
  const next = rolesOf(change.groupContextExtensions.extensions);
  if (next === undefined)
    return refuse('roles', `${who} committed extensions that are not valid meeting roles`, who);
  const previous = context.roles ?? NO_ROLES;
  const stranger = next.hosts.find(
    (key) => !isListedHost(previous, key) && !context.leaves.some((l) => bytesEqual(l.signatureKey, key)),
  );
  if (stranger !== undefined)
    return refuse('roles', `${who} tried to make a key outside the meeting a host`, who);
  const verdict = allowed('roles', committer, committer.leafIndex);
  verdict.roles = next;
  return verdict;
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
  const roles = context.roles ?? NO_ROLES;
  // Behind the lobby or the lock, only a member coming back (its own leaf, by its key) walks in.
  // An intruder's own leaf does not count: resyncing it would launder the intrusion.
  const comingBack = removed.length > 0 && !removed.some((l) => context.intruders?.has(l.leafIndex) === true);
  if ((roles.lobby || roles.locked) && !comingBack) {
    return refuse(
      'not-admitted',
      roles.locked
        ? `${joiner} joined a locked meeting without being admitted`
        : `${joiner} joined without being admitted by a host`,
      joiner,
      [joiner],
    );
  }
  const joinerLeaf = { leafIndex: -1, userId: joiner, signatureKey: leaf.signaturePublicKey };
  const verdict = allowed('join', joinerLeaf, undefined);
  verdict.removed = removed;
  return verdict;
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
