// Random and mutated bytes into the header decoder and the decryptor: the only failure allowed is
// an SFrameError, nothing else, and nothing decrypts by accident. Bounded iterations.
import { describe, expect, it } from 'vitest';
import {
  CIPHER_SUITE_IDS,
  ReceiverKeyRing,
  SFrameError,
  decodeHeader,
  sframeDecrypt,
  sframeEncrypt,
} from './sframeTestApi.ts';
import { randomBytes } from './vectors.ts';

function mutate(bytes: Uint8Array, seed: Uint8Array): Uint8Array {
  const op = (seed[0] ?? 0) % 4;
  const at = bytes.length === 0 ? 0 : ((seed[1] ?? 0) * 256 + (seed[2] ?? 0)) % bytes.length;
  if (op === 0) return bytes.subarray(0, at); // truncate
  if (op === 1) return Uint8Array.from([...bytes.subarray(0, at), seed[3] ?? 0, ...bytes.subarray(at)]); // insert
  const copy = bytes.slice();
  if (op === 2)
    copy[at] = (copy[at] ?? 0) ^ (1 << ((seed[3] ?? 0) % 8)); // flip a bit
  else copy[at] = seed[3] ?? 0; // overwrite a byte
  return copy;
}

describe('fuzz', () => {
  it('decodeHeader: 20 000 random inputs only ever throw malformed', () => {
    for (let i = 0; i < 20_000; i++) {
      const input = randomBytes(i % 20);
      try {
        const { length } = decodeHeader(input);
        expect(length).toBeLessThanOrEqual(input.length);
      } catch (error) {
        expect(error).toBeInstanceOf(SFrameError);
        expect((error as SFrameError).reason).toBe('malformed');
      }
    }
  });

  it.each(CIPHER_SUITE_IDS.map((id) => [id]))(
    'sframeDecrypt suite %i: 300 mutated frames never decrypt',
    async (suite) => {
      const baseKey = randomBytes(16);
      const metadata = randomBytes(3);
      const frame = await sframeEncrypt(suite, baseKey, 1234n, 99_999n, metadata, randomBytes(200));
      for (let i = 0; i < 300; i++) {
        const input = mutate(frame, randomBytes(4));
        const outcome = await sframeDecrypt(suite, baseKey, metadata, input).then(
          () => (input.length === frame.length && input.every((b, j) => b === frame[j]) ? 'same' : 'forgery'),
          (error: unknown) => (error instanceof SFrameError ? error.reason : 'crash'),
        );
        expect(['same', 'malformed', 'auth-failed']).toContain(outcome);
      }
    },
  );

  it('ReceiverKeyRing: 1 000 random frames only produce typed rejections', async () => {
    const ring = new ReceiverKeyRing(4);
    for (let kid = 0n; kid < 8n; kid++) await ring.addKey(kid, randomBytes(16));
    const reasons = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const error = await ring.decrypt(new Uint8Array(0), randomBytes(i % 64)).then(
        () => 'decrypted',
        (e: unknown) => (e instanceof SFrameError ? e.reason : 'crash'),
      );
      reasons.add(error);
    }
    for (const reason of reasons) expect(['malformed', 'missing-key', 'auth-failed']).toContain(reason);
  });
});
