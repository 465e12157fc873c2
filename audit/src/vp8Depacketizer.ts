// VP8 over RTP, RFC 7741: the payload descriptor (§4.2) and reassembly of whole frames from the
// packets of one SSRC (§4.5: a frame starts with S = 1 and PID = 0 and ends with the marker bit).
//
//        0 1 2 3 4 5 6 7
//       +-+-+-+-+-+-+-+-+
//       |X|R|N|S|R| PID |  (required)
//       +-+-+-+-+-+-+-+-+
//  X:   |I|L|T|K| RSV   |  (present when X)
//       +-+-+-+-+-+-+-+-+
//  I:   |M| PictureID   |  (present when I; M = 1: 15-bit PictureID, one more byte)
//       +-+-+-+-+-+-+-+-+
//  L:   |   TL0PICIDX   |  (present when L)
//       +-+-+-+-+-+-+-+-+
//  T/K: |TID|Y| KEYIDX  |  (present when T or K)
//       +-+-+-+-+-+-+-+-+
//
// Loss and reordering: packets are held per RTP timestamp until a frame's start, marker and every
// sequence number between them are in; a frame that cannot complete is discarded (counted), never
// emitted in part. Sequence numbers are unwrapped, so a frame may straddle 65535 → 0. That
// assembly by RTP timestamp is rtpFrameAssembly.ts; this file is VP8's descriptor and joining.
import { concatBytes } from '@conclave/crypto-worker/sframe/wire';
import { MalformedPacketError } from './errors.ts';
import type { MediaFrame } from './mediaFrame.ts';
import type { RtpPacket } from './rtp.ts';
import {
  RtpFrameAssembly,
  type FrameSpan,
  type HeldPacket,
  type RtpFrameAssemblyStats,
} from './rtpFrameAssembly.ts';

/** The VP8 payload descriptor that opens every VP8 RTP payload (RFC 7741 §4.2). */
export interface Vp8PayloadDescriptor {
  /** X: the extension byte is present. */
  extended: boolean;
  /** N: the frame can be discarded without affecting others. */
  nonReference: boolean;
  /** S: the packet starts a VP8 partition. */
  startOfPartition: boolean;
  /** PID: the partition index (0-7). */
  partitionIndex: number;
  /** I: PictureID, 7 or 15 bits. */
  pictureId: number | undefined;
  pictureIdBits: 7 | 15 | undefined;
  /** L: TL0PICIDX. */
  tl0PicIdx: number | undefined;
  /** T: TID (temporal layer). */
  temporalLayerId: number | undefined;
  /** T: Y (layer sync). */
  layerSync: boolean | undefined;
  /** K: KEYIDX. */
  keyIndex: number | undefined;
  /** Bytes the descriptor occupies at the start of the payload. */
  length: number;
}

function truncated(what: string): MalformedPacketError {
  return new MalformedPacketError('vp8', 'truncated', `payload descriptor ends before its ${what}`);
}

/**
 * RFC 7741 §4.2: parses the payload descriptor at the start of an RTP payload. Throws
 * MalformedPacketError (layer 'vp8'): 'truncated', or 'empty-payload' when no VP8 data follows.
 */
export function parseVp8PayloadDescriptor(payload: Uint8Array): Vp8PayloadDescriptor {
  const at = (offset: number, what: string): number => {
    const byte = payload[offset];
    if (byte === undefined) throw truncated(what);
    return byte;
  };
  const first = at(0, 'first byte');
  const extended = (first & 0x80) !== 0;
  let offset = 1;
  let pictureId: number | undefined;
  let pictureIdBits: 7 | 15 | undefined;
  let tl0PicIdx: number | undefined;
  let temporalLayerId: number | undefined;
  let layerSync: boolean | undefined;
  let keyIndex: number | undefined;
  if (extended) {
    const flags = at(offset++, 'extension byte');
    if ((flags & 0x80) !== 0) {
      const high = at(offset++, 'PictureID');
      if ((high & 0x80) !== 0) {
        pictureId = ((high & 0x7f) << 8) | at(offset++, '15-bit PictureID');
        pictureIdBits = 15;
      } else {
        pictureId = high;
        pictureIdBits = 7;
      }
    }
    if ((flags & 0x40) !== 0) tl0PicIdx = at(offset++, 'TL0PICIDX');
    const hasT = (flags & 0x20) !== 0;
    const hasK = (flags & 0x10) !== 0;
    if (hasT || hasK) {
      const byte = at(offset++, 'TID/Y/KEYIDX byte');
      if (hasT) {
        temporalLayerId = byte >> 6;
        layerSync = (byte & 0x20) !== 0;
      }
      if (hasK) keyIndex = byte & 0x1f;
    }
  }
  if (offset >= payload.length) {
    throw new MalformedPacketError('vp8', 'empty-payload', 'no VP8 data after the payload descriptor');
  }
  return {
    extended,
    nonReference: (first & 0x20) !== 0,
    startOfPartition: (first & 0x10) !== 0,
    partitionIndex: first & 0x07,
    pictureId,
    pictureIdBits,
    tl0PicIdx,
    temporalLayerId,
    layerSync,
    keyIndex,
    length: offset,
  };
}

/** RFC 6386 §9.1: bit 0 of the frame tag (the frame's first byte) is 0 for a key frame. */
export function isVp8KeyFrame(frame: Uint8Array): boolean {
  const first = frame[0];
  return first !== undefined && (first & 0x01) === 0;
}

/** A VP8 frame put back together from its RTP packets (RFC 7741). */
export interface Vp8Frame extends MediaFrame {
  codec: 'vp8';
  keyframe: boolean;
  /** PictureID of the frame's first packet, when the sender includes one. */
  pictureId: number | undefined;
}

/** What a Vp8Depacketizer did with the packets it was given. */
export type Vp8DepacketizerStats = RtpFrameAssemblyStats;

/** Limits that bound a Vp8Depacketizer's memory. */
export interface Vp8DepacketizerOptions {
  /** Frames held while waiting for missing packets; the oldest beyond this is discarded. */
  maxPendingFrames?: number;
  /** Packets one frame may have; a frame growing beyond this is discarded. */
  maxPacketsPerFrame?: number;
}

/** Reassembles the VP8 frames of one SSRC. Feed it every RTP packet of that SSRC, in arrival order. */
export class Vp8Depacketizer {
  readonly #assembly: RtpFrameAssembly<Vp8PayloadDescriptor, Vp8Frame>;

  constructor({ maxPendingFrames = 32, maxPacketsPerFrame = 2048 }: Vp8DepacketizerOptions = {}) {
    this.#assembly = new RtpFrameAssembly<Vp8PayloadDescriptor, Vp8Frame>(
      {
        layer: 'vp8',
        parse: parseVp8PayloadDescriptor,
        frameKey: (packet) => packet.timestamp,
        opensFrame: (descriptor) => descriptor.startOfPartition && descriptor.partitionIndex === 0,
        closesFrame: (_descriptor, packet) => packet.marker,
        join: joinVp8Frame,
      },
      { maxPendingFrames, maxPacketsPerFrame },
    );
  }

  get ssrc(): number | undefined {
    return this.#assembly.ssrc;
  }

  get stats(): Readonly<Vp8DepacketizerStats> {
    return this.#assembly.stats;
  }

  /**
   * Takes one packet; returns the frames it completed (usually none or one). Throws
   * MalformedPacketError for a bad payload descriptor or another SSRC's packet, and then holds no
   * part of that packet.
   */
  push(packet: RtpPacket): Vp8Frame[] {
    return this.#assembly.push(packet);
  }
}

/** The VP8 frame of a frame's packets: their payloads without the descriptors, in order. */
function joinVp8Frame(held: HeldPacket<Vp8PayloadDescriptor>[], span: FrameSpan): Vp8Frame {
  const data = concatBytes(...held.map(({ packet, piece }) => packet.payload.subarray(piece.length)));
  return {
    codec: 'vp8',
    ...span,
    data,
    keyframe: isVp8KeyFrame(data),
    pictureId: held[0]?.piece.pictureId,
  };
}
