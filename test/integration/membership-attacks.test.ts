// Every membership attack from the review, by a participant built from raw ts-mls and socket.io
// (test/support/mlsAttacker.ts), against the real key service and real KeyClients. Each runs twice:
// once as deployed, where the key service refuses it; once with the key service's checks switched off
// (a hostile or broken server relays it), where every honest client refuses that epoch on its own,
// names who tried what, and keeps the keys of the last epoch it accepted — which the attacker's ghost
// never held.
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyClient } from '@conclave/key-service/client';
import type { Refusal } from '../../key-service/src/client/membership-guard.ts';
import { MlsAttacker, removeLeaf, unknownContextExtension } from '../support/mlsAttacker.ts';
import { hex, inSync, keyOf, ROOM, startHarness, until, type Harness } from './key-service.harness.ts';

let h: Harness | undefined;
const attackers: MlsAttacker[] = [];
afterEach(async () => {
  for (const a of attackers.splice(0)) a.close();
  await h?.close();
  h = undefined;
});

const MALLORY = 'mallory-01';
const BOB = 'bob-00001';

interface Meeting {
  t: Harness;
  honest: KeyClient[];
  refusals: Map<KeyClient, Refusal>;
  mallory: MlsAttacker;
  /** The epoch and base key everyone held once Mallory had joined. */
  epoch: bigint;
  key: string;
}

/** Alice, Bob and Carol meet; Mallory joins by external commit, as any invitee may. */
async function meeting(enforce: boolean): Promise<Meeting> {
  const t = (h = await startHarness({ rateBurst: 200, ratePerSecond: 200 }));
  if (!enforce) t.service.unsafeDisableMembershipPolicy();
  const honest = [t.client('alice-0001'), t.client(BOB), t.client('carol-0001')];
  const refusals = new Map<KeyClient, Refusal>();
  for (const c of honest) {
    c.on('membership-refused', (r) => refusals.set(c, r));
    c.on('removed', () => {
      throw new Error('an honest client accepted its own removal');
    });
    await c.start();
  }
  await inSync(honest, 2n);
  const mallory = await attacker(t, MALLORY);
  expect((await mallory.join()).ok).toBe(true);
  await inSync(honest, 3n);
  const first = honest[0];
  if (first === undefined) throw new Error('no client');
  return { t, honest, refusals, mallory, epoch: 3n, key: keyOf(first) };
}

async function attacker(t: Harness, userId: string): Promise<MlsAttacker> {
  const token = await t.tokens.mintSession({ room: ROOM, sub: userId, name: userId });
  const a = await MlsAttacker.connect(t.url, token, userId);
  attackers.push(a);
  return a;
}

/** As deployed: the key service answers 'forbidden' naming the policy, and the room stays put. */
function expectServiceRefused(
  answer: { ok: boolean; error?: { code: string; message: string } },
  what: RegExp,
) {
  expect(answer.ok).toBe(false);
  expect(answer.error?.code).toBe('forbidden');
  expect(answer.error?.message).toMatch(/refused by the membership policy/);
  expect(answer.error?.message).toMatch(what);
}

/** Checks off: the service relayed it; every honest client refused that epoch, naming Mallory. */
async function expectClientsRefused(m: Meeting, code: string, subjects: string[] = []): Promise<void> {
  await until(() => m.refusals.size === m.honest.length, 10_000, 'every client to refuse');
  for (const c of m.honest) {
    expect(m.refusals.get(c)).toMatchObject({
      epoch: m.epoch + 1n,
      violation: { code, committer: MALLORY, subjects },
    });
    expect(c.refusal).toBeDefined();
  }
}

/** Either way, the honest members still share the keys of the epoch before the attack. */
async function expectKeysKept(m: Meeting): Promise<void> {
  await inSync(m.honest, m.epoch);
  for (const c of m.honest) expect(keyOf(c)).toBe(m.key);
}

describe.each([
  { mode: 'as deployed, the key service refuses', enforce: true },
  { mode: 'with the key service’s checks off, every client refuses', enforce: false },
])('membership attacks: $mode', ({ enforce }) => {
  it('removing every other member, again and again', async () => {
    const m = await meeting(enforce);
    const victims = ['alice-0001', BOB, 'carol-0001'].flatMap((id) => m.mallory.leavesOf(id));
    expect(victims).toHaveLength(3);
    for (let round = 0; round < (enforce ? 3 : 1); round++) {
      const answer = await m.mallory.commit(victims.map(removeLeaf));
      if (enforce) expectServiceRefused(answer, /mallory-01 tried to remove alice-0001, who is still here/);
      else expect(answer.ok).toBe(true);
      await expectKeysKept(m);
    }
    if (!enforce) {
      await expectClientsRefused(m, 'remove-present', ['alice-0001']);
      // She carries on alone in her fork; nobody follows it.
      expect((await m.mallory.commit([])).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      await expectKeysKept(m);
    }
    expect(m.t.service.snapshot(ROOM)?.epoch).toBe(enforce ? 3 : 5);
  });

  it('an Add of a ghost leaf named Bob whose keys Mallory holds', async () => {
    const m = await meeting(enforce);
    const answer = await m.mallory.commit([await m.mallory.ghostAdd(BOB)]);
    if (enforce) expectServiceRefused(answer, /mallory-01 tried to add bob-00001/);
    else await expectClientsRefused(m, 'add', [BOB]);
    // Counted for /metrics (conclave_keys_policy_refusals_total{code="add"}) only when refused there.
    expect(m.t.service.stats().policyRefusals).toEqual(enforce ? { add: 1 } : {});
    await expectKeysKept(m);
    // The keys of the ghost's epoch are in nobody's hands but Mallory's.
    for (const c of m.honest) expect(keyOf(c)).not.toBe(hex(answer.exporter));
  });

  it('an Add sent as a standalone proposal, then committed by reference', async () => {
    const m = await meeting(enforce);
    const proposed = await m.mallory.propose(await m.mallory.ghostAdd(BOB));
    if (enforce) expectServiceRefused(proposed, /standalone add proposal/);
    else expect(proposed.ok).toBe(true);
    const answer = await m.mallory.commit([]); // ts-mls carries the pending proposal by reference
    if (enforce) expectServiceRefused(answer, /by reference/);
    else await expectClientsRefused(m, 'by-reference');
    await expectKeysKept(m);
  });

  it('a GroupContextExtensions proposal with an unknown extension (would brick every later join)', async () => {
    const m = await meeting(enforce);
    const answer = await m.mallory.commit([unknownContextExtension()]);
    // Only a host changes the group context, and only to valid meeting roles (roles.ts).
    if (enforce) expectServiceRefused(answer, /who hosts the meeting, without being a host/);
    else await expectClientsRefused(m, 'roles');
    await expectKeysKept(m);
    const dave = m.t.client('dave-00001');
    if (enforce) {
      // The group was never bricked: a newcomer joins as usual.
      await dave.start();
      await inSync([...m.honest, dave], 4n);
    } else {
      // The server's group is bricked; a newcomer is told why instead of failing deep inside MLS.
      await expect(dave.start()).rejects.toThrow(
        /cannot be joined safely: the group context carries extensions other than valid meeting roles/,
      );
    }
  });

  it('a padded GroupInfo, which every sync would hand to everyone', async () => {
    const m = await meeting(enforce);
    const pad = (bytes: number) => ({
      groupInfoExtensions: [{ extensionType: 0xff01, extensionData: new Uint8Array(bytes) }],
    });
    // 1.4 MB is over the size cap whatever the policy says.
    const huge = await m.mallory.commit([], pad(1_400_000));
    expect(huge.error?.code).toBe('too-large');
    const padded = await m.mallory.commit([], pad(300_000));
    const dave = m.t.client('dave-00001');
    if (enforce) {
      expect(padded.error).toMatchObject({
        code: 'forbidden',
        message: 'the GroupInfo carries a 65281 extension',
      });
      await expectKeysKept(m);
      await dave.start();
    } else {
      // The commit itself is an honest rekey, which members adopt; the GroupInfo is what joiners refuse.
      expect(padded.ok).toBe(true);
      await inSync(m.honest, 4n);
      await expect(dave.start()).rejects.toThrow(
        /cannot be joined safely: the GroupInfo carries a 65281 extension/,
      );
    }
  });
});

describe('the operator’s ghost: a server-minted session for Bob’s user id', () => {
  it('joins by external commit, which the policy allows; every client sees Bob hold the keys twice, and 4 key holders', async () => {
    const t = (h = await startHarness({ rateBurst: 200, ratePerSecond: 200 }));
    const honest = [t.client('alice-0001'), t.client(BOB), t.client('carol-0001')];
    const keyChanges: string[] = [];
    for (const c of honest) {
      c.on('key-changed', (k) => keyChanges.push(k.userId));
      await c.start();
    }
    await inSync(honest, 2n);
    // The operator holds the token secret: it signs a session for Bob and joins with keys of its own.
    const ghost = await attacker(t, BOB);
    expect((await ghost.join()).ok).toBe(true);
    await inSync(honest, 3n);
    for (const c of honest) {
      const members = c.current?.members ?? [];
      expect(members).toHaveLength(4);
      const bobs = members.filter((m) => m.userId === BOB);
      expect(bobs).toHaveLength(2);
      expect(bobs[0]?.fingerprint).not.toBe(bobs[1]?.fingerprint);
    }
    // Trust on first use flags the new key for Bob in Alice's and Carol's browsers.
    await until(() => keyChanges.filter((id) => id === BOB).length >= 2, 5000, 'key-changed for Bob');
  });
});

describe('honest membership changes', () => {
  it('a removal of someone signaling reported gone is accepted everywhere and announced as a leave, also when they come straight back', async () => {
    const t = (h = await startHarness({ rateBurst: 200, ratePerSecond: 200 }));
    const [alice, bob, carol] = [t.client('alice-0001'), t.client(BOB), t.client('carol-0001')];
    const changes: Array<{ epoch: bigint; left: string[]; joined: string | undefined; by: string }> = [];
    carol.on('membership', (c) => changes.push(c));
    for (const c of [alice, bob, carol]) await c.start();
    await inSync([alice, bob, carol], 2n);
    // Signaling reports Bob gone; his KeyClient is still running and comes back within a second.
    t.service.peerGone(ROOM, BOB);
    await until(() => changes.some((c) => c.left.includes(BOB)), 10_000, 'Bob’s removal');
    await until(() => changes.some((c) => c.joined === BOB), 10_000, 'Bob’s return');
    await inSync([alice, bob, carol]);
    expect(changes.find((c) => c.left.includes(BOB))).toMatchObject({ by: 'alice-0001', joined: undefined });
    expect(t.refusals).toEqual([]);
  });
});
