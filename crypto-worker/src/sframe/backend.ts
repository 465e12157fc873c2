// Which AEAD back end runs by default: WebCrypto (non-extractable keys) wherever the platform has
// it, @noble otherwise. The benchmark (test/bench/sframe.bench.ts) measures both.
import type { AeadBackend } from './aead.ts';
import { nobleBackend } from './noble.ts';
import { webCryptoBackend } from './webcrypto.ts';

export function hasWebCrypto(): boolean {
  return typeof globalThis.crypto?.subtle?.encrypt === 'function';
}

export function defaultBackend(): AeadBackend {
  return hasWebCrypto() ? webCryptoBackend : nobleBackend;
}
