// The membership policy, case by case: every proposal type, in member and external commits, and the
// "gone" and "own leaf" rules for removals. Commits are built as plain objects: the policy reads only
// their structure (signatures are checked elsewhere).
import { describe, expect, it } from 'vitest';
import type { Commit, LeafNodeCommit, Proposal, ProposalOrRef, Sender } from 'ts-mls';
import {
  judgeCommit,
  judgeProposal,
  type PolicyLeaf,
  type Verdict,
} from '@conclave/key-service/membership-policy';

const enc = new TextEncoder();
const key = (n: number) => new Uint8Array(32).fill(n);
const ALICE: PolicyLeaf = { leafIndex: 0, userId: 'alice-0001', signatureKey: key(1) };
const BOB: PolicyLeaf = { leafIndex: 1, userId: 'bob-00001', signatureKey: key(2) };
const CAROL: PolicyLeaf = { leafIndex: 2, userId: 'carol-0001', signatureKey: key(3) };
/** Alice's second leaf with her own key (a stale leaf a resync left behind). */
const ALICE_OLD: PolicyLeaf = { leafIndex: 3, userId: 'alice-0001', signatureKey: key(1) };
/** A second device of Alice's: same user id, another key. */
const ALICE_PHONE: PolicyLeaf = { leafIndex: 4, userId: 'alice-0001', signatureKey: key(9) };
const LEAVES = [ALICE, BOB, CAROL, ALICE_OLD, ALICE_PHONE];

function context(gone: string[] = []) {
  return { leaves: LEAVES, isGone: (id: string) => gone.includes(id) };
}

function leafNode(userId: string, signatureKey: Uint8Array): LeafNodeCommit {
  return {
    hpkePublicKey: key(0),
    signaturePublicKey: signatureKey,
    credential: { credentialType: 'basic', identity: enc.encode(userId) },
    capabilities: { versions: [], ciphersuites: [], extensions: [], proposals: [], credentials: [] },
    leafNodeSource: 'commit',
    parentHash: key(0),
    extensions: [],
    signature: key(0),
  } as LeafNodeCommit;
}

function commit(proposals: Proposal[], path?: { userId: string; key: Uint8Array }, refs = 0): Commit {
  const entries: ProposalOrRef[] = proposals.map((proposal) => ({ proposalOrRefType: 'proposal', proposal }));
  for (let i = 0; i < refs; i++) entries.push({ proposalOrRefType: 'reference', reference: key(7) });
  return {
    proposals: entries,
    path: path === undefined ? undefined : { leafNode: leafNode(path.userId, path.key), nodes: [] },
  };
}

const member = (leafIndex: number): Sender => ({ senderType: 'member', leafIndex });
const external: Sender = { senderType: 'new_member_commit' };
const remove = (leaf: PolicyLeaf): Proposal => ({
  proposalType: 'remove',
  remove: { removed: leaf.leafIndex },
});
const externalInit: Proposal = { proposalType: 'external_init', externalInit: { kemOutput: key(5) } };
const add = (userId: string): Proposal =>
  ({
    proposalType: 'add',
    add: { keyPackage: { leafNode: leafNode(userId, key(8)) } },
  }) as unknown as Proposal;

const OTHER_PROPOSALS: Proposal[] = [
  { proposalType: 'update', update: { leafNode: leafNode('alice-0001', key(1)) as never } },
  { proposalType: 'psk', psk: { preSharedKeyId: {} as never } },
  {
    proposalType: 'reinit',
    reinit: {
      groupId: key(1),
      version: 'mls10',
      cipherSuite: 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519',
      extensions: [],
    },
  },
  externalInit,
  { proposalType: 0x7777, proposalData: key(1) },
];

function refused(verdict: Verdict) {
  if (verdict.allowed) throw new Error(`expected a refusal, got an allowed ${verdict.kind}`);
  return verdict.violation;
}

describe('member commits', () => {
  it('allows an empty commit and a path update that keeps identity and key', () => {
    expect(judgeCommit({ sender: member(0), commit: commit([]) }, context())).toMatchObject({
      allowed: true,
      kind: 'update',
      removed: [],
    });
    const withPath = judgeCommit(
      { sender: member(0), commit: commit([], { userId: ALICE.userId, key: ALICE.signatureKey }) },
      context(),
    );
    expect(withPath).toMatchObject({ allowed: true, kind: 'update', committer: { userId: 'alice-0001' } });
  });

  it('refuses a path that swaps the committer’s identity or signature key', () => {
    for (const path of [
      { userId: BOB.userId, key: ALICE.signatureKey },
      { userId: ALICE.userId, key: key(42) },
    ]) {
      expect(refused(judgeCommit({ sender: member(0), commit: commit([], path) }, context())).code).toBe(
        'identity-change',
      );
    }
  });

  it('allows removing members the judge sees gone, naming who removed whom', () => {
    const verdict = judgeCommit(
      { sender: member(0), commit: commit([remove(BOB), remove(CAROL)]) },
      context(['bob-00001', 'carol-0001']),
    );
    expect(verdict).toMatchObject({
      allowed: true,
      kind: 'removal',
      committer: { userId: 'alice-0001', leafIndex: 0 },
    });
    expect(verdict.allowed && verdict.removed.map((l) => l.userId)).toEqual(['bob-00001', 'carol-0001']);
  });

  it('refuses removing a member who is still here, naming them', () => {
    const violation = refused(
      judgeCommit({ sender: member(0), commit: commit([remove(BOB)]) }, context(['carol-0001'])),
    );
    expect(violation).toMatchObject({
      code: 'remove-present',
      committer: 'alice-0001',
      subjects: ['bob-00001'],
    });
    expect(violation.message).toMatch(/alice-0001 tried to remove bob-00001/);
    // One present member among gone ones spoils the whole commit.
    const mixed = judgeCommit(
      { sender: member(0), commit: commit([remove(CAROL), remove(BOB)]) },
      context(['carol-0001']),
    );
    expect(refused(mixed).code).toBe('remove-present');
  });

  it('allows removing the committer’s own other leaf (same key), not another device of the same user id', () => {
    expect(judgeCommit({ sender: member(0), commit: commit([remove(ALICE_OLD)]) }, context())).toMatchObject({
      allowed: true,
    });
    expect(
      refused(judgeCommit({ sender: member(0), commit: commit([remove(ALICE_PHONE)]) }, context())).code,
    ).toBe('remove-present');
  });

  it('refuses removing oneself, an unknown leaf, or one leaf twice', () => {
    for (const c of [
      commit([remove(ALICE)]),
      commit([{ proposalType: 'remove', remove: { removed: 99 } }]),
      commit([remove(BOB), remove(BOB)]),
    ]) {
      expect(refused(judgeCommit({ sender: member(0), commit: c }, context(['bob-00001']))).code).toBe(
        'malformed',
      );
    }
  });

  it('refuses Adds, naming the user id the added leaf claims', () => {
    const violation = refused(
      judgeCommit({ sender: member(2), commit: commit([add('bob-00001')]) }, context()),
    );
    expect(violation).toMatchObject({ code: 'add', committer: 'carol-0001', subjects: ['bob-00001'] });
    expect(violation.message).toBe('carol-0001 tried to add bob-00001 to the meeting keys');
  });

  it('refuses every other proposal type', () => {
    for (const proposal of OTHER_PROPOSALS) {
      const violation = refused(judgeCommit({ sender: member(0), commit: commit([proposal]) }, context()));
      expect(violation.code, String(proposal.proposalType)).toBe('forbidden-proposal');
    }
  });

  it('refuses a GroupContextExtensions proposal from a member of a group without hosts', () => {
    const gce: Proposal = {
      proposalType: 'group_context_extensions',
      groupContextExtensions: { extensions: [{ extensionType: 0xf0f0, extensionData: key(1) }] },
    };
    expect(refused(judgeCommit({ sender: member(0), commit: commit([gce]) }, context())).code).toBe('roles');
  });

  it('refuses proposals by reference, alone or beside allowed ones', () => {
    expect(
      refused(judgeCommit({ sender: member(0), commit: commit([], undefined, 1) }, context())).code,
    ).toBe('by-reference');
    expect(
      refused(
        judgeCommit(
          { sender: member(0), commit: commit([remove(BOB)], undefined, 1) },
          context(['bob-00001']),
        ),
      ).code,
    ).toBe('by-reference');
  });

  it('refuses a sender leaf outside the group', () => {
    expect(refused(judgeCommit({ sender: member(17), commit: commit([]) }, context())).code).toBe(
      'unknown-sender',
    );
  });
});

describe('external commits', () => {
  const joiner = { userId: 'dave-00001', key: key(4) };

  it('allows a join with one ExternalInit', () => {
    expect(
      judgeCommit({ sender: external, commit: commit([externalInit], joiner) }, context()),
    ).toMatchObject({
      allowed: true,
      kind: 'join',
      committer: { userId: 'dave-00001', leafIndex: undefined },
      removed: [],
    });
  });

  it('allows a resync that removes the joiner’s own old leaf (same signature key)', () => {
    const verdict = judgeCommit(
      {
        sender: external,
        commit: commit([externalInit, remove(BOB)], { userId: BOB.userId, key: BOB.signatureKey }),
      },
      context(),
    );
    expect(verdict).toMatchObject({ allowed: true, kind: 'join' });
    expect(verdict.allowed && verdict.removed).toEqual([BOB]);
  });

  it('refuses removing anyone else, even a leaf of the same user id with another key', () => {
    const foreign = refused(
      judgeCommit({ sender: external, commit: commit([externalInit, remove(BOB)], joiner) }, context()),
    );
    expect(foreign).toMatchObject({ code: 'remove-foreign', subjects: ['bob-00001'] });
    const sameName = judgeCommit(
      { sender: external, commit: commit([externalInit, remove(BOB)], { userId: BOB.userId, key: key(50) }) },
      context(['bob-00001']),
    );
    expect(refused(sameName).code).toBe('remove-foreign');
  });

  it('refuses a join without exactly one ExternalInit, without a path, or with a bad credential', () => {
    expect(refused(judgeCommit({ sender: external, commit: commit([], joiner) }, context())).code).toBe(
      'malformed',
    );
    expect(
      refused(
        judgeCommit({ sender: external, commit: commit([externalInit, externalInit], joiner) }, context()),
      ).code,
    ).toBe('malformed');
    expect(refused(judgeCommit({ sender: external, commit: commit([externalInit]) }, context())).code).toBe(
      'malformed',
    );
    expect(
      refused(
        judgeCommit(
          { sender: external, commit: commit([externalInit], { userId: 'x', key: key(4) }) },
          context(),
        ),
      ).code,
    ).toBe('malformed');
  });

  it('refuses Adds, other proposal types and references inside a join', () => {
    expect(
      refused(
        judgeCommit(
          { sender: external, commit: commit([externalInit, add('eve-000001')], joiner) },
          context(),
        ),
      ).code,
    ).toBe('forbidden-proposal');
    for (const proposal of OTHER_PROPOSALS.filter((p) => p !== externalInit)) {
      const c = commit([externalInit, proposal], joiner);
      expect(refused(judgeCommit({ sender: external, commit: c }, context())).code).toBe(
        'forbidden-proposal',
      );
    }
    expect(
      refused(judgeCommit({ sender: external, commit: commit([externalInit], joiner, 1) }, context())).code,
    ).toBe('by-reference');
  });
});

describe('other senders and standalone proposals', () => {
  it('refuses commits from external and new_member_proposal senders', () => {
    for (const sender of [
      { senderType: 'external', senderIndex: 0 },
      { senderType: 'new_member_proposal' },
    ] as Sender[]) {
      expect(refused(judgeCommit({ sender, commit: commit([]) }, context())).code).toBe('sender-type');
    }
  });

  it('refuses every standalone proposal, naming an Add’s subject', () => {
    expect(judgeProposal(add('bob-00001'), 'carol-0001')).toMatchObject({
      code: 'add',
      committer: 'carol-0001',
      subjects: ['bob-00001'],
    });
    for (const proposal of [remove(BOB), ...OTHER_PROPOSALS]) {
      expect(judgeProposal(proposal, 'carol-0001').code).toBe('forbidden-proposal');
    }
  });
});
