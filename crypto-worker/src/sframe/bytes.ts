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

/** Largest value the per-frame paths handle as a Number (every CTR in practice), not a bigint. */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether 0 ≤ value < 2^(8·length); allocates no bigint for values up to 2^53. */
function fitsIn(value: bigint, length: number): boolean {
  if (typeof value !== 'bigint' || value < 0n) return false;
  if (value <= MAX_SAFE) return length >= 7 || Number(value) < 2 ** (8 * length);
  return value < 1n << BigInt(8 * length);
}

/**
 * Writes `encode_big_endian(value, length)` (RFC 9605 §4.4) into `out` at `offset`, XORed into the
 * bytes already there when `xor` is set (the nonce of §4.4.3). Throws if `value` does not fit.
 */
export function writeBigEndian(
  out: Uint8Array,
  offset: number,
  value: bigint,
  length: number,
  xor = false,
): void {
  if (!fitsIn(value, length)) {
    throw new SFrameError('invalid-argument', `value does not fit in ${length} bytes`);
  }
  if (value <= MAX_SAFE) {
    // Per-frame fast path: Number arithmetic allocates nothing.
    let rest = Number(value);
    for (let i = offset + length - 1; i >= offset; i--) {
      const byte = rest % 256;
      out[i] = xor ? (out[i] ?? 0) ^ byte : byte;
      rest = (rest - byte) / 256;
    }
    return;
  }
  let rest = value;
  for (let i = offset + length - 1; i >= offset; i--) {
    const byte = Number(rest & 0xffn);
    out[i] = xor ? (out[i] ?? 0) ^ byte : byte;
    rest >>= 8n;
  }
}

/** `encode_big_endian(value, length)` of RFC 9605 §4.4. */
export function encodeBigEndian(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  writeBigEndian(out, 0, value, length);
  return out;
}

export function decodeBigEndian(bytes: Uint8Array): bigint {
  if (bytes.length <= 6) {
    // ≤ 48 bits: exact as a Number, and one bigint at the end instead of one per byte.
    let value = 0;
    for (const byte of bytes) value = value * 256 + byte;
    return BigInt(value);
  }
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** Number of bytes needed to write `value` (at least 1). */
export function byteLength(value: bigint): number {
  if (value <= MAX_SAFE) {
    let rest = Number(value);
    let length = 1;
    while (rest >= 256) {
      rest = Math.floor(rest / 256);
      length++;
    }
    return length;
  }
  let length = 1;
  while (value >= 1n << BigInt(8 * length)) length++;
  return length;
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
