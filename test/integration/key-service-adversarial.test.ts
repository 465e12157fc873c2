// A malicious or broken peer against the real key service: every bad message is rejected with a
// clear error and nothing in the room changes.
import { memberCapabilities } from '@conclave/key-service/capabilities';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createApplicationMessage,
  createCommit,
  createGroupInfoWithExternalPubAndRatchetTree,
  decodeMlsMessage,
  defaultLifetime,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroupExternal,
  type ClientState,
  type GroupInfo,
  type MLSMessage,
} from 'ts-mls';
import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { DEFAULT_MLS_SUITE, type KeyClient } from '@conclave/key-service/client';
import {
  inSync,
  keyOf,
  must,
  request,
  ROOM,
  startHarness,
  until,
  type Harness,
} from './key-service.harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const enc = new TextEncoder();
const impl = await getCiphersuiteImpl(getCiphersuiteFromName(DEFAULT_MLS_SUITE));

function decode(bytes: Uint8Array): MLSMessage {
  return must(decodeMlsMessage(bytes, 0), 'MLS message')[0];
}

async function currentGroupInfo(socket: Socket): Promise<GroupInfo> {
  const ack = await request(socket, 'sync', {});
  const bytes = (ack.result as { groupInfo: Uint8Array }).groupInfo;
  const msg = decode(new Uint8Array(bytes));
  if (msg.wireformat !== 'mls_group_info') throw new Error('expected GroupInfo');
  return msg.groupInfo;
}

/** An external join prepared (not sent) by a raw peer, with any identity it likes. */
async function prepareJoin(socket: Socket, identity: string) {
  const kp = await generateKeyPackage(
    { credentialType: 'basic', identity: enc.encode(identity) },
    memberCapabilities(),
    defaultLifetime,
    [],
    impl,
  );
  const { publicMessage, newState } = await joinGroupExternal(
    await currentGroupInfo(socket),
    kp.publicPackage,
    kp.privatePackage,
    false,
    impl,
  );
  const groupInfo = await createGroupInfoWithExternalPubAndRatchetTree(newState, [], impl);
  return {
    publicMessage,
    state: newState,
    commit: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_public_message', publicMessage }),
    groupInfo: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_group_info', groupInfo }),
  };
}

async function twoMembers(): Promise<{ t: Harness; alice: KeyClient; bob: KeyClient }> {
  const t = (h = await startHarness({ rateBurst: 200, ratePerSecond: 200 }));
  const alice = t.client('alice-0001');
  const bob = t.client('bob-00001');
  await alice.start();
  await bob.start();
  await inSync([alice, bob], 1n);
  return { t, alice, bob };
}

describe('key service rejects bad input and changes nothing', () => {
  it('wrong identities, forged signatures, mismatched GroupInfo, replays', async () => {
    const { t, alice, bob } = await twoMembers();
    const before = keyOf(alice);
    const mallory = await t.raw('mallory-01');

    // A credential naming someone else than the authenticated user.
    const impostor = await prepareJoin(mallory, 'alice-0001');
    let ack = await request(mallory, 'commit', { commit: impostor.commit, groupInfo: impostor.groupInfo });
    expect(ack.error?.code).toBe('forbidden');

    // A valid join of her own, but with a forged signature.
    const own = await prepareJoin(mallory, 'mallory-01');
    const forged = decode(own.commit.slice()); // decoding may alias the input bytes
    if (forged.wireformat !== 'mls_public_message') throw new Error('expected PublicMessage');
    const signature = forged.publicMessage.auth.signature;
    signature[0] = (signature[0] ?? 0) ^ 1;
    ack = await request(mallory, 'commit', { commit: encodeMlsMessage(forged), groupInfo: own.groupInfo });
    expect(ack.error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/signature/) });

    // Her commit with a GroupInfo that belongs to another commit.
    ack = await request(mallory, 'commit', { commit: own.commit, groupInfo: impostor.groupInfo });
    expect(ack.ok).toBe(false);

    // Application messages from a non-member.
    const app = await createApplicationMessage(own.state, enc.encode('hi'), impl);
    ack = await request(mallory, 'app', {
      message: encodeMlsMessage({
        version: 'mls10',
        wireformat: 'mls_private_message',
        privateMessage: app.privateMessage,
      }),
    });
    expect(ack.error?.code).toBe('not-member');

    expect(t.service.snapshot(ROOM)?.epoch).toBe(1);
    expect(keyOf(alice)).toBe(before);

    // Her honest join is accepted; replaying it afterwards is stale and says the current epoch.
    ack = await request(mallory, 'commit', { commit: own.commit, groupInfo: own.groupInfo });
    expect(ack).toMatchObject({ ok: true, result: { epoch: 2 } });
    await inSync([alice, bob], 2n);
    ack = await request(mallory, 'commit', { commit: own.commit, groupInfo: own.groupInfo });
    expect(ack.error).toMatchObject({ code: 'stale-epoch', epoch: 2 });

    // Now a member, she forges a commit as alice's leaf.
    const state: ClientState = own.state;
    const result = await createCommit({ state, cipherSuite: impl }, { wireAsPublicMessage: true });
    const asAlice = result.commit;
    if (
      asAlice.wireformat !== 'mls_public_message' ||
      asAlice.publicMessage.content.sender.senderType !== 'member'
    ) {
      throw new Error('expected a member commit');
    }
    asAlice.publicMessage.content.sender.leafIndex = 0;
    const nextInfo = encodeMlsMessage({
      version: 'mls10',
      wireformat: 'mls_group_info',
      groupInfo: await createGroupInfoWithExternalPubAndRatchetTree(result.newState, [], impl),
    });
    ack = await request(mallory, 'commit', { commit: encodeMlsMessage(asAlice), groupInfo: nextInfo });
    expect(ack.error?.code).toBe('forbidden');

    expect(t.service.snapshot(ROOM)?.epoch).toBe(2);
    expect(keyOf(alice)).toBe(keyOf(bob));
    const chat: string[] = [];
    bob.on('chat', (m) => chat.push(m.text));
    await alice.sendChat('still fine');
    await until(() => chat.length === 1, 5000, 'chat');
  });

  it('oversized, malformed, unauthenticated, wrong-room and too-fast requests', async () => {
    const { t, alice } = await twoMembers();
    const before = keyOf(alice);
    const mallory = await t.raw('mallory-01');

    let ack = await request(mallory, 'commit', {
      commit: new Uint8Array(300_000),
      groupInfo: new Uint8Array(10),
    });
    expect(ack.error?.code).toBe('too-large');
    for (const payload of [
      { commit: 'abc', groupInfo: 1 },
      { commit: new Uint8Array([1, 2, 3]), groupInfo: new Uint8Array([4, 5, 6]) },
      { commit: new Uint8Array(0), groupInfo: new Uint8Array(0) },
      null,
      'commit',
    ]) {
      ack = await request(mallory, 'commit', payload);
      expect(ack.error?.code).toBe('bad-request');
    }
    ack = await request(mallory, 'sync', { extra: true });
    expect(ack.error?.code).toBe('bad-request');
    ack = await request(mallory, 'publish', { groupInfo: new Uint8Array([0, 1, 0, 4]) });
    expect(ack.error?.code).toBe('bad-request');
    ack = await request(mallory, 'proposal', { message: new Uint8Array(64) });
    expect(ack.error?.code).toBe('bad-request');
    ack = await request(mallory, 'welcome', { to: 'not a user id!', message: new Uint8Array(8) });
    expect(ack.error?.code).toBe('bad-request');

    // No token, a forged token: refused at the handshake.
    for (const auth of [{}, { token: 'eyJhbGciOiJIUzI1NiJ9.e30.forged' }]) {
      const socket = connect(t.url, { transports: ['websocket'], auth, reconnection: false });
      const err = await new Promise<Error & { data?: { code?: string } }>((resolve) =>
        socket.once('connect_error', resolve),
      );
      expect(err.data?.code).toBe('token-invalid');
      socket.disconnect();
    }

    // A token for another room sees another (empty) room.
    const elsewhere = await t.raw('mallory-01', 'other-room');
    const own = await prepareJoin(mallory, 'mallory-01');
    ack = await request(elsewhere, 'commit', { commit: own.commit, groupInfo: own.groupInfo });
    expect(ack.error?.code).toBe('invalid-state');

    // Rate limit per socket.
    const flood = await Promise.all(Array.from({ length: 260 }, () => request(mallory, 'sync', {})));
    expect(flood.some((a) => a.error?.code === 'rate-limited')).toBe(true);

    expect(t.service.snapshot(ROOM)?.epoch).toBe(1);
    expect(keyOf(alice)).toBe(before);
  });
});
