// Deterministic randomness for fuzz tests: a seed reproduces a failure exactly.

/** xorshift32: 32-bit unsigned integers from a seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

/** Byte arrays of any length from a seed. */
export function seededBytes(seed: number): (length: number) => Uint8Array {
  const next = prng(seed);
  return (length) => Uint8Array.from({ length }, () => next() & 0xff);
}
