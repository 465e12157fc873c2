// One frame key serves many frames at once (simulcast layers, audio and video racing): the WebCrypto
// back end refills per-key scratch arrays for each frame's nonce, AAD and counter block, which is only
// correct if every call has copied its inputs before the next one refills them. Many frames sealed and
// opened concurrently under one key must equal what the independent @noble back end computes.
import { describe, expect, it } from 'vitest';
import { CIPHER_SUITE_IDS, cipherSuite, nobleBackend, webCryptoBackend } from './sframeTestApi.ts';
import { hex, randomBytes } from './vectors.ts';

describe('concurrent frames under one key', () => {
  it.each(CIPHER_SUITE_IDS.map((id) => [id]))(
    'suite %i: concurrent seals and opens match @noble frame by frame',
    async (id) => {
      const suite = cipherSuite(id);
      const baseKey = randomBytes(suite.nk);
      const [web, noble] = await Promise.all([
        webCryptoBackend.deriveFrameKey(suite, baseKey, 7n),
        nobleBackend.deriveFrameKey(suite, baseKey, 7n),
      ]);
      // Same lengths on purpose (they share scratch arrays), different contents.
      const frames = Array.from({ length: 64 }, (_, i) => ({
        nonce: randomBytes(12),
        aad: randomBytes(i % 2 ? 6 : 13),
        plaintext: randomBytes(i % 3 ? 100 : 1200),
      }));
      const sealed = await Promise.all(frames.map((f) => web.seal(f.nonce, f.aad, f.plaintext)));
      for (const [i, f] of frames.entries()) {
        expect(hex(sealed[i]!)).toBe(hex(await noble.seal(f.nonce, f.aad, f.plaintext)));
      }
      const opened = await Promise.all(frames.map((f, i) => web.open(f.nonce, f.aad, sealed[i]!)));
      for (const [i, f] of frames.entries()) expect(hex(opened[i]!)).toBe(hex(f.plaintext));
      // A wrong AAD among concurrent good frames fails alone.
      const results = await Promise.allSettled(
        frames.map((f, i) => web.open(f.nonce, i === 5 ? randomBytes(f.aad.length) : f.aad, sealed[i]!)),
      );
      expect(results.map((r) => r.status === 'fulfilled')).toEqual(frames.map((_, i) => i !== 5));
    },
  );
});
