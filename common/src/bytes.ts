// Byte-string equality, the one copy every package uses. It is constant-time in the contents
// (it always reads every byte of equal-length inputs) because some callers compare signature keys,
// confirmation tags and transcript hashes, where an early exit would time the first difference.

/**
 * Whether `a` and `b` hold the same bytes.
 * @param a first byte string
 * @param b second byte string
 * @returns true when the lengths and every byte match
 * @example bytesEqual(new Uint8Array([1, 2]), Uint8Array.of(1, 2)) // true
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
