// SRTP with AEAD_AES_128_GCM (RFC 7714) for the load generator's plain transports: session keys
// from the master key and salt by the RFC 3711 §4.3 key derivation (AES-CM PRF, key derivation rate
// 0), RTP protected and unprotected with node:crypto's native AES-GCM, so SRTP costs the generator
// little next to the SFU it measures. SRTCP (RFC 7714 §9) protects the sender reports mediasoup
// needs before it forwards a simulcast layer, and unprotects the SFU's RTCP to read its key frame
// requests (keyFrameRequests.ts).
//
// Must hold: the IV never repeats for one key, i.e. (SSRC, ROC, SEQ) never repeats; each sender's
// packet index only grows (MediaParticipant keeps the ROC and the SRTCP index per SSRC).
import { createCipheriv, createDecipheriv } from 'node:crypto';

export const SRTP_SUITE = 'AEAD_AES_128_GCM';
const KEY_LENGTH = 16;
const SALT_LENGTH = 12;
const TAG_LENGTH = 16;
/** RFC 3711 §4.3.2 labels for SRTP. */
const LABEL_ENCRYPTION = 0x00;
const LABEL_SALT = 0x02;
/** RFC 3711 §4.3.2 labels for SRTCP. */
const LABEL_RTCP_ENCRYPTION = 0x03;
const LABEL_RTCP_SALT = 0x05;

export interface SrtpSessionKeys {
  key: Uint8Array;
  salt: Uint8Array;
  /** SRTCP's own session key and salt (labels 3 and 5); absent, SRTCP uses key and salt. */
  rtcpKey?: Uint8Array;
  rtcpSalt?: Uint8Array;
}

/**
 * RFC 3711 §4.3.1 with kdr = 0: x = (label << 48) XOR master_salt (112 bits, here a 96-bit GCM salt
 * padded with zero bits on the right as RFC 7714 §11 and libsrtp do), and the output is the AES-CM
 * keystream under the master key from IV = x · 2^16.
 */
export function deriveSrtpKey(
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
  label: number,
  length: number,
): Uint8Array {
  const x = new Uint8Array(16);
  x.set(masterSalt.subarray(0, 14));
  x[7] = x[7]! ^ label;
  const cipher = createCipheriv(`aes-${masterKey.length * 8}-ctr`, masterKey, x);
  return new Uint8Array(cipher.update(new Uint8Array(length)));
}

/** The SRTP session key and salt for AEAD_AES_128_GCM from a 28-byte master key ‖ salt. */
export function srtpSessionKeys(masterKeyAndSalt: Uint8Array): SrtpSessionKeys {
  if (masterKeyAndSalt.length !== KEY_LENGTH + SALT_LENGTH)
    throw new RangeError('AEAD_AES_128_GCM needs 16 key and 12 salt bytes');
  const masterKey = masterKeyAndSalt.subarray(0, KEY_LENGTH);
  const masterSalt = masterKeyAndSalt.subarray(KEY_LENGTH);
  return {
    key: deriveSrtpKey(masterKey, masterSalt, LABEL_ENCRYPTION, KEY_LENGTH),
    salt: deriveSrtpKey(masterKey, masterSalt, LABEL_SALT, SALT_LENGTH),
    rtcpKey: deriveSrtpKey(masterKey, masterSalt, LABEL_RTCP_ENCRYPTION, KEY_LENGTH),
    rtcpSalt: deriveSrtpKey(masterKey, masterSalt, LABEL_RTCP_SALT, SALT_LENGTH),
  };
}

/** RFC 7714 §8.1: IV = (0x0000 ‖ SSRC ‖ ROC ‖ SEQ) XOR salt. */
export function srtpIv(salt: Uint8Array, ssrc: number, roc: number, seq: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc >>> 0, 2);
  iv.writeUInt32BE(roc >>> 0, 6);
  iv.writeUInt16BE(seq & 0xffff, 10);
  for (let i = 0; i < 12; i++) iv[i]! ^= salt[i]!;
  return iv;
}

/** Length of the RTP header (fixed part, CSRCs, header extension): the AAD of RFC 7714 §8.2. */
export function rtpHeaderLength(packet: Uint8Array): number {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) throw new RangeError('not an RTP packet');
  let length = 12 + 4 * (packet[0]! & 0x0f);
  if ((packet[0]! & 0x10) !== 0) {
    if (packet.length < length + 4) throw new RangeError('truncated RTP header extension');
    length += 4 + 4 * ((packet[length + 2]! << 8) | packet[length + 3]!);
  }
  if (packet.length < length) throw new RangeError('truncated RTP header');
  return length;
}

/** One direction's SRTP context: protects (or unprotects) RTP under one session key and salt. */
export class SrtpContext {
  readonly #keys: SrtpSessionKeys;

  constructor(keys: SrtpSessionKeys) {
    this.#keys = keys;
  }

  /** From the 28-byte master key ‖ salt that SrtpParameters.keyBase64 carries. */
  static fromMasterKey(masterKeyAndSalt: Uint8Array): SrtpContext {
    return new SrtpContext(srtpSessionKeys(masterKeyAndSalt));
  }

  protect(packet: Uint8Array, roc: number): Buffer {
    return protectRtp(this.#keys, packet, roc);
  }

  unprotect(packet: Uint8Array, roc: number): Buffer {
    return unprotectRtp(this.#keys, packet, roc);
  }

  protectRtcp(packet: Uint8Array, index: number): Buffer {
    return protectRtcp(this.#keys, packet, index);
  }

  unprotectRtcp(packet: Uint8Array): Buffer {
    return unprotectRtcp(this.#keys, packet);
  }
}

function ivOf(keys: SrtpSessionKeys, packet: Uint8Array, roc: number): Buffer {
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  return srtpIv(keys.salt, view.getUint32(8), roc, view.getUint16(2));
}

/** RFC 7714 §8: header in the clear (and authenticated), payload encrypted, 16-byte tag appended. */
export function protectRtp(keys: SrtpSessionKeys, packet: Uint8Array, roc: number): Buffer {
  const headerLength = rtpHeaderLength(packet);
  const cipher = createCipheriv(gcm(keys.key), keys.key, ivOf(keys, packet, roc));
  cipher.setAAD(packet.subarray(0, headerLength));
  const body = cipher.update(packet.subarray(headerLength));
  cipher.final();
  return Buffer.concat([packet.subarray(0, headerLength), body, cipher.getAuthTag()]);
}

/** The inverse of protectRtp; throws when the tag does not verify. */
export function unprotectRtp(keys: SrtpSessionKeys, packet: Uint8Array, roc: number): Buffer {
  const headerLength = rtpHeaderLength(packet);
  if (packet.length < headerLength + TAG_LENGTH) throw new RangeError('SRTP packet shorter than its tag');
  const decipher = createDecipheriv(gcm(keys.key), keys.key, ivOf(keys, packet, roc));
  decipher.setAAD(packet.subarray(0, headerLength));
  decipher.setAuthTag(packet.subarray(packet.length - TAG_LENGTH));
  const body = decipher.update(packet.subarray(headerLength, packet.length - TAG_LENGTH));
  decipher.final();
  return Buffer.concat([packet.subarray(0, headerLength), body]);
}

/** AES-GCM by key length (RFC 7714's AEAD_AES_128_GCM and AEAD_AES_256_GCM). */
function gcm(key: Uint8Array): 'aes-128-gcm' | 'aes-256-gcm' {
  return key.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
}

/** RFC 7714 §9.1: IV = (0x0000 ‖ SSRC ‖ 0x0000 ‖ 0 ‖ SRTCP index) XOR salt. */
export function srtcpIv(salt: Uint8Array, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc >>> 0, 2);
  iv.writeUInt32BE(index & 0x7fffffff, 8);
  for (let i = 0; i < 12; i++) iv[i]! ^= salt[i]!;
  return iv;
}

/**
 * RFC 7714 §9: the first 8 octets (header and sender SSRC) in the clear, the rest encrypted, then
 * the tag and E ‖ SRTCP index (E = 1: encrypted); the AAD is the 8 octets and E ‖ index.
 */
export function protectRtcp(keys: SrtpSessionKeys, packet: Uint8Array, index: number): Buffer {
  if (packet.length < 8) throw new RangeError('not an RTCP packet');
  const key = keys.rtcpKey ?? keys.key;
  const salt = keys.rtcpSalt ?? keys.salt;
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE((0x80000000 | (index & 0x7fffffff)) >>> 0);
  const ssrc = new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(4);
  const cipher = createCipheriv(gcm(key), key, srtcpIv(salt, ssrc, index));
  cipher.setAAD(Buffer.concat([packet.subarray(0, 8), trailer]));
  const body = cipher.update(packet.subarray(8));
  cipher.final();
  return Buffer.concat([packet.subarray(0, 8), body, cipher.getAuthTag(), trailer]);
}

/** The inverse of protectRtcp; throws when the tag does not verify or the packet is not encrypted. */
export function unprotectRtcp(keys: SrtpSessionKeys, packet: Uint8Array): Buffer {
  if (packet.length < 8 + TAG_LENGTH + 4) throw new RangeError('SRTCP packet shorter than its tag');
  const key = keys.rtcpKey ?? keys.key;
  const salt = keys.rtcpSalt ?? keys.salt;
  const trailer = packet.subarray(packet.length - 4);
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const eAndIndex = view.getUint32(packet.length - 4);
  if ((eAndIndex & 0x80000000) === 0) throw new RangeError('SRTCP packet not encrypted (E = 0)');
  const tagAt = packet.length - 4 - TAG_LENGTH;
  const decipher = createDecipheriv(gcm(key), key, srtcpIv(salt, view.getUint32(4), eAndIndex & 0x7fffffff));
  decipher.setAAD(Buffer.concat([packet.subarray(0, 8), trailer]));
  decipher.setAuthTag(packet.subarray(tagAt, tagAt + TAG_LENGTH));
  const body = decipher.update(packet.subarray(8, tagAt));
  decipher.final();
  return Buffer.concat([packet.subarray(0, 8), body]);
}
