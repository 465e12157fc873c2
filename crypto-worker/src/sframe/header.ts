// The SFrame header, RFC 9605 §4.3:
//
//   0 1 2 3 4 5 6 7
//  +-+-+-+-+-+-+-+-+---------------------------+---------------------------+
//  |X|  K  |Y|  C  |   KID... (length=K+1)     |   CTR... (length=C+1)     |
//  +-+-+-+-+-+-+-+-+---------------------------+---------------------------+
//
// A value below 8 sits in its 3-bit field (X or Y = 0); otherwise the field holds its length
// minus one and the value follows big-endian, KID first.
import { assertU64, byteLength, concatBytes, decodeBigEndian, encodeBigEndian } from './bytes.ts';
import { SFrameError } from './errors.ts';

export interface SFrameHeader {
  kid: bigint;
  ctr: bigint;
  /** Bytes the header occupies at the start of the input. */
  length: number;
}

/** Values below this fit in the 3-bit K or C field (RFC 9605 §4.3, X = 0 / Y = 0). */
const INLINE_LIMIT = 8n;

/** One half of the config byte (3-bit field plus its extended flag) and the bytes that follow. */
function encodeField(value: bigint): { bits: number; extension: Uint8Array } {
  if (value < INLINE_LIMIT) return { bits: Number(value), extension: new Uint8Array(0) };
  const length = byteLength(value);
  return { bits: 0b1000 | (length - 1), extension: encodeBigEndian(value, length) };
}

/** RFC 9605 §4.3: the shortest header for (KID, CTR). */
export function encodeHeader(kid: bigint, ctr: bigint): Uint8Array {
  assertU64('KID', kid);
  assertU64('CTR', ctr);
  const k = encodeField(kid);
  const c = encodeField(ctr);
  const config = Uint8Array.of((k.bits << 4) | c.bits);
  return concatBytes(config, k.extension, c.extension);
}

/** Reads one field described by 4 config bits at `offset`; returns the value and the next offset. */
function decodeField(bytes: Uint8Array, bits: number, offset: number): [bigint, number] {
  if ((bits & 0b1000) === 0) return [BigInt(bits), offset];
  const end = offset + (bits & 0b0111) + 1;
  if (end > bytes.length) throw new SFrameError('malformed', 'header is truncated');
  return [decodeBigEndian(bytes.subarray(offset, end)), end];
}

/** RFC 9605 §4.3: parses the header at the start of `bytes`. Throws SFrameError('malformed'). */
export function decodeHeader(bytes: Uint8Array): SFrameHeader {
  if (!(bytes instanceof Uint8Array)) throw new SFrameError('malformed', 'header must be a Uint8Array');
  const config = bytes[0];
  if (config === undefined) throw new SFrameError('malformed', 'empty input has no header');
  const [kid, afterKid] = decodeField(bytes, config >> 4, 1);
  const [ctr, length] = decodeField(bytes, config & 0x0f, afterKid);
  return { kid, ctr, length };
}
