// VP9 over RTP, RFC 9628: the payload descriptor (§4.2) and reassembly of whole frames (one per
// spatial layer) from the packets of one SSRC: a frame runs from a packet with B = 1 to one with
// E = 1, all of one RTP timestamp and spatial layer, every sequence number between present.
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
import { SequenceUnwrapper } from './sequenceNumbers.ts';

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

interface Held {
  descriptor: Vp9PayloadDescriptor;
  packet: RtpPacket;
}

interface PendingFrame {
  key: string;
  packets: Map<number, Held>;
  start: number | undefined;
  end: number | undefined;
  highest: number;
}

/** Reassembles the VP9 frames of one SSRC. Feed it every RTP packet of that SSRC, in arrival order. */
export class Vp9Depacketizer {
  readonly #pending = new Map<string, PendingFrame>();
  readonly #sequence = new SequenceUnwrapper();
  readonly #maxPendingFrames: number;
  #ssrc: number | undefined;
  #doneUpTo = -1;
  discardedFrames = 0;

  constructor({ maxPendingFrames = 32 }: { maxPendingFrames?: number } = {}) {
    this.#maxPendingFrames = maxPendingFrames;
  }

  /** Takes one packet; returns the frames it completed. Throws MalformedPacketError for a bad descriptor. */
  push(packet: RtpPacket): Vp9Frame[] {
    if (this.#ssrc !== undefined && packet.ssrc !== this.#ssrc) {
      throw new MalformedPacketError('vp9', 'wrong-ssrc', `SSRC ${packet.ssrc} is not ${this.#ssrc}`);
    }
    if (packet.payload.length === 0) return [];
    const descriptor = parseVp9PayloadDescriptor(packet.payload);
    this.#ssrc = packet.ssrc;
    const seq = this.#sequence.unwrap(packet.sequenceNumber);
    if (seq <= this.#doneUpTo) return [];
    const key = `${packet.timestamp}:${descriptor.spatialLayerId}`;
    let frame = this.#pending.get(key);
    if (frame === undefined) {
      frame = { key, packets: new Map(), start: undefined, end: undefined, highest: seq };
      this.#pending.set(key, frame);
    }
    if (frame.packets.has(seq)) return [];
    frame.packets.set(seq, { descriptor, packet });
    frame.highest = Math.max(frame.highest, seq);
    if (descriptor.beginsFrame) frame.start = seq;
    if (descriptor.endsFrame) frame.end = seq;
    const complete = this.#complete(frame);
    if (complete !== undefined) return [complete];
    while (this.#pending.size > this.#maxPendingFrames) {
      const oldest = [...this.#pending.values()].sort((a, b) => a.highest - b.highest)[0];
      if (oldest === undefined) break;
      this.#discard(oldest);
    }
    return [];
  }

  #complete(frame: PendingFrame): Vp9Frame | undefined {
    const { start, end } = frame;
    if (start === undefined || end === undefined || end < start) return undefined;
    const held: Held[] = [];
    for (let seq = start; seq <= end; seq++) {
      const one = frame.packets.get(seq);
      if (one === undefined) return undefined;
      held.push(one);
    }
    const first = held[0];
    const last = held[held.length - 1];
    if (first === undefined || last === undefined) return undefined;
    this.#pending.delete(frame.key);
    this.#doneUpTo = Math.max(this.#doneUpTo, end);
    for (const older of [...this.#pending.values()]) if (older.highest < start) this.#discard(older);
    return {
      codec: 'vp9',
      ssrc: first.packet.ssrc,
      timestamp: first.packet.timestamp,
      firstSequenceNumber: first.packet.sequenceNumber,
      lastSequenceNumber: last.packet.sequenceNumber,
      packetCount: held.length,
      data: concatBytes(...held.map((h) => h.packet.payload.subarray(h.descriptor.length))),
      keyframe: !first.descriptor.interPicturePredicted,
      spatialLayerId: first.descriptor.spatialLayerId,
    };
  }

  #discard(frame: PendingFrame): void {
    if (!this.#pending.delete(frame.key)) return;
    this.#doneUpTo = Math.max(this.#doneUpTo, frame.highest);
    this.discardedFrames++;
  }
}
