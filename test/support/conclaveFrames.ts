// Frames in Conclave's wire layout, `clear prefix ‖ SFrame header ‖ ciphertext ‖ tag` (H.264: NAL
// unit by NAL unit), sealed with the real SFrame library exactly as the crypto worker's sender
// transform does (crypto-worker/src/transform.ts: the clear bytes are the SFrame metadata, so they
// are authenticated).
import { clearPrefixLength } from '@conclave/crypto-worker/codecPrefix';
import { sealH264Frame } from '@conclave/crypto-worker/h264/h264Frame';
import {
  cipherSuite,
  defaultBackend,
  encryptFrameParts,
  sframeEncrypt,
} from '@conclave/crypto-worker/sframe';

export interface SealOptions {
  baseKey: Uint8Array;
  kid: bigint;
  ctr: bigint;
  /** RFC 9605 cipher suite; default 4. */
  suite?: number;
}

export async function sealConclaveFrame(
  codec: 'vp8' | 'vp9' | 'opus',
  frame: Uint8Array,
  { baseKey, kid, ctr, suite = 4 }: SealOptions,
): Promise<Uint8Array> {
  const prefix = frame.subarray(0, clearPrefixLength(codec, frame));
  const sealed = await sframeEncrypt(suite, baseKey, kid, ctr, prefix, frame.subarray(prefix.length));
  const out = new Uint8Array(prefix.length + sealed.length);
  out.set(prefix);
  out.set(sealed, prefix.length);
  return out;
}

/** An H.264 Annex B frame in Conclave's NAL unit layout (crypto-worker/README.md, "H.264"). */
export async function sealConclaveH264Frame(
  frame: Uint8Array,
  { baseKey, kid, ctr, suite = 4 }: SealOptions,
): Promise<Uint8Array> {
  const key = await defaultBackend().deriveFrameKey(cipherSuite(suite), baseKey, kid);
  const sealed = await sealH264Frame(frame, (metadata, plaintext) =>
    encryptFrameParts(key, kid, ctr, metadata, plaintext),
  );
  return sealed.frame;
}

/** A plaintext VP8 frame of `size` bytes: key frames carry the RFC 6386 §9.1 header. */
export function vp8Frame(keyframe: boolean, size: number, fill = 0x5a): Uint8Array {
  const frame = new Uint8Array(size).fill(fill);
  // Frame tag: key frame bit (0 = key), version 0, show_frame 1, first partition size 0x40.
  const firstPartitionSize = 0x40;
  const tag = (keyframe ? 0 : 1) | (1 << 4) | (firstPartitionSize << 5);
  frame.set([tag & 0xff, (tag >> 8) & 0xff, (tag >> 16) & 0xff]);
  if (keyframe) frame.set([0x9d, 0x01, 0x2a, 0x40, 0x00, 0x30, 0x00], 3); // start code, 64 × 48
  return frame;
}
