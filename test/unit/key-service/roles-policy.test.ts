// The meeting's roles (roles.ts) and the membership policy's host rules: who acts as host, what only
// a host may commit (Adds, Removes of people still here, roles changes), and the lobby's rule for
// external commits. Commits are plain objects, as in membership-policy.test.ts.
import { describe, expect, it } from 'vitest';
import type { Commit, LeafNodeCommit, Proposal, Sender } from 'ts-mls';
import { judgeCommit, type PolicyLeaf, type Verdict } from '@conclave/key-service/membership-policy';
import {
  MAX_HOSTS,
  ROLES_EXTENSION_TYPE,
  actingHosts,
  decodeRoles,
  encodeRoles,
  rolesExtension,
  rolesOf,
  type Roles,
} from '@conclave/key-service/roles';

const enc = new TextEncoder();
const key = (n: number) => new Uint8Array(32).fill(n);
const ALICE: PolicyLeaf = { leafIndex: 0, userId: 'alice-0001', signatureKey: key(1) };
const BOB: PolicyLeaf = { leafIndex: 1, userId: 'bob-00001', signatureKey: key(2) };
const CAROL: PolicyLeaf = { leafIndex: 2, userId: 'carol-0001', signatureKey: key(3) };
const LEAVES = [ALICE, BOB, CAROL];
const HOSTED: Roles = { hosts: [ALICE.signatureKey], lobby: true, locked: false };

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

const commit = (proposals: Proposal[], joiner?: PolicyLeaf): Commit => ({
  proposals: proposals.map((proposal) => ({ proposalOrRefType: 'proposal', proposal })),
  path:
    joiner === undefined ? undefined : { leafNode: leafNode(joiner.userId, joiner.signatureKey), nodes: [] },
});
const member = (leafIndex: number): Sender => ({ senderType: 'member', leafIndex });
const external: Sender = { senderType: 'new_member_commit' };
const remove = (leaf: PolicyLeaf): Proposal => ({
  proposalType: 'remove',
  remove: { removed: leaf.leafIndex },
});
const add = (userId: string, signatureKey: Uint8Array = key(8)): Proposal =>
  ({
    proposalType: 'add',
    add: { keyPackage: { leafNode: leafNode(userId, signatureKey) } },
  }) as unknown as Proposal;
const rolesChange = (roles: Roles): Proposal => ({
  proposalType: 'group_context_extensions',
  groupContextExtensions: { extensions: [rolesExtension(roles)] },
});
const externalInit: Proposal = { proposalType: 'external_init', externalInit: { kemOutput: key(5) } };

function judge(
  sender: Sender,
  c: Commit,
  roles: Roles | undefined,
  extra: { gone?: string[]; intruders?: number[] } = {},
) {
  return judgeCommit(
    { sender, commit: c },
    {
      leaves: LEAVES,
      isGone: (id) => extra.gone?.includes(id) ?? false,
      roles,
      intruders: new Set(extra.intruders ?? []),
    },
  );
}
const ok = (v: Verdict) => {
  if (!v.allowed) throw new Error(`refused: ${v.violation.message}`);
  return v;
};
const code = (v: Verdict) => (v.allowed ? 'allowed' : v.violation.code);

describe('the roles extension', () => {
  it('round-trips, and decodes nothing but exactly a valid encoding', () => {
    const roles: Roles = { hosts: [key(1), key(2)], lobby: true, locked: true };
    const bytes = encodeRoles(roles);
    expect(decodeRoles(bytes)).toEqual(roles);
    expect(decodeRoles(bytes.slice(0, -1))).toBeUndefined(); // truncated
    expect(decodeRoles(new Uint8Array([...bytes, 0]))).toBeUndefined(); // trailing byte
    const badFlags = bytes.slice();
    badFlags[1] = 0x80;
    expect(decodeRoles(badFlags)).toBeUndefined();
    expect(
      decodeRoles(encodeRoles({ hosts: [key(1)], lobby: false, locked: false }).fill(2, 0, 1)),
    ).toBeUndefined(); // version
    const twice = encodeRoles({ hosts: [key(1), key(1)], lobby: false, locked: false });
    expect(decodeRoles(twice)).toBeUndefined();
    expect(() => encodeRoles({ hosts: [], lobby: true, locked: false })).toThrow();
    expect(() =>
      encodeRoles({
        hosts: Array.from({ length: MAX_HOSTS + 1 }, (_, i) => key(i)),
        lobby: true,
        locked: false,
      }),
    ).toThrow();
  });

  it('is read from a context only when it is the one extension there', () => {
    const ext = rolesExtension(HOSTED);
    expect(rolesOf([ext])).toEqual(HOSTED);
    expect(rolesOf([])).toBeUndefined();
    expect(rolesOf([ext, { extensionType: 0xf0f0, extensionData: key(1) }])).toBeUndefined();
    expect(
      rolesOf([{ extensionType: ROLES_EXTENSION_TYPE + 1, extensionData: ext.extensionData }]),
    ).toBeUndefined();
  });

  it('passes the host role to the lowest leaf only behind the lobby, when no listed host is left', () => {
    const gone: Roles = { hosts: [key(42)], lobby: true, locked: false };
    expect(actingHosts(gone, LEAVES).map((l) => l.leafIndex)).toEqual([0]);
    expect(actingHosts({ ...gone, lobby: false }, LEAVES)).toEqual([]);
    expect(actingHosts({ ...gone, hosts: [BOB.signatureKey] }, LEAVES).map((l) => l.userId)).toEqual([
      'bob-00001',
    ]);
  });
});

describe('host rules of the membership policy', () => {
  it('lets a host admit someone new, and nobody else', () => {
    expect(ok(judge(member(0), commit([add('dave-00001')]), HOSTED))).toMatchObject({
      kind: 'admission',
      added: [{ userId: 'dave-00001' }],
    });
    expect(code(judge(member(1), commit([add('dave-00001')]), HOSTED))).toBe('add');
  });

  it('admits nobody into a locked meeting, nor a key already in the group', () => {
    expect(code(judge(member(0), commit([add('dave-00001')]), { ...HOSTED, locked: true }))).toBe('locked');
    expect(code(judge(member(0), commit([add('bob-00001', BOB.signatureKey)]), HOSTED))).toBe('malformed');
    expect(code(judge(member(0), commit([add('dave-00001'), add('erin-00001')]), HOSTED))).toBe('malformed'); // one key twice
  });

  it('lets only a host remove someone still here, and says so', () => {
    expect(code(judge(member(1), commit([remove(CAROL)]), HOSTED))).toBe('remove-present');
    const verdict = ok(judge(member(0), commit([remove(CAROL)]), HOSTED));
    expect(verdict.removedByHost.map((l) => l.userId)).toEqual(['carol-0001']);
    // A gone member is anyone's to remove, and not a host's removal.
    const gone = ok(judge(member(1), commit([remove(CAROL)]), HOSTED, { gone: ['carol-0001'] }));
    expect(gone.removedByHost).toEqual([]);
  });

  it('lets anyone remove a leaf the judge saw come in unadmitted', () => {
    const verdict = ok(judge(member(1), commit([remove(CAROL)]), HOSTED, { intruders: [2] }));
    expect(verdict.removedIntruders.map((l) => l.userId)).toEqual(['carol-0001']);
  });

  it('lets a host change the roles, alone in its commit, to members or earlier hosts only', () => {
    const withBob: Roles = { ...HOSTED, hosts: [ALICE.signatureKey, BOB.signatureKey] };
    expect(ok(judge(member(0), commit([rolesChange(withBob)]), HOSTED)).roles).toEqual(withBob);
    expect(code(judge(member(1), commit([rolesChange(withBob)]), HOSTED))).toBe('roles'); // a forged host change
    expect(code(judge(member(0), commit([rolesChange({ ...HOSTED, hosts: [key(77)] })]), HOSTED))).toBe(
      'roles',
    );
    expect(
      code(judge(member(0), commit([rolesChange({ ...HOSTED, lobby: false }), remove(CAROL)]), HOSTED)),
    ).toBe('roles');
    const unknown: Proposal = {
      proposalType: 'group_context_extensions',
      groupContextExtensions: { extensions: [{ extensionType: 0xf0f0, extensionData: key(1) }] },
    };
    expect(code(judge(member(0), commit([unknown]), HOSTED))).toBe('roles'); // the bricking extension
  });

  it('lets only a member coming back in by external commit behind the lobby or the lock', () => {
    const dave = { leafIndex: -1, userId: 'dave-00001', signatureKey: key(8) };
    expect(code(judge(external, commit([externalInit], dave), HOSTED))).toBe('not-admitted');
    expect(
      code(judge(external, commit([externalInit], dave), { ...HOSTED, lobby: false, locked: true })),
    ).toBe('not-admitted');
    expect(code(judge(external, commit([externalInit], dave), { ...HOSTED, lobby: false }))).toBe('allowed');
    // Bob resyncs: his own old leaf, by his key.
    expect(code(judge(external, commit([externalInit, remove(BOB)], BOB), HOSTED))).toBe('allowed');
    // An intruder resyncing its own leaf is still an intruder.
    expect(
      code(judge(external, commit([externalInit, remove(CAROL)], CAROL), HOSTED, { intruders: [2] })),
    ).toBe('not-admitted');
  });
});
