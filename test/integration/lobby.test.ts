// Hosts, the lobby and the lock against the real key service, with real MLS: a host's browser decides
// who comes in, and every member's browser checks it. Each rule is also tried by a raw ts-mls attacker
// (test/support/mlsAttacker.ts), first against the key service's checks and then with them switched
// off, to show that the clients alone hold.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyServiceError, MemoryIdentityStore, type KeyClient } from '@conclave/key-service/client';
import { MlsAttacker, removeLeaf } from '../support/mlsAttacker.ts';
import { ROLES_EXTENSION_TYPE, encodeRoles } from '@conclave/key-service/roles';
import {
  ROOM,
  hex,
  inSync,
  must,
  recordKeys,
  startHarness,
  until,
  type Harness,
} from './key-service.harness.ts';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

/** A host who starts a meeting with the lobby on. */
async function hostMeeting(userId = 'alice-0001'): Promise<KeyClient> {
  const alice = h.client(userId, { lobby: true });
  await alice.start();
  return alice;
}

/** A guest who knocks; resolves once the host sees the knock. */
async function knock(
  host: KeyClient,
  userId: string,
  identityStore?: MemoryIdentityStore,
): Promise<{ guest: KeyClient; joined: Promise<unknown> }> {
  const guest = h.client(
    userId,
    identityStore === undefined ? { host: false } : { host: false, identityStore },
  );
  const joined = guest.start();
  joined.catch(() => undefined);
  await until(() => host.knocks.some((k) => k.userId === userId), 10_000, `${userId}'s knock`);
  return { guest, joined };
}

async function attacker(userId: string, host = false): Promise<MlsAttacker> {
  const token = await h.tokens.mintSession({ room: ROOM, sub: userId, name: userId, host });
  return MlsAttacker.connect(h.url, token, userId);
}

describe('the lobby', () => {
  it('keeps a guest waiting, without keys, until a host admits exactly the key that knocked', async () => {
    const alice = await hostMeeting();
    expect(alice.isHost).toBe(true);
    expect(alice.current?.lobby).toBe(true);
    const waiting: string[] = [];
    const bob = h.client('bob-00001', { host: false });
    bob.on('waiting', (w) => waiting.push(w.reason));
    const joined = bob.start();
    await until(() => alice.knocks.length === 1, 10_000, 'the knock');
    expect(waiting).toEqual(['knocking']);
    expect(bob.current).toBeUndefined();
    const [knocked] = alice.knocks;
    expect(knocked).toMatchObject({ userId: 'bob-00001', name: 'bob-00001' });
    expect(knocked?.fingerprint).toBe(await bob.ownFingerprint());
    expect(h.service.snapshot(ROOM)?.members.map((m) => m.userId)).toEqual(['alice-0001']);

    await alice.admit(must(knocked).id);
    await joined;
    await inSync([alice, bob]);
    expect(alice.knocks).toEqual([]);
    expect(bob.isHost).toBe(false);
    expect(h.refusals).toEqual([]);
  });

  it('tells a denied guest "The host did not let you in", and nobody else learns a key for them', async () => {
    const alice = await hostMeeting();
    const { joined } = await knock(alice, 'bob-00001');
    const epoch = alice.epoch;
    await alice.deny(must(alice.knocks[0]).id);
    await expect(joined).rejects.toMatchObject({ code: 'denied', message: 'The host did not let you in' });
    await until(() => alice.knocks.length === 0, 5000, 'the knock to go');
    expect(alice.epoch).toBe(epoch);
  });

  it('lets a guest in directly once a host turns the lobby off', async () => {
    const alice = await hostMeeting();
    const { guest, joined } = await knock(alice, 'bob-00001');
    await alice.setLobby(false);
    await joined;
    await inSync([alice, guest]);
    expect(guest.current?.lobby).toBe(false);
  });

  it('locks: a waiting guest and a new one are told "This meeting is locked"', async () => {
    const alice = await hostMeeting();
    const { joined } = await knock(alice, 'bob-00001');
    await alice.setLocked(true);
    await expect(joined).rejects.toMatchObject({ code: 'locked', message: 'This meeting is locked' });
    const carol = h.client('carol-0001', { host: false });
    await expect(carol.start()).rejects.toMatchObject({ code: 'locked' });
    expect(alice.current?.locked).toBe(true);
    await alice.setLocked(false);
    // Those turned away do not knock again by themselves; someone new can.
    const { guest, joined: again } = await knock(alice, 'dave-00001');
    expect(alice.knocks.map((k) => k.userId)).toEqual(['dave-00001']);
    await alice.admit(must(alice.knocks[0]).id);
    await again;
    await inSync([alice, guest]);
  });

  it('lets a guest who came before the host in once the host starts the meeting and admits them', async () => {
    const waiting: string[] = [];
    const bob = h.client('bob-00001', { host: false });
    bob.on('waiting', (w) => waiting.push(w.reason));
    const joined = bob.start();
    await until(() => waiting.includes('no-meeting'), 5000, 'waiting for the host');
    const alice = await hostMeeting();
    await until(() => alice.knocks.length === 1, 10_000, 'the knock');
    await alice.admit(must(alice.knocks[0]).id);
    await joined;
    await inSync([alice, bob]);
  });

  it('lets a member back in after a dropped connection without a new admission', async () => {
    const alice = await hostMeeting();
    const { guest: bob, joined } = await knock(alice, 'bob-00001');
    await alice.admit(must(alice.knocks[0]).id);
    await joined;
    await h.restart(); // every socket drops; the group lives on in the clients
    await until(() => (h.service.snapshot(ROOM)?.members.length ?? 0) === 2, 15_000, 'both back');
    await inSync([alice, bob]);
    expect(alice.knocks).toEqual([]);
    expect(h.refusals).toEqual([]);
  });

  it('lets a member removed as gone back in with the same key, admitted by the host by itself', async () => {
    const alice = await hostMeeting();
    const identity = new MemoryIdentityStore();
    const { guest: bob, joined } = await knock(alice, 'bob-00001', identity);
    await alice.admit(must(alice.knocks[0]).id);
    await joined;
    // His connection drops for good: the others remove him as gone.
    bob.close();
    h.service.peerGone(ROOM, 'bob-00001');
    await until(() => alice.current?.members.length === 1, 10_000, 'Bob removed');
    // He comes back (the same browser: the same key); nobody clicks anything.
    const back = h.client('bob-00001', { host: false, identityStore: identity });
    await back.start();
    await inSync([alice, back]);
    // A stranger still waits.
    const { guest: carol } = await knock(alice, 'carol-0001');
    await new Promise((r) => setTimeout(r, 500));
    expect(carol.current).toBeUndefined();
  });
});

describe('host actions', () => {
  it('a host removes a member who is here: they learn who did it, and the next keys leave them out', async () => {
    const alice = await hostMeeting();
    const { guest: bob, joined } = await knock(alice, 'bob-00001');
    await alice.admit(must(alice.knocks[0]).id);
    await joined;
    const { guest: carol, joined: carolIn } = await knock(alice, 'carol-0001');
    await alice.admit(must(alice.knocks[0]).id);
    await carolIn;
    await inSync([alice, bob, carol]);
    const removed: Array<{ by: string; byHost: boolean }> = [];
    bob.on('removed', (r) => removed.push(r));
    const told: string[][] = [];
    carol.on('membership', (m) => told.push(m.removedByHost));
    const bobKeys = recordKeys(bob);
    const bobLeaf = must(alice.current?.members.find((m) => m.userId === 'bob-00001')).leafIndex;
    await alice.removeMember(bobLeaf);
    await inSync([alice, carol]);
    await until(() => removed.length === 1, 5000, "Bob's removal");
    expect(removed[0]).toMatchObject({ by: 'alice-0001', byHost: true });
    expect(told, 'Carol is told a host removed Bob').toContainEqual(['bob-00001']);
    expect(bob.current).toBeUndefined();
    expect(bobKeys.map((k) => hex(k.baseKey))).not.toContain(hex(must(alice.current).baseKey));
    // He does not come back: the key service refuses his session in this meeting.
    const again = h.client('bob-00001', { host: false });
    await expect(again.start()).rejects.toBeInstanceOf(KeyServiceError);
  });

  it('a host makes another member a host, who can then admit', async () => {
    const alice = await hostMeeting();
    const { guest: bob, joined } = await knock(alice, 'bob-00001');
    await alice.admit(must(alice.knocks[0]).id);
    await joined;
    await alice.makeHost(must(bob.current).ownLeafIndex);
    await until(() => bob.isHost, 5000, 'Bob a host');
    const { guest: carol, joined: carolIn } = await knock(bob, 'carol-0001');
    await bob.admit(must(bob.knocks[0]).id);
    await carolIn;
    await inSync([alice, bob, carol]);
  });

  it('a leaving last host hands the role over; a vanished one passes it to the lowest leaf', async () => {
    const alice = await hostMeeting();
    const { guest: bob, joined } = await knock(alice, 'bob-00001');
    await alice.admit(must(alice.knocks[0]).id);
    await joined;
    await alice.handOver();
    await until(() => bob.isHost, 5000, 'Bob a host after the handover');
    // A second case: Bob vanishes (no handover); Carol, admitted by him, inherits behind the lobby.
    const { guest: carol, joined: carolIn } = await knock(bob, 'carol-0001');
    await bob.admit(must(bob.knocks[0]).id);
    await carolIn;
    alice.close();
    bob.close();
    h.service.peerGone(ROOM, 'alice-0001');
    h.service.peerGone(ROOM, 'bob-00001');
    await until(() => carol.current?.members.length === 1, 10_000, 'Carol alone');
    expect(carol.isHost).toBe(true);
  });
});

describe('attackers from raw protocol pieces', () => {
  for (const mode of ['enforce', 'off'] as const) {
    describe(`with the key service's checks ${mode === 'enforce' ? 'on' : 'switched off'}`, () => {
      beforeEach(() => {
        if (mode === 'off') h.service.unsafeDisableMembershipPolicy();
      });

      it('an operator-minted session joining by external commit behind the lobby decrypts nothing', async () => {
        const alice = await hostMeeting();
        const { guest: bob, joined } = await knock(alice, 'bob-00001');
        await alice.admit(must(alice.knocks[0]).id);
        await joined;
        await inSync([alice, bob]);
        const used = [...recordKeys(alice), ...recordKeys(bob)];
        const intruders: string[] = [];
        for (const c of [alice, bob]) c.on('intruder', (i) => intruders.push(i.userId));
        const mallory = await attacker('mallory-01', true);
        const answer = await mallory.join();
        if (mode === 'enforce') {
          expect(answer.ok).toBe(false);
          expect(answer.error?.message).toMatch(/without being admitted/);
          return;
        }
        expect(answer.ok).toBe(true);
        // Every member takes the epoch in only to remove the intruder, and exports no key from it.
        await until(() => intruders.length === 2, 10_000, 'both to see the intruder');
        await until(
          () => alice.current?.members.length === 2 && bob.current?.members.length === 2,
          10_000,
          'removal',
        );
        await inSync([alice, bob]);
        expect(used.map((k) => hex(k.baseKey))).not.toContain(hex(answer.exporter));
        expect(used.some((k) => k.members.some((m) => m.userId === 'mallory-01'))).toBe(false);
        expect(h.refusals).toEqual([]);
      });

      it('a non-host removing someone who is here is refused', async () => {
        const alice = await hostMeeting();
        const { guest: bob, joined } = await knock(alice, 'bob-00001');
        await alice.admit(must(alice.knocks[0]).id);
        await joined;
        const mallory = await attacker('mallory-01');
        // Mallory gets in the honest way: she knocks with a KeyPackage whose keys she holds.
        const kp = await mallory.keyPackage('mallory-01');
        const knocked = await mallory.request('knock', {
          keyPackage: MlsAttacker.encodeKeyPackage(kp.publicPackage),
        });
        expect(knocked.ok).toBe(true);
        await until(() => alice.knocks.length === 1, 5000, "Mallory's knock");
        const welcome = waitForWelcome(mallory);
        await alice.admit(must(alice.knocks[0]).id);
        await mallory.acceptWelcome(await welcome, kp);
        await inSync([alice, bob]);
        const epoch = must(alice.epoch);
        const answer = await mallory.commit([removeLeaf(must(bob.current).ownLeafIndex)]);
        if (mode === 'enforce') {
          expect(answer.ok).toBe(false);
          expect(answer.error?.message).toMatch(/still here/);
        } else {
          expect(answer.ok).toBe(true);
          await until(() => h.refusals.length === 2, 5000, 'both to refuse');
          expect(h.refusals.map((r) => r.code)).toEqual(['remove-present', 'remove-present']);
          expect(bob.current).toBeDefined();
        }
        expect(alice.epoch).toBe(epoch);
      });

      it('a non-host admitting someone, or forging a host change, is refused', async () => {
        const alice = await hostMeeting();
        const mallory = await attacker('mallory-01');
        const kp = await mallory.keyPackage('mallory-01');
        const welcome = waitForWelcome(mallory);
        const keyPackage = MlsAttacker.encodeKeyPackage(kp.publicPackage);
        expect((await mallory.request('knock', { keyPackage })).ok).toBe(true);
        await until(() => alice.knocks.length === 1, 5000, "Mallory's knock");
        await alice.admit(must(alice.knocks[0]).id);
        await mallory.acceptWelcome(await welcome, kp);
        const epoch = must(alice.epoch);
        const ghost = await mallory.commit([await mallory.ghostAdd('ghost-0001')]);
        const forged = await mallory.commit([
          {
            proposalType: 'group_context_extensions',
            groupContextExtensions: {
              extensions: [
                {
                  extensionType: ROLES_EXTENSION_TYPE,
                  extensionData: encodeRoles({
                    hosts: [must(mallory.signatureKey)],
                    lobby: false,
                    locked: false,
                  }),
                },
              ],
            },
          },
        ]);
        if (mode === 'enforce') {
          expect([ghost.ok, forged.ok]).toEqual([false, false]);
          expect(alice.epoch).toBe(epoch);
        } else {
          expect(ghost.ok).toBe(true);
          await until(() => h.refusals.length === 1, 5000, 'Alice to refuse');
          expect(h.refusals[0]?.code).toBe('add');
          expect(alice.epoch).toBe(epoch);
        }
        expect(alice.isHost).toBe(true);
      });
    });
  }
});

function waitForWelcome(mallory: MlsAttacker): Promise<Uint8Array> {
  return new Promise((resolve) =>
    mallory.socket.once('welcome', (w: { message: ArrayBuffer | Uint8Array }) =>
      resolve(new Uint8Array(w.message)),
    ),
  );
}
