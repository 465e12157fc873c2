// One RTP packet, RFC 3550 §5.1, read from untrusted bytes (a capture, a tap on the SFU):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//  |                           timestamp                           |
//  |           synchronization source (SSRC) identifier            |
//  |            contributing source (CSRC) identifiers (CC × 32)   |
//  |  [extension: profile (16) | length in 32-bit words (16) | …]  |
//  |  payload …                    [padding …, last byte = count]  |
//
// Header extensions (RFC 3550 §5.3.1) are skipped by their declared length; their elements are
// listed for the RFC 8285 one-byte (0xBEDE) and two-byte (0x100X) forms. The payload is a view into
// the input, never a copy.
import { MalformedPacketError } from './errors.ts';

const FIXED_HEADER_LENGTH = 12;
/** RFC 8285 §4.2: the "defined by profile" value of the one-byte form. */
export const ONE_BYTE_EXTENSION_PROFILE = 0xbede;
/** RFC 8285 §4.3: the two-byte form is 0x100 followed by 4 application bits. */
const TWO_BYTE_PROFILE_MASK = 0xfff0;
/** RFC 8285 §4.3: the "defined by profile" value of the two-byte form (low 4 bits are the application's). */
export const TWO_BYTE_EXTENSION_PROFILE = 0x1000;

/** One RFC 8285 header extension element. */
export interface RtpExtensionElement {
  /** Local identifier: 1-14 (one-byte form) or 1-255 (two-byte form). */
  id: number;
  data: Uint8Array;
}

/** An RTP header extension block (RFC 3550 §5.3.1). */
export interface RtpHeaderExtension {
  /** The 16-bit "defined by profile" field. */
  profile: number;
  /** The extension block after its 4-byte header. */
  data: Uint8Array;
  /** RFC 8285 elements, in order, padding left out; empty for other profiles. */
  elements: RtpExtensionElement[];
}

/** An RTP packet's fixed header, CSRCs, extension and payload (RFC 3550 §5.1); the payload is a view, not a copy. */
export interface RtpPacket {
  version: 2;
  padding: boolean;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension: RtpHeaderExtension | undefined;
  /** Bytes before the payload: fixed header, CSRCs, extension. */
  headerLength: number;
  /** Bytes of padding at the end (RFC 3550 §5.1: the last byte counts them, itself included). */
  paddingLength: number;
  payload: Uint8Array;
}

function malformed(reason: 'truncated' | 'bad-version' | 'bad-padding' | 'bad-extension', message: string) {
  return new MalformedPacketError('rtp', reason, message);
}

/** RFC 8285 §4.2: one-byte elements. ID 0 is a padding byte; ID 15 ends parsing (reserved). */
function oneByteElements(block: Uint8Array): RtpExtensionElement[] {
  const elements: RtpExtensionElement[] = [];
  let offset = 0;
  while (offset < block.length) {
    const byte = block[offset] ?? 0;
    const id = byte >> 4;
    if (id === 0) {
      offset++;
      continue;
    }
    if (id === 15) break;
    const length = (byte & 0x0f) + 1;
    const end = offset + 1 + length;
    if (end > block.length) throw malformed('bad-extension', `element ${id} overruns the extension block`);
    elements.push({ id, data: block.subarray(offset + 1, end) });
    offset = end;
  }
  return elements;
}

/** RFC 8285 §4.3: two-byte elements (ID, length, data); ID 0 is a padding byte. */
function twoByteElements(block: Uint8Array): RtpExtensionElement[] {
  const elements: RtpExtensionElement[] = [];
  let offset = 0;
  while (offset < block.length) {
    const id = block[offset] ?? 0;
    if (id === 0) {
      offset++;
      continue;
    }
    const length = block[offset + 1];
    if (length === undefined) throw malformed('bad-extension', `element ${id} has no length byte`);
    const end = offset + 2 + length;
    if (end > block.length) throw malformed('bad-extension', `element ${id} overruns the extension block`);
    elements.push({ id, data: block.subarray(offset + 2, end) });
    offset = end;
  }
  return elements;
}

function elementsOf(profile: number, block: Uint8Array): RtpExtensionElement[] {
  if (profile === ONE_BYTE_EXTENSION_PROFILE) return oneByteElements(block);
  if ((profile & TWO_BYTE_PROFILE_MASK) === TWO_BYTE_EXTENSION_PROFILE) return twoByteElements(block);
  return [];
}

/**
 * RFC 3550 §5.1: parses one RTP packet. Any byte sequence either parses or throws MalformedPacketError
 * (layer 'rtp'); only a non-Uint8Array argument throws a TypeError.
 * @param bytes one UDP payload
 * @returns the packet; its payload and extension data are views into `bytes`
 * @throws MalformedPacketError ('truncated', 'bad-version', 'bad-padding', 'bad-extension')
 * @example const { ssrc, sequenceNumber, payload } = parseRtpPacket(datagram.payload);
 */
export function parseRtpPacket(bytes: Uint8Array): RtpPacket {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('an RTP packet must be a Uint8Array');
  if (bytes.length < FIXED_HEADER_LENGTH) {
    throw malformed('truncated', `${bytes.length} bytes is shorter than the 12-byte fixed header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = view.getUint8(0);
  const second = view.getUint8(1);
  const version = first >> 6;
  if (version !== 2) throw malformed('bad-version', `version ${version}, not 2`);
  const padding = (first & 0x20) !== 0;
  const hasExtension = (first & 0x10) !== 0;
  const csrcCount = first & 0x0f;

  let offset = FIXED_HEADER_LENGTH;
  if (bytes.length < offset + 4 * csrcCount)
    throw malformed('truncated', `CSRC list (${csrcCount}) is cut off`);
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++, offset += 4) csrcs.push(view.getUint32(offset));

  let extension: RtpHeaderExtension | undefined;
  if (hasExtension) {
    // RFC 3550 §5.3.1: 16 bits profile-defined, 16 bits length in 32-bit words (header excluded).
    if (bytes.length < offset + 4) throw malformed('truncated', 'header extension header is cut off');
    const profile = view.getUint16(offset);
    const length = 4 * view.getUint16(offset + 2);
    const start = offset + 4;
    if (bytes.length < start + length) throw malformed('truncated', 'header extension is cut off');
    const data = bytes.subarray(start, start + length);
    extension = { profile, data, elements: elementsOf(profile, data) };
    offset = start + length;
  }

  let paddingLength = 0;
  if (padding) {
    // RFC 3550 §5.1: the last octet counts the padding octets, itself included.
    if (bytes.length === offset) throw malformed('bad-padding', 'padding bit set but no room for a count');
    paddingLength = view.getUint8(bytes.length - 1);
    if (paddingLength === 0) throw malformed('bad-padding', 'padding count is zero');
    if (paddingLength > bytes.length - offset) {
      throw malformed('bad-padding', `padding of ${paddingLength} bytes is longer than the payload`);
    }
  }

  return {
    version,
    padding,
    marker: (second & 0x80) !== 0,
    payloadType: second & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    csrcs,
    extension,
    headerLength: offset,
    paddingLength,
    payload: bytes.subarray(offset, bytes.length - paddingLength),
  };
}
