// The key service runs inside the main server: the same session tokens open `/keys`, and when the
// SFU's signaling sees a participant go, the MLS group removes them (a new epoch without them).
import { beforeEach, expect, it } from 'vitest';
import type { EpochKeys, KeyClient } from '@conclave/key-service/client';
import { newUserId } from '../../server/src/auth/tokens.ts';
import { serverFixture } from './support/serverFixture.ts';
import type { TestServer } from './support/testServer.ts';

const fixture = serverFixture();
let ts: TestServer;
beforeEach(async () => {
  ts = await fixture.start();
});
const participant = (room: string, name: string) => fixture.member(room, name);

function nextEpoch(client: KeyClient, after: bigint): Promise<EpochKeys> {
  return new Promise((resolve) => {
    const onEpoch = (keys: EpochKeys) => {
      if (keys.epoch > after) {
        client.off('epoch', onEpoch);
        resolve(keys);
      }
    };
    client.on('epoch', onEpoch);
  });
}

it('removes a participant from the MLS group when their signaling socket goes', async () => {
  const alice = await participant('keyed-room', 'Alice');
  const bob = await participant('keyed-room', 'Bob');
  await expect.poll(() => alice.keys.current?.members.length).toBe(2);
  const before = alice.keys.current!;
  expect(bob.keys.current?.securityCode).toBe(before.securityCode);

  const removal = nextEpoch(alice.keys, before.epoch);
  bob.signaling.close();
  const after = await removal;

  expect(after.members.map((m) => m.userId)).toEqual([alice.userId]);
  expect(Buffer.from(after.baseKey).equals(Buffer.from(before.baseKey))).toBe(false);
  expect(ts.server.keys.snapshot('keyed-room')?.members.map((m) => m.userId)).toEqual([alice.userId]);
});

it('refuses the key service to a socket without a valid session token', async () => {
  const keys = fixture.keyClient('forged', newUserId());
  await expect(keys.start()).rejects.toThrow();
});

it('keeps a participant whose media failed in the MLS group across its rejoin, and tells the others', async () => {
  const room = 'media-retry-room';
  const alice = await participant(room, 'Alice');
  const bobId = newUserId();
  const bobToken = await fixture.session(room, 'Bob', bobId);
  let bobSignaling = await fixture.connect({ token: bobToken });
  const bobPeerIds = [(await bobSignaling.join()).self.peerId];
  const bobKeys = fixture.keyClient(bobToken, bobId);
  await bobKeys.start();
  await expect.poll(() => alice.keys.current?.members.length).toBe(2);
  const joined = alice.keys.current!;
  let epochChanges = 0;
  alice.keys.on('epoch', () => epochChanges++);

  // Three failed attempts in a row, as a browser whose ICE keeps failing makes them.
  for (let attempt = 0; attempt < 3; attempt++) {
    await bobSignaling.ok('reportMediaFailure', { direction: 'recv' });
    const told = await alice.signaling.waitFor('peerMediaFailed');
    expect(told.data.peerId).toBe(bobPeerIds.at(-1));
    alice.signaling.notifications.length = 0;
    bobSignaling.close();
    await new Promise((resolve) => setTimeout(resolve, 700));
    bobSignaling = await fixture.connect({ token: bobToken });
    bobPeerIds.push((await bobSignaling.join()).self.peerId);
  }
  // Long enough for a removal commit to have landed, had one been made (the handover is 3 s).
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  expect(epochChanges).toBe(0);
  expect(alice.keys.current!.securityCode).toBe(joined.securityCode);
  expect(
    ts.server.keys
      .snapshot(room)
      ?.members.map((m) => m.userId)
      .sort(),
  ).toEqual([alice.userId, bobId].sort());

  // Without the report, leaving is leaving: the removal comes at once.
  const removal = nextEpoch(alice.keys, joined.epoch);
  bobSignaling.close();
  expect((await removal).members.map((m) => m.userId)).toEqual([alice.userId]);
});
