// Human-comparable codes. The security code comes from the MLS epoch authenticator (RFC 9420
// §8.7): every member of an epoch derives the same value, and a key-swapping server cannot make two
// members' codes agree. Fingerprints name members' signature keys.
import { sha256 } from '@noble/hashes/sha2.js';

/**
 * Six groups of five digits from the first 30 bytes of the epoch authenticator (each group:
 * a 40-bit big-endian integer mod 100000, as Signal's safety numbers).
 *
 * @param epochAuthenticator the MLS epoch authenticator (RFC 9420 §8.7) of the epoch shown
 * @throws {RangeError} when it is shorter than 30 bytes
 * @example
 * ```ts
 * securityCode(state.keySchedule.epochAuthenticator); // six groups of five digits, the same for every member
 * ```
 */
export function securityCode(epochAuthenticator: Uint8Array): string {
  if (epochAuthenticator.byteLength < 30)
    throw new RangeError('an epoch authenticator has at least 32 bytes');
  const groups: string[] = [];
  for (let g = 0; g < 6; g++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + (epochAuthenticator[g * 5 + i] ?? 0);
    groups.push(String(value % 100000).padStart(5, '0'));
  }
  return groups.join(' ');
}

/**
 * SHA-256 of a signature public key, first 16 bytes as eight groups of four hex digits.
 *
 * @param signaturePublicKey a member's MLS signature key (from its leaf or KeyPackage)
 */
export function fingerprint(signaturePublicKey: Uint8Array): string {
  const hex = Array.from(sha256(signaturePublicKey).subarray(0, 16), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
  return hex.match(/.{4}/g)?.join(' ') ?? hex;
}
