// VP9 over RTP, RFC 9628: the payload descriptor (§4.2) and reassembly of whole frames (one per
// spatial layer) from the packets of one SSRC: a frame runs from a packet with B = 1 to one with
// E = 1, all of one RTP timestamp and spatial layer, every sequence number between present (the
// assembly itself is rtpFrameAssembly.ts; this file is VP9's descriptor and joining).
//
//        0 1 2 3 4 5 6 7
//       +-+-+-+-+-+-+-+-+
//       |I|P|L|F|B|E|V|Z|  (required)
//  I:   |M| PICTURE ID  |  (M = 1: 15 bits, one more byte)
//  L:   | TID |U| SID |D|  (and TL0PICIDX when F = 0)
//  F&P: | P_DIFF      |N|  (up to 3, N = another follows)
//  V:   scalability structure (N_S, Y: sizes, G: picture group)
//
// Conclave's VP9 frames have no clear prefix (the layer information is here, outside the frame), so
// the frame is `SFrame header ‖ ciphertext ‖ tag` from its first byte.
import { concatBytes } from '@conclave/crypto-worker/sframe/wire';
import { MalformedPacketError } from './errors.ts';
import type { MediaFrame } from './mediaFrame.ts';
import type { RtpPacket } from './rtp.ts';
import { RtpFrameAssembly, type FrameSpan, type HeldPacket } from './rtpFrameAssembly.ts';

/** The VP9 payload descriptor that opens every VP9 RTP payload (RFC 9628 §4.2). */
export interface Vp9PayloadDescriptor {
  /** P: the frame is predicted from an earlier one (0 on key frames). */
  interPicturePredicted: boolean;
  /** B, E: the packet begins / ends a frame. */
  beginsFrame: boolean;
  endsFrame: boolean;
  pictureId: number | undefined;
  spatialLayerId: number;
  /** Bytes the descriptor occupies. */
  length: number;
}

/** A VP9 frame put back together from its RTP packets (RFC 9628). */
export interface Vp9Frame extends MediaFrame {
  codec: 'vp9';
  /** P = 0 on the frame's first packet. */
  keyframe: boolean;
  spatialLayerId: number;
}

function truncated(what: string): MalformedPacketError {
  return new MalformedPacketError('vp9', 'truncated', `payload descriptor ends before its ${what}`);
}

/** RFC 9628 §4.2. Throws MalformedPacketError (layer 'vp9'): 'truncated' or 'empty-payload'. */
export function parseVp9PayloadDescriptor(payload: Uint8Array): Vp9PayloadDescriptor {
  let offset = 0;
  const next = (what: string): number => {
    const byte = payload[offset++];
    if (byte === undefined) throw truncated(what);
    return byte;
  };
  const first = next('first byte');
  const flag = (bit: number) => (first & bit) !== 0;
  const i = flag(0x80);
  const p = flag(0x40);
  const l = flag(0x20);
  const f = flag(0x10);
  const b = flag(0x08);
  const e = flag(0x04);
  const v = flag(0x02);
  let pictureId: number | undefined;
  if (i) {
    const high = next('picture ID');
    pictureId = (high & 0x80) !== 0 ? ((high & 0x7f) << 8) | next('15-bit picture ID') : high;
  }
  let spatialLayerId = 0;
  if (l) {
    spatialLayerId = (next('layer indices') >> 1) & 0x07;
    if (!f) next('TL0PICIDX');
  }
  if (f && p) {
    for (let n = 0; n < 3 && (next('P_DIFF') & 0x01) !== 0; n++);
  }
  if (v) {
    const ss = next('scalability structure');
    if ((ss & 0x10) !== 0) for (let k = 0; k < 4 * ((ss >> 5) + 1); k++) next('layer sizes');
    if ((ss & 0x08) !== 0) {
      const groups = next('N_G');
      for (let g = 0; g < groups; g++) {
        const references = (next('picture group') >> 2) & 0x03;
        for (let r = 0; r < references; r++) next('P_DIFF of the picture group');
      }
    }
  }
  if (offset >= payload.length) {
    throw new MalformedPacketError('vp9', 'empty-payload', 'no VP9 data after the payload descriptor');
  }
  return {
    interPicturePredicted: p,
    beginsFrame: b,
    endsFrame: e,
    pictureId,
    spatialLayerId,
    length: offset,
  };
}

/** Reassembles the VP9 frames of one SSRC. Feed it every RTP packet of that SSRC, in arrival order. */
export class Vp9Depacketizer {
  readonly #assembly: RtpFrameAssembly<Vp9PayloadDescriptor, Vp9Frame>;

  constructor({ maxPendingFrames = 32 }: { maxPendingFrames?: number } = {}) {
    this.#assembly = new RtpFrameAssembly<Vp9PayloadDescriptor, Vp9Frame>(
      {
        layer: 'vp9',
        parse: parseVp9PayloadDescriptor,
        // One frame per spatial layer: the layers of a picture share its timestamp.
        frameKey: (packet, descriptor) => `${packet.timestamp}:${descriptor.spatialLayerId}`,
        opensFrame: (descriptor) => descriptor.beginsFrame,
        closesFrame: (descriptor) => descriptor.endsFrame,
        join: joinVp9Frame,
      },
      // The oldest pending VP9 frame is the one whose last packet so far is the lowest.
      { maxPendingFrames, oldestBy: 'highest' },
    );
  }

  /** Frames given up on: a later frame completed first, or too many were pending. */
  get discardedFrames(): number {
    return this.#assembly.stats.discardedFrames;
  }

  /** Takes one packet; returns the frames it completed. Throws MalformedPacketError for a bad descriptor. */
  push(packet: RtpPacket): Vp9Frame[] {
    return this.#assembly.push(packet);
  }
}

/** The VP9 frame of a frame's packets: their payloads without the descriptors, in order. */
function joinVp9Frame(held: HeldPacket<Vp9PayloadDescriptor>[], span: FrameSpan): Vp9Frame {
  const first = held[0]?.piece;
  return {
    codec: 'vp9',
    ...span,
    data: concatBytes(...held.map(({ packet, piece }) => packet.payload.subarray(piece.length))),
    keyframe: first !== undefined && !first.interPicturePredicted,
    spatialLayerId: first?.spatialLayerId ?? 0,
  };
}
