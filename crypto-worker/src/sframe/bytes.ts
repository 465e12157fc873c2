// Byte helpers shared by the SFrame modules. Nothing here allocates more than it returns.
import { SFrameError } from './errors.ts';

export const MAX_U64 = (1n << 64n) - 1n;

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** `encode_big_endian(value, length)` of RFC 9605 §4.4. */
export function encodeBigEndian(value: bigint, length: number): Uint8Array {
  if (value < 0n || value >= 1n << BigInt(8 * length)) {
    throw new SFrameError('invalid-argument', `value does not fit in ${length} bytes`);
  }
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

export function decodeBigEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** Number of bytes needed to write `value` (at least 1). */
export function byteLength(value: bigint): number {
  let length = 1;
  while (value >= 1n << BigInt(8 * length)) length++;
  return length;
}

/** Compares two byte strings in time that depends only on their lengths (never on their contents). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function assertU64(name: string, value: bigint): void {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_U64) {
    throw new SFrameError('invalid-argument', `${name} must be a bigint in [0, 2^64)`);
  }
}

/** A copy whose buffer is exactly its bytes (what WebCrypto and transfer lists want). */
export function exactCopy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}
