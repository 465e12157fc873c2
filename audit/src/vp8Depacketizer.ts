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
// emitted in part. Sequence numbers are unwrapped, so a frame may straddle 65535 → 0.
import { concatBytes } from '@conclave/crypto-worker/sframe/wire';
import { MalformedPacketError } from './errors.ts';
import type { MediaFrame } from './mediaFrame.ts';
import type { RtpPacket } from './rtp.ts';
import { SequenceUnwrapper } from './sequenceNumbers.ts';

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
export interface Vp8DepacketizerStats {
  frames: number;
  /** Frames given up on: a later frame completed first, or too many were pending. */
  discardedFrames: number;
  /** Packets of a frame that had already been emitted or discarded. */
  latePackets: number;
  duplicatePackets: number;
  /** Packets with no payload (bandwidth probes). */
  paddingPackets: number;
}

/** Limits that bound a Vp8Depacketizer's memory. */
export interface Vp8DepacketizerOptions {
  /** Frames held while waiting for missing packets; the oldest beyond this is discarded. */
  maxPendingFrames?: number;
  /** Packets one frame may have; a frame growing beyond this is discarded. */
  maxPacketsPerFrame?: number;
}

interface HeldPacket {
  descriptor: Vp8PayloadDescriptor;
  packet: RtpPacket;
}

interface PendingFrame {
  timestamp: number;
  packets: Map<number, HeldPacket>;
  /** Extended sequence numbers of the start (S = 1, PID = 0) and marker packets, once seen. */
  start: number | undefined;
  end: number | undefined;
  lowest: number;
  highest: number;
}

/** Reassembles the VP8 frames of one SSRC. Feed it every RTP packet of that SSRC, in arrival order. */
export class Vp8Depacketizer {
  readonly #maxPendingFrames: number;
  readonly #maxPacketsPerFrame: number;
  readonly #pending = new Map<number, PendingFrame>();
  readonly #stats: Vp8DepacketizerStats = {
    frames: 0,
    discardedFrames: 0,
    latePackets: 0,
    duplicatePackets: 0,
    paddingPackets: 0,
  };
  #ssrc: number | undefined;
  readonly #sequence = new SequenceUnwrapper();
  /** Extended sequence numbers up to here belong to frames already emitted or given up on. */
  #doneUpTo = -1;

  constructor({ maxPendingFrames = 32, maxPacketsPerFrame = 2048 }: Vp8DepacketizerOptions = {}) {
    this.#maxPendingFrames = maxPendingFrames;
    this.#maxPacketsPerFrame = maxPacketsPerFrame;
  }

  get ssrc(): number | undefined {
    return this.#ssrc;
  }

  get stats(): Readonly<Vp8DepacketizerStats> {
    return { ...this.#stats };
  }

  /**
   * Takes one packet; returns the frames it completed (usually none or one). Throws
   * MalformedPacketError for a bad payload descriptor or another SSRC's packet, and then holds no
   * part of that packet.
   */
  push(packet: RtpPacket): Vp8Frame[] {
    if (this.#ssrc !== undefined && packet.ssrc !== this.#ssrc) {
      throw new MalformedPacketError('vp8', 'wrong-ssrc', `SSRC ${packet.ssrc} is not ${this.#ssrc}`);
    }
    if (packet.payload.length === 0) {
      this.#stats.paddingPackets++;
      return [];
    }
    const descriptor = parseVp8PayloadDescriptor(packet.payload);
    this.#ssrc = packet.ssrc;
    const seq = this.#sequence.unwrap(packet.sequenceNumber);
    if (seq <= this.#doneUpTo) {
      this.#stats.latePackets++;
      return [];
    }
    let frame = this.#pending.get(packet.timestamp);
    if (frame === undefined) {
      frame = {
        timestamp: packet.timestamp,
        packets: new Map(),
        start: undefined,
        end: undefined,
        lowest: seq,
        highest: seq,
      };
      this.#pending.set(packet.timestamp, frame);
    }
    if (frame.packets.has(seq)) {
      this.#stats.duplicatePackets++;
      return [];
    }
    frame.packets.set(seq, { descriptor, packet });
    frame.lowest = Math.min(frame.lowest, seq);
    frame.highest = Math.max(frame.highest, seq);
    if (descriptor.startOfPartition && descriptor.partitionIndex === 0) frame.start = seq;
    if (packet.marker) frame.end = seq;

    if (frame.packets.size > this.#maxPacketsPerFrame) {
      this.#discard(frame);
      return [];
    }
    const complete = this.#complete(frame);
    if (complete !== undefined) return [complete];
    this.#evictBeyondLimit();
    return [];
  }

  /** Emits the frame if its start, marker and everything between have arrived. */
  #complete(frame: PendingFrame): Vp8Frame | undefined {
    const { start, end } = frame;
    if (start === undefined || end === undefined || end < start) return undefined;
    const parts: Uint8Array[] = [];
    for (let seq = start; seq <= end; seq++) {
      const held = frame.packets.get(seq);
      if (held === undefined) return undefined;
      parts.push(held.packet.payload.subarray(held.descriptor.length));
    }
    const data = concatBytes(...parts);
    const first = frame.packets.get(start);
    const last = frame.packets.get(end);
    if (first === undefined || last === undefined) return undefined;

    this.#pending.delete(frame.timestamp);
    this.#doneUpTo = Math.max(this.#doneUpTo, end);
    // Anything older that is still pending can no longer complete in order: give it up.
    for (const older of [...this.#pending.values()]) {
      if (older.highest < start) this.#discard(older);
    }
    this.#stats.frames++;
    return {
      codec: 'vp8',
      ssrc: first.packet.ssrc,
      timestamp: frame.timestamp,
      firstSequenceNumber: first.packet.sequenceNumber,
      lastSequenceNumber: last.packet.sequenceNumber,
      packetCount: end - start + 1,
      data,
      keyframe: isVp8KeyFrame(data),
      pictureId: first.descriptor.pictureId,
    };
  }

  #discard(frame: PendingFrame): void {
    if (!this.#pending.delete(frame.timestamp)) return;
    this.#doneUpTo = Math.max(this.#doneUpTo, frame.highest);
    this.#stats.discardedFrames++;
  }

  #evictBeyondLimit(): void {
    while (this.#pending.size > this.#maxPendingFrames) {
      let oldest: PendingFrame | undefined;
      for (const frame of this.#pending.values()) {
        if (oldest === undefined || frame.lowest < oldest.lowest) oldest = frame;
      }
      if (oldest === undefined) return;
      this.#discard(oldest);
    }
  }
}
