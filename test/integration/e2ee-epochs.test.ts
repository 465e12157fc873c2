// The cryptographic promise of leaving and joining, end to end in Node: real KeyClients against the
// real key service inside a real ConclaveServer, KIDs derived from each epoch exactly as the meeting
// client does (web/src/lib/e2ee/epochKids.ts), and frames sealed with the real SFrame library under
// each epoch's base key (suite 4, AES_128_GCM_SHA256_128). A member who left cannot open what is
// sent after the removal; a joiner cannot open what was sent before they joined.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyClient, type EpochKeys } from '@conclave/key-service/client';
import {
  AES_128_GCM_SHA256_128,
  cipherSuite,
  decodeHeader,
  decryptFrameWith,
  defaultBackend,
  sframeDecrypt,
  sframeEncrypt,
  type OpenedFrame,
} from '@conclave/crypto-worker/sframe';
import { newUserId } from '../../server/src/auth/tokens.ts';
import { receiverKids, senderKids } from '../../web/src/lib/e2ee/epochKids.ts';
import { hex, inSync, must, recordKeys } from './key-service.harness.ts';
import { TestClient, startTestServer, type TestServer } from './support/testServer.ts';

const ROOM = 'epoch-room';
const SUITE = AES_128_GCM_SHA256_128;
/** A VP8 delta frame's clear prefix: authenticated as SFrame metadata, as the crypto worker does. */
const VP8_DELTA_PREFIX = new Uint8Array([0x31, 0x00, 0x00]);

interface Member {
  name: string;
  userId: string;
  signaling: TestClient;
  keys: KeyClient;
  /** The next SFrame counter of each of this member's senders (a sender never reuses one). */
  ctr: bigint;
}

let ts: TestServer;
const members: Member[] = [];

beforeEach(async () => {
  ts = await startTestServer();
});

afterEach(async () => {
  for (const m of members.splice(0)) {
    m.keys.close();
    m.signaling.close();
  }
  await ts.close();
});

/** Joins as the browser does: signaling first (a peer in the SFU room), then the MLS group. */
async function join(name: string): Promise<Member> {
  const userId = newUserId();
  const token = await ts.server.tokens.mintSession({ host: true, room: ROOM, sub: userId, name });
  const signaling = await TestClient.connect(ts.url, { token });
  await signaling.join();
  const keys = new KeyClient({ url: `${ts.url}/keys`, token: () => token, userId, requestTimeoutMs: 5000 });
  const member: Member = { name, userId, signaling, keys, ctr: 0n };
  members.push(member);
  await keys.start();
  return member;
}

/** Leaves as the browser does: the key client and the signaling socket close; nothing else is sent. */
function leave(member: Member): void {
  member.keys.close();
  member.signaling.close();
}

function current(member: Member): EpochKeys {
  return must(member.keys.current, `${member.name}'s epoch keys`);
}

/** One camera frame as `member`'s sender transform would seal it in the member's current epoch. */
async function sealCamera(member: Member) {
  const keys = current(member);
  const kid = senderKids(keys).camera;
  const plaintext = new Uint8Array(randomBytes(1200));
  const frame = await sframeEncrypt(SUITE, keys.baseKey, kid, member.ctr++, VP8_DELTA_PREFIX, plaintext);
  return { epoch: keys.epoch, kid, plaintext, frame };
}

/** The KID `receiver` expects for `sender`'s camera in the receiver's current epoch. */
function expectedCameraKid(receiver: Member, sender: Member): bigint {
  const entry = receiverKids(current(receiver)).find(
    (r) => r.userId === sender.userId && r.context === 'camera',
  );
  return must(entry, `${receiver.name}'s KID for ${sender.name}'s camera`).kid;
}

/** Opens a frame with the receiver's base key, deriving the key for the KID in the frame's header. */
function openWith(keys: EpochKeys, frame: Uint8Array): Promise<OpenedFrame> {
  return sframeDecrypt(SUITE, keys.baseKey, VP8_DELTA_PREFIX, frame);
}

/** Opens a frame with the receiver's base key, but for the KID the receiver expects, whatever the
 *  header says: what someone holding that key would try if the header's KID were unknown to them. */
function openAsKid(keys: EpochKeys, kid: bigint, frame: Uint8Array): Promise<OpenedFrame> {
  const backend = defaultBackend();
  return decryptFrameWith(
    () => backend.deriveFrameKey(cipherSuite(SUITE), keys.baseKey, kid),
    VP8_DELTA_PREFIX,
    frame,
  );
}

const REFUSED = { name: 'SFrameError', reason: 'auth-failed' };

describe('E2EE across epochs (real key service, real SFrame)', () => {
  it('a leaver cannot read what follows the removal; a joiner cannot read what preceded the join', async () => {
    const a = await join('Alice');
    const b = await join('Bob');
    const c = await join('Carol');
    const carolEpochs = recordKeys(c.keys);
    await inSync([a.keys, b.keys, c.keys], 2n);
    const three = current(a);
    expect(three.baseKey.byteLength).toBe(cipherSuite(SUITE).nk);
    expect(three.members.map((m) => m.userId)).toEqual([a.userId, b.userId, c.userId]);

    // (a) Positive control: everyone in the epoch opens Alice's camera frame, under the KID they expect.
    const before = await sealCamera(a);
    for (const receiver of [b, c]) {
      expect(expectedCameraKid(receiver, a)).toBe(before.kid);
      const opened = await openWith(current(receiver), before.frame);
      expect(opened.kid).toBe(before.kid);
      expect(hex(opened.plaintext)).toBe(hex(before.plaintext));
    }

    // (b) Carol leaves: the SFU sees her signaling go, the key service asks the lowest remaining
    // leaf (Alice) to commit her removal, and Alice and Bob reach the same new epoch.
    const carolLast = current(c);
    const carolViewOfAlice = expectedCameraKid(c, a);
    leave(c);
    await inSync([a.keys, b.keys], 3n);
    const two = current(a);
    expect(two.members.map((m) => m.userId)).toEqual([a.userId, b.userId]);
    expect(current(b).securityCode).toBe(two.securityCode);
    expect(two.securityCode).not.toBe(three.securityCode);
    expect(hex(two.baseKey)).not.toBe(hex(three.baseKey));
    expect(ts.server.keys.snapshot(ROOM)?.members.map((m) => m.userId)).toEqual([a.userId, b.userId]);
    // Carol's client never held a later epoch than the one she was removed from.
    expect(carolEpochs.every((k) => k.epoch <= 2n)).toBe(true);

    const afterLeave = await sealCamera(a);
    expect(afterLeave.epoch).toBe(3n);
    expect(decodeHeader(afterLeave.frame).kid).toBe(afterLeave.kid);
    expect(afterLeave.kid).not.toBe(carolViewOfAlice);
    expect(expectedCameraKid(b, a)).toBe(afterLeave.kid);
    expect(hex((await openWith(current(b), afterLeave.frame)).plaintext)).toBe(hex(afterLeave.plaintext));
    // Carol's last base key opens it neither under the frame's (new) KID nor under the KID she
    // expected for Alice's camera.
    await expect(openWith(carolLast, afterLeave.frame)).rejects.toMatchObject(REFUSED);
    await expect(openAsKid(carolLast, carolViewOfAlice, afterLeave.frame)).rejects.toMatchObject(REFUSED);
    await expect(openAsKid(carolLast, afterLeave.kid, afterLeave.frame)).rejects.toMatchObject(REFUSED);

    // (c) Dave joins after that frame was sent: his first epoch is a new one, and its base key opens
    // none of the earlier frames; Alice's frames in his first epoch open for him and Bob.
    const d = await join('Dave');
    await inSync([a.keys, b.keys, d.keys], 4n);
    const four = current(d);
    expect(four.members.map((m) => m.userId)).toEqual([a.userId, b.userId, d.userId]);
    expect(current(a).securityCode).toBe(four.securityCode);
    const daveViewOfAlice = expectedCameraKid(d, a);
    for (const earlier of [afterLeave, before]) {
      await expect(openWith(four, earlier.frame)).rejects.toMatchObject(REFUSED);
      await expect(openAsKid(four, daveViewOfAlice, earlier.frame)).rejects.toMatchObject(REFUSED);
    }

    const afterJoin = await sealCamera(a);
    expect(afterJoin.epoch).toBe(4n);
    expect(daveViewOfAlice).toBe(afterJoin.kid);
    for (const receiver of [b, d]) {
      const opened = await openWith(current(receiver), afterJoin.frame);
      expect(hex(opened.plaintext)).toBe(hex(afterJoin.plaintext));
    }
    // And Carol, gone two epochs now, still cannot.
    await expect(openWith(carolLast, afterJoin.frame)).rejects.toMatchObject(REFUSED);
  });
});
