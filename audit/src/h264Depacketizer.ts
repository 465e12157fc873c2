// H.264 over RTP, RFC 6184 packetization-mode 1 (§6.3): single NAL unit packets (§5.6, types 1-23),
// STAP-A (§5.7.1, type 24: u16 size ‖ NAL unit, repeated) and FU-A (§5.8, type 28: FU indicator,
// FU header with S/E bits and the NAL type, then a fragment). Reassembles the NAL units of each
// frame (access unit) of one SSRC: all packets of one RTP timestamp up to the marker bit (§5.1).
//
// Where a frame begins: RFC 6184 has no start flag, so a frame starts after a packet of another
// timestamp (or the end of the frame before), or, when that packet was never seen (the start of a
// capture, a loss), at a packet that can only open an access unit (H.264 §7.4.1.2.3: an access
// unit delimiter, SPS, PPS or SEI first, or the slice with first_mb_in_slice = 0, libwebrtc's own
// rule). A frame that cannot complete is discarded (counted), never emitted in part. Holding
// packets per timestamp, sequence numbers, late packets and eviction: rtpFrameAssembly.ts.
import { parseSliceHeaderStart } from '@conclave/crypto-worker/h264/parse';
import { concatBytes } from '@conclave/crypto-worker/sframe/wire';
import { MalformedPacketError } from './errors.ts';
import type { MediaFrame } from './mediaFrame.ts';
import type { RtpPacket } from './rtp.ts';
import {
  RtpFrameAssembly,
  type FrameSpan,
  type HeldPacket,
  type PendingFrame,
  type RtpFrameAssemblyStats,
} from './rtpFrameAssembly.ts';

/** An H.264 access unit put back together from its RTP packets (RFC 6184). */
export interface H264Frame extends MediaFrame {
  codec: 'h264';
  /** The frame's NAL units, in order, each with its header byte. */
  nalUnits: Uint8Array[];
  /** Holds an IDR slice (type 5) or an SPS (type 7): what mediasoup treats as a key frame. */
  keyframe: boolean;
}

/** What an H264Depacketizer did with the packets it was given. */
export type H264DepacketizerStats = RtpFrameAssemblyStats;

const STAP_A = 24;
const FU_A = 28;
const IDR_SLICE = 5;
const SPS = 7;
/** Types that can open an access unit (§7.4.1.2.3): SEI, SPS, PPS, access unit delimiter. */
const OPENING_TYPES: ReadonlySet<number> = new Set([6, 7, 8, 9]);

function malformed(reason: 'truncated' | 'empty-payload', message: string): MalformedPacketError {
  return new MalformedPacketError('h264', reason, message);
}

/** One RTP payload: whole NAL units, or a fragment of one. */
type Piece =
  | { kind: 'units'; units: Uint8Array[] }
  | { kind: 'fragment'; header: number; start: boolean; end: boolean; data: Uint8Array };

/** RFC 6184 §5.6-§5.8: what one RTP payload carries. Throws MalformedPacketError (layer 'h264'). */
export function parseH264Payload(payload: Uint8Array): Piece {
  const indicator = payload[0];
  if (indicator === undefined) throw malformed('empty-payload', 'no H.264 payload');
  const type = indicator & 0x1f;
  if (type >= 1 && type <= 23) return { kind: 'units', units: [payload] };
  if (type === STAP_A) {
    const units: Uint8Array[] = [];
    let at = 1;
    while (at < payload.length) {
      if (at + 2 > payload.length) throw malformed('truncated', 'STAP-A ends inside a NAL unit size');
      const size = ((payload[at] ?? 0) << 8) | (payload[at + 1] ?? 0);
      if (size === 0 || at + 2 + size > payload.length) {
        throw malformed('truncated', `STAP-A NAL unit of ${size} bytes overruns the packet`);
      }
      units.push(payload.subarray(at + 2, at + 2 + size));
      at += 2 + size;
    }
    if (units.length === 0) throw malformed('empty-payload', 'STAP-A without NAL units');
    return { kind: 'units', units };
  }
  if (type === FU_A) {
    const fuHeader = payload[1];
    if (fuHeader === undefined || payload.length < 3) throw malformed('truncated', 'FU-A without a fragment');
    return {
      kind: 'fragment',
      header: (indicator & 0xe0) | (fuHeader & 0x1f),
      start: (fuHeader & 0x80) !== 0,
      end: (fuHeader & 0x40) !== 0,
      data: payload.subarray(2),
    };
  }
  throw malformed('empty-payload', `RTP payload of type ${type}: not single NAL, STAP-A or FU-A (mode 1)`);
}

/** Whether this piece can only be the first of an access unit. */
function opensAccessUnit(piece: Piece): boolean {
  const first = piece.kind === 'units' ? piece.units[0] : piece.start ? piece.data : undefined;
  const header = piece.kind === 'units' ? (first?.[0] ?? 0) : piece.kind === 'fragment' ? piece.header : 0;
  if (first === undefined) return false;
  const type = header & 0x1f;
  if (OPENING_TYPES.has(type)) return true;
  if (type !== 1 && type !== IDR_SLICE) return false;
  try {
    const payload = piece.kind === 'units' ? first.subarray(1) : first;
    return parseSliceHeaderStart(payload).firstMbInSlice === 0;
  } catch {
    return false;
  }
}

/** Reassembles the H.264 frames of one SSRC. Feed it every RTP packet of that SSRC, in arrival order. */
export class H264Depacketizer {
  /** Timestamp of each recent extended sequence number, to tell where a frame begins. */
  readonly #timestampOf = new Map<number, number>();
  readonly #assembly: RtpFrameAssembly<Piece, H264Frame>;

  constructor({ maxPendingFrames = 32 }: { maxPendingFrames?: number } = {}) {
    this.#assembly = new RtpFrameAssembly<Piece, H264Frame>(
      {
        layer: 'h264',
        parse: parseH264Payload,
        frameKey: (packet) => packet.timestamp,
        // RFC 6184 has no start flag: #startOf finds where a frame begins.
        opensFrame: () => false,
        closesFrame: (_piece, packet) => packet.marker,
        join: joinAccessUnit,
        startOf: (frame, end) => this.#startOf(frame, end),
        onHeld: (seq, packet) => this.#timestampOf.set(seq, packet.timestamp),
        alsoCompletes: (seq) => this.#frameHolding(seq + 1),
        onCompleted: (start) => {
          for (const seq of [...this.#timestampOf.keys()]) if (seq < start - 1) this.#timestampOf.delete(seq);
        },
      },
      { maxPendingFrames },
    );
  }

  get stats(): Readonly<H264DepacketizerStats> {
    return this.#assembly.stats;
  }

  /** Takes one packet; returns the frames it completed. Throws MalformedPacketError for a bad payload. */
  push(packet: RtpPacket): H264Frame[] {
    return this.#assembly.push(packet);
  }

  /** The pending frame that holds this packet, or a later one of its timestamp. */
  #frameHolding(seq: number): PendingFrame<Piece> | undefined {
    const timestamp = this.#timestampOf.get(seq);
    return timestamp === undefined ? undefined : this.#assembly.pendingFrame(timestamp);
  }

  #startOf(frame: PendingFrame<Piece>, end: number): number | undefined {
    let start = end;
    while (frame.packets.has(start - 1)) start--;
    const before = start - 1;
    const beforeTimestamp = this.#timestampOf.get(before);
    const doneUpTo = this.#assembly.doneUpTo;
    if (before === doneUpTo && doneUpTo >= 0) return start;
    if (beforeTimestamp !== undefined) return beforeTimestamp !== frame.timestamp ? start : undefined;
    const first = frame.packets.get(start);
    return first !== undefined && opensAccessUnit(first.piece) ? start : undefined;
  }
}

/** The access unit of a frame's packets, in Annex B form and as NAL units. */
function joinAccessUnit(held: HeldPacket<Piece>[], span: FrameSpan): H264Frame {
  const units = nalUnits(held);
  const annexB = units.flatMap((unit) => [0, 0, 0, 1, ...unit]);
  return {
    codec: 'h264',
    ...span,
    data: Uint8Array.from(annexB),
    nalUnits: units,
    keyframe: units.some((unit) => [IDR_SLICE, SPS].includes((unit[0] ?? 0) & 0x1f)),
  };
}

/** The NAL units of a frame's packets; FU-A fragments must run from S to E without a break. */
function nalUnits(held: HeldPacket<Piece>[]): Uint8Array[] {
  const units: Uint8Array[] = [];
  let fragments: Uint8Array[] | undefined;
  for (const { piece } of held) {
    if (piece.kind === 'units') {
      if (fragments !== undefined) throw malformed('truncated', 'an FU-A NAL unit without its end fragment');
      units.push(...piece.units);
      continue;
    }
    if (piece.start === (fragments !== undefined)) {
      throw malformed(
        'truncated',
        piece.start ? 'an FU-A start inside another NAL unit' : 'an FU-A fragment without its start',
      );
    }
    fragments ??= [Uint8Array.of(piece.header)];
    fragments.push(piece.data);
    if (piece.end) {
      units.push(concatBytes(...fragments));
      fragments = undefined;
    }
  }
  if (fragments !== undefined) throw malformed('truncated', 'the frame ends inside an FU-A NAL unit');
  return units;
}
