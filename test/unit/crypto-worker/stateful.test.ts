// Sender context (counter ownership) and receiver key ring (bounds, epochs, owners).
import { describe, expect, it } from 'vitest';
import { ReceiverKeyRing, SFrameError, SenderContext, concatForTest, mlsKid } from './sframeTestApi.ts';
import { randomBytes } from './vectors.ts';

const none = new Uint8Array(0);

describe('SenderContext', () => {
  it('hands out each CTR once, even to concurrent calls', async () => {
    const sender = new SenderContext(4);
    await sender.setKey(5n, randomBytes(16));
    const frames = await Promise.all(
      Array.from({ length: 50 }, () => sender.encrypt(none, Uint8Array.of(1))),
    );
    expect(new Set(frames.map((f) => f.ctr)).size).toBe(50);
    expect(frames.every((f) => f.kid === 5n)).toBe(true);
  });

  it('resumes, never restarts, the counter when a (KID, key) pair comes back', async () => {
    const sender = new SenderContext(1);
    const keyA = randomBytes(16);
    await sender.setKey(1n, keyA);
    await sender.encrypt(none, none);
    await sender.encrypt(none, none);
    await sender.setKey(1n, randomBytes(16)); // new key under the same KID starts at 0
    expect((await sender.encrypt(none, none)).ctr).toBe(0n);
    await sender.setKey(1n, keyA);
    expect((await sender.encrypt(none, none)).ctr).toBe(2n);
  });

  it('clearKey makes it fail closed', async () => {
    const sender = new SenderContext(4);
    await sender.setKey(1n, randomBytes(16));
    sender.clearKey();
    await expect(sender.encrypt(none, none)).rejects.toMatchObject({ reason: 'missing-key' });
  });
});

describe('ReceiverKeyRing', () => {
  async function frameFor(kid: bigint, baseKey: Uint8Array, ctr = 0n) {
    const sender = new SenderContext(4, { counterLimit: 2n ** 64n - 1n });
    await sender.setKey(kid, baseKey);
    for (let i = 0n; i < ctr; i++) await sender.encrypt(none, none);
    const { header, sealed } = await sender.encrypt(none, Uint8Array.of(42));
    return concatForTest(header, sealed);
  }

  it('is bounded: adding past capacity drops the oldest key', async () => {
    const ring = new ReceiverKeyRing(4, { capacity: 3 });
    for (const kid of [1n, 2n, 3n, 4n]) await ring.addKey(kid, randomBytes(16));
    expect(ring.kids()).toEqual([2n, 3n, 4n]);
  });

  it('RFC 9605 §5.2: a new epoch with the same low E bits removes the old epoch’s keys, all senders', async () => {
    const ring = new ReceiverKeyRing(4);
    const kid = (index: bigint, epoch: bigint) => mlsKid({ context: 0n, index, epoch, indexBits: 4 });
    await ring.addKey(kid(1n, 1n), randomBytes(16), { epoch: 1n });
    await ring.addKey(kid(2n, 1n), randomBytes(16), { epoch: 1n }); // a member who then leaves
    await ring.addKey(kid(1n, 2n), randomBytes(16), { epoch: 2n });
    await ring.addKey(kid(1n, 17n), randomBytes(16), { epoch: 17n });
    expect(ring.kids()).toEqual([kid(1n, 2n), kid(1n, 17n)]);
    expect(ring.removeEpochsBefore(17n)).toBe(1);
    expect(ring.kids()).toEqual([kid(1n, 17n)]);
  });

  it('a replaced key gets a fresh replay window and the old key no longer opens frames', async () => {
    const ring = new ReceiverKeyRing(4);
    const oldKey = randomBytes(16);
    const newKey = randomBytes(16);
    await ring.addKey(9n, oldKey);
    const oldFrame = await frameFor(9n, oldKey);
    await ring.decrypt(none, oldFrame);
    await ring.addKey(9n, newKey);
    await expect(ring.decrypt(none, await frameFor(9n, oldKey, 1n))).rejects.toMatchObject({
      reason: 'auth-failed',
    });
    expect((await ring.decrypt(none, await frameFor(9n, newKey))).ctr).toBe(0n);
  });

  it('returns the declared owner and supports removal by predicate', async () => {
    const ring = new ReceiverKeyRing<{ participantId: string }>(4);
    const key = randomBytes(16);
    await ring.addKey(3n, key, { owner: { participantId: 'alice' } });
    await ring.addKey(4n, randomBytes(16), { owner: { participantId: 'bob' } });
    expect((await ring.decrypt(none, await frameFor(3n, key))).owner).toEqual({ participantId: 'alice' });
    expect(ring.removeWhere((_kid, info) => info.owner?.participantId === 'bob')).toBe(1);
    expect(ring.kids()).toEqual([3n]);
  });

  it('rejects bad construction arguments', () => {
    expect(() => new ReceiverKeyRing(4, { capacity: 0 })).toThrow(SFrameError);
    expect(() => new ReceiverKeyRing(9)).toThrow(SFrameError);
  });
});
