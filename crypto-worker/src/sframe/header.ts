// The SFrame header, RFC 9605 §4.3:
//
//   0 1 2 3 4 5 6 7
//  +-+-+-+-+-+-+-+-+---------------------------+---------------------------+
//  |X|  K  |Y|  C  |   KID... (length=K+1)     |   CTR... (length=C+1)     |
//  +-+-+-+-+-+-+-+-+---------------------------+---------------------------+
//
// A value below 8 sits in its 3-bit field (X or Y = 0); otherwise the field holds its length
// minus one and the value follows big-endian, KID first.
import { assertU64, byteLength, decodeBigEndian, writeBigEndian } from './bytes.ts';
import { SFrameError } from './errors.ts';

export interface SFrameHeader {
  kid: bigint;
  ctr: bigint;
  /** Bytes the header occupies at the start of the input. */
  length: number;
}

/** Values below this fit in the 3-bit K or C field (RFC 9605 §4.3, X = 0 / Y = 0). */
const INLINE_LIMIT = 8n;

/** Bytes a value takes after the config byte: 0 when it sits in its 3-bit field. */
function extensionLength(value: bigint): number {
  return value < INLINE_LIMIT ? 0 : byteLength(value);
}

/** One half of the config byte: the value itself (X/Y = 0) or 0b1000 | (length - 1). */
function fieldBits(value: bigint, extension: number): number {
  return extension === 0 ? Number(value) : 0b1000 | (extension - 1);
}

/** RFC 9605 §4.3: the shortest header for (KID, CTR). */
export function encodeHeader(kid: bigint, ctr: bigint): Uint8Array {
  assertU64('KID', kid);
  assertU64('CTR', ctr);
  const kidLength = extensionLength(kid);
  const ctrLength = extensionLength(ctr);
  const header = new Uint8Array(1 + kidLength + ctrLength);
  header[0] = (fieldBits(kid, kidLength) << 4) | fieldBits(ctr, ctrLength);
  if (kidLength > 0) writeBigEndian(header, 1, kid, kidLength);
  if (ctrLength > 0) writeBigEndian(header, 1 + kidLength, ctr, ctrLength);
  return header;
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
