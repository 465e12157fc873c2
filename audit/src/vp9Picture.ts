// Does a VP9 frame read as a plaintext key frame? VP9 bitstream specification §6.2 (uncompressed
// header): frame_marker (2 bits, = 2), profile_low_bit, profile_high_bit, a reserved zero bit in
// profile 3, show_existing_frame, frame_type, show_frame, error_resilient_mode, and on key frames
// (and intra-only frames, §6.2: after intra_only) the 24-bit frame_sync_code 0x49 0x83 0x42.
//
// Why this tells plaintext from Conclave ciphertext: a Conclave VP9 frame is SFrame from its first
// byte (no clear prefix); for the sync code to appear where a plaintext key frame has it, 24 bits of
// SFrame header and ciphertext would have to equal it: 2^-24. What this cannot see: plaintext inter
// frames, whose header has no such constant; they are left to the KID policy and the CTR tracker.

const SYNC_CODE = 0x49_83_42;

/** A VP9 frame's bits, MSB first. */
function bitsOf(frame: Uint8Array): (count: number) => number | undefined {
  let position = 0;
  return (count) => {
    let value = 0;
    for (let i = 0; i < count; i++, position++) {
      const byte = frame[position >> 3];
      if (byte === undefined) return undefined;
      value = value * 2 + ((byte >> (7 - (position & 7))) & 1);
    }
    return value;
  };
}

/** What a plaintext VP9 key or intra-only frame reads as. */
export interface Vp9PlaintextPicture {
  profile: number;
  keyframe: boolean;
  showFrame: boolean;
}

/** The key or intra-only frame a plaintext VP9 frame reads as, or `undefined`. Never throws. */
export function vp9PlaintextPicture(frame: Uint8Array): Vp9PlaintextPicture | undefined {
  const read = bitsOf(frame);
  if (read(2) !== 2) return undefined;
  const low = read(1);
  const high = read(1);
  if (low === undefined || high === undefined) return undefined;
  const profile = (high << 1) | low;
  if (profile === 3 && read(1) !== 0) return undefined;
  if (read(1) !== 0) return undefined; // show_existing_frame: a 1-2 byte frame with no picture
  const frameType = read(1);
  const showFrame = read(1);
  const errorResilient = read(1);
  if (errorResilient === undefined || showFrame === undefined) return undefined;
  if (frameType === 1) {
    // Inter frames: only an intra-only frame (shown = 0, intra_only = 1) carries the sync code.
    if (showFrame === 1 || read(1) !== 1) return undefined;
    if (errorResilient === 0 && read(2) === undefined) return undefined; // reset_frame_context
  }
  return read(24) === SYNC_CODE
    ? { profile, keyframe: frameType === 0, showFrame: showFrame === 1 }
    : undefined;
}

/** A plaintext VP9 picture in words, for a violation's message. */
export function describeVp9Picture(picture: Vp9PlaintextPicture): string {
  return `VP9 profile ${picture.profile} ${picture.keyframe ? 'key frame' : 'intra-only frame'} (frame_sync_code 49 83 42)`;
}
