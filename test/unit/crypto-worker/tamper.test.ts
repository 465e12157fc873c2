// Every way a frame can be wrong is rejected with its own typed reason, and leaves the receiver's
// state as it was: later valid frames still decrypt.
import { describe, expect, it } from 'vitest';
import {
  CIPHER_SUITE_IDS,
  ReceiverKeyRing,
  SFrameError,
  SenderContext,
  cipherSuite,
  concatForTest,
  sframeDecrypt,
  sframeEncrypt,
} from './sframeTestApi.ts';
import { randomBytes } from './vectors.ts';

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SFrameError);
    return (error as SFrameError).reason;
  }
  return 'resolved';
}

function flip(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

describe.each(CIPHER_SUITE_IDS.map((id) => [id]))('suite %i, stateless', (suite) => {
  const baseKey = randomBytes(16);
  const metadata = Uint8Array.of(0x90, 0x01, 0x02);
  const plaintext = randomBytes(64);
  const kid = 300n;
  const ctr = 70_000n;

  it('rejects a flipped bit anywhere in header, ciphertext or tag, and altered metadata, as auth-failed', async () => {
    const frame = await sframeEncrypt(suite, baseKey, kid, ctr, metadata, plaintext);
    const headerLength = 1 + 2 + 3;
    const tagStart = frame.length - cipherSuite(suite).nt;
    // Header: CTR bytes (a KID change would look up another key, covered below).
    for (const i of [headerLength - 1, headerLength - 3]) {
      expect(await reasonOf(sframeDecrypt(suite, baseKey, metadata, flip(frame, i)))).toBe('auth-failed');
    }
    for (const i of [headerLength, headerLength + 30, tagStart - 1, tagStart, frame.length - 1]) {
      expect(await reasonOf(sframeDecrypt(suite, baseKey, metadata, flip(frame, i)))).toBe('auth-failed');
    }
    expect(await reasonOf(sframeDecrypt(suite, baseKey, flip(metadata, 1), frame))).toBe('auth-failed');
    expect(await reasonOf(sframeDecrypt(suite, baseKey, new Uint8Array(0), frame))).toBe('auth-failed');
    expect(await reasonOf(sframeDecrypt(suite, randomBytes(16), metadata, frame))).toBe('auth-failed');
    // The untouched frame still opens.
    expect((await sframeDecrypt(suite, baseKey, metadata, frame)).plaintext).toEqual(plaintext);
  });

  it('rejects truncation inside the header or the tag as malformed, inside the ciphertext as auth-failed', async () => {
    const frame = await sframeEncrypt(suite, baseKey, kid, ctr, metadata, plaintext);
    const nt = cipherSuite(suite).nt;
    for (const cut of [0, 1, 3, 5]) {
      expect(await reasonOf(sframeDecrypt(suite, baseKey, metadata, frame.subarray(0, cut)))).toBe(
        'malformed',
      );
    }
    expect(await reasonOf(sframeDecrypt(suite, baseKey, metadata, frame.subarray(0, 6 + nt - 1)))).toBe(
      'malformed',
    );
    expect(await reasonOf(sframeDecrypt(suite, baseKey, metadata, frame.subarray(0, frame.length - 1)))).toBe(
      'auth-failed',
    );
  });
});

describe('stateful receiver: unknown KID, replay, tampering', () => {
  async function setup(suite = 4) {
    const baseKey = randomBytes(16);
    const sender = new SenderContext(suite);
    await sender.setKey(17n, baseKey);
    const ring = new ReceiverKeyRing(suite, { replayWindow: 64 });
    await ring.addKey(17n, baseKey);
    const send = async (pt: Uint8Array, md = new Uint8Array(0)) => {
      const { header, sealed, ctr } = await sender.encrypt(md, pt);
      return { frame: concatForTest(header, sealed), ctr };
    };
    return { sender, ring, send, baseKey };
  }

  it('unknown KID → missing-key; the ring is unchanged', async () => {
    const { ring } = await setup();
    const stranger = await sframeEncrypt(4, randomBytes(16), 99n, 0n, new Uint8Array(0), Uint8Array.of(1));
    expect(await reasonOf(ring.decrypt(new Uint8Array(0), stranger))).toBe('missing-key');
    expect(ring.kids()).toEqual([17n]);
  });

  it('a replayed frame → replay; the next frame still opens', async () => {
    const { ring, send } = await setup();
    const first = await send(Uint8Array.of(1));
    expect((await ring.decrypt(new Uint8Array(0), first.frame)).plaintext).toEqual(Uint8Array.of(1));
    expect(await reasonOf(ring.decrypt(new Uint8Array(0), first.frame))).toBe('replay');
    const second = await send(Uint8Array.of(2));
    expect((await ring.decrypt(new Uint8Array(0), second.frame)).plaintext).toEqual(Uint8Array.of(2));
  });

  it('accepts reordering inside the window, refuses frames older than it', async () => {
    const { ring, send } = await setup();
    const frames = [];
    for (let i = 0; i < 70; i++) frames.push(await send(Uint8Array.of(i)));
    await ring.decrypt(new Uint8Array(0), frames[69]?.frame ?? new Uint8Array(0));
    expect((await ring.decrypt(new Uint8Array(0), frames[10]?.frame ?? new Uint8Array(0))).ctr).toBe(10n);
    expect(await reasonOf(ring.decrypt(new Uint8Array(0), frames[5]?.frame ?? new Uint8Array(0)))).toBe(
      'replay',
    );
  });

  it('a forged frame does not advance the replay window', async () => {
    const { ring, send } = await setup();
    const good = await send(Uint8Array.of(7));
    const forged = flip(good.frame, good.frame.length - 1);
    expect(await reasonOf(ring.decrypt(new Uint8Array(0), forged))).toBe('auth-failed');
    expect((await ring.decrypt(new Uint8Array(0), good.frame)).plaintext).toEqual(Uint8Array.of(7));
  });

  it('garbage after a valid header → auth-failed or malformed, never a plaintext', async () => {
    const { ring } = await setup();
    expect(await reasonOf(ring.decrypt(new Uint8Array(0), Uint8Array.of(0x8a, 17, 1)))).toBe('malformed');
    expect(
      await reasonOf(
        ring.decrypt(new Uint8Array(0), concatForTest(Uint8Array.of(0x8a, 17), randomBytes(40))),
      ),
    ).toBe('auth-failed');
  });
});

describe('counter exhaustion', () => {
  it('refuses to encrypt past the counter limit and does not wrap; a new key starts afresh', async () => {
    const sender = new SenderContext(4, { counterLimit: 2n });
    await sender.setKey(1n, randomBytes(16));
    expect((await sender.encrypt(new Uint8Array(0), Uint8Array.of(0))).ctr).toBe(0n);
    expect((await sender.encrypt(new Uint8Array(0), Uint8Array.of(0))).ctr).toBe(1n);
    expect((await sender.encrypt(new Uint8Array(0), Uint8Array.of(0))).ctr).toBe(2n);
    expect(await reasonOf(sender.encrypt(new Uint8Array(0), Uint8Array.of(0)))).toBe('counter-exhausted');
    expect(await reasonOf(sender.encrypt(new Uint8Array(0), Uint8Array.of(0)))).toBe('counter-exhausted');
    await sender.setKey(2n, randomBytes(16));
    expect((await sender.encrypt(new Uint8Array(0), Uint8Array.of(0))).ctr).toBe(0n);
  });

  it('the default limit is the largest CTR a header can carry (2^64 - 1)', async () => {
    expect(
      await reasonOf(sframeEncrypt(4, randomBytes(16), 0n, 2n ** 64n, new Uint8Array(0), new Uint8Array(0))),
    ).toBe('invalid-argument');
    const frame = await sframeEncrypt(
      4,
      randomBytes(16),
      0n,
      2n ** 64n - 1n,
      new Uint8Array(0),
      new Uint8Array(0),
    );
    expect(frame.length).toBe(1 + 8 + 16);
  });
});

describe('bad parameters', () => {
  it('unknown suites and empty base keys are typed errors', async () => {
    expect(
      await reasonOf(sframeEncrypt(6, randomBytes(16), 0n, 0n, new Uint8Array(0), new Uint8Array(0))),
    ).toBe('unsupported-suite');
    expect(await reasonOf(sframeDecrypt(0, randomBytes(16), new Uint8Array(0), Uint8Array.of(0)))).toBe(
      'unsupported-suite',
    );
    expect(
      await reasonOf(sframeEncrypt(4, new Uint8Array(0), 0n, 0n, new Uint8Array(0), new Uint8Array(0))),
    ).toBe('invalid-argument');
  });

  it('sender without a key → missing-key', async () => {
    const sender = new SenderContext(4);
    expect(await reasonOf(sender.encrypt(new Uint8Array(0), Uint8Array.of(1)))).toBe('missing-key');
  });
});
