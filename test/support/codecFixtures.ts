// Real encoded frames for tests, read from the small files in test/fixtures/codec (see its README):
// VP8 and VP9 frames from IVF files, H.264 access units from an Annex B file, Opus packets from Ogg Opus.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CODEC_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/codec');
export const VP8_FIXTURE = path.join(CODEC_FIXTURES, 'testsrc-64x48.ivf');
export const OPUS_FIXTURE = path.join(CODEC_FIXTURES, 'sine-440.opus');
export const H264_FIXTURE = path.join(CODEC_FIXTURES, 'testsrc-64x48.h264');
export const VP9_FIXTURE = path.join(CODEC_FIXTURES, 'testsrc-64x48-vp9.ivf');

/** IVF: a 32-byte file header ("DKIF"), then per frame a 12-byte header (size u32le, pts u64le). */
export function readIvfFrames(file: string = VP8_FIXTURE): Uint8Array[] {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== 'DKIF') throw new Error(`${file} is not IVF`);
  const frames: Uint8Array[] = [];
  let offset = view.getUint16(6, true);
  while (offset + 12 <= bytes.length) {
    const size = view.getUint32(offset, true);
    frames.push(bytes.slice(offset + 12, offset + 12 + size));
    offset += 12 + size;
  }
  return frames;
}

/**
 * Ogg (RFC 3533) pages → packets (segments of 255 continue a packet), minus the OpusHead and
 * OpusTags headers (RFC 7845 §5): the Opus packets, each one RTP payload.
 */
export function readOggOpusPackets(file: string = OPUS_FIXTURE): Uint8Array[] {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const packets: Uint8Array[] = [];
  let pending: number[] = [];
  let offset = 0;
  while (offset + 27 <= bytes.length) {
    if (new TextDecoder().decode(bytes.subarray(offset, offset + 4)) !== 'OggS')
      throw new Error('bad Ogg page');
    const segments = bytes[offset + 26]!;
    const table = bytes.subarray(offset + 27, offset + 27 + segments);
    let data = offset + 27 + segments;
    for (const lacing of table) {
      pending.push(...bytes.subarray(data, data + lacing));
      data += lacing;
      if (lacing < 255) {
        packets.push(Uint8Array.from(pending));
        pending = [];
      }
    }
    offset = data;
  }
  return packets.filter((p) => {
    const magic = new TextDecoder().decode(p.subarray(0, 8));
    return magic !== 'OpusHead' && magic !== 'OpusTags';
  });
}

/**
 * An H.264 Annex B file (ITU-T H.264 §B.1) → its access units, one per encoded frame, each as the
 * encoder handed it over (start codes included). The fixture has an access unit delimiter (NAL
 * type 9) opening each access unit, so a frame begins at each one.
 */
export function readH264AccessUnits(file: string = H264_FIXTURE): Uint8Array[] {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const starts: number[] = [];
  for (let i = 0; i + 4 < bytes.length; i++) {
    const startCode = bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 0 && bytes[i + 3] === 1;
    if (startCode && (bytes[i + 4]! & 0x1f) === 9) starts.push(i);
  }
  if (starts[0] !== 0) throw new Error(`${file} does not begin with an access unit delimiter`);
  return starts.map((start, i) => bytes.slice(start, starts[i + 1] ?? bytes.length));
}
