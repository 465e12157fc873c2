// Frame assembly by RTP timestamp, shared by the VP8, VP9 and H.264 depacketizers: packets of one
// SSRC are held per frame key (the RTP timestamp, for VP9 with the spatial layer) until the frame's
// first packet, its last packet and every sequence number between them are in; then the codec joins
// the pieces into one frame. The codec parses payloads into pieces, says which piece opens or closes
// a frame (H.264, without a start flag, finds the start itself) and joins pieces; holding, ordering
// and giving up on frames live here.
//
// What must hold:
// - One SSRC per assembly: another SSRC's packet is refused (MalformedPacketError 'wrong-ssrc') and
//   changes nothing; so is a packet whose payload the codec cannot parse.
// - Sequence numbers are unwrapped (a frame may straddle 65535 → 0). Every sequence number up to
//   `doneUpTo` belongs to a frame already emitted or given up on; a packet there is late, and dropped.
// - A frame is emitted once, whole, or never: a frame that cannot complete is discarded (counted),
//   never emitted in part; one whose pieces the codec cannot join is discarded and the error thrown.
//   When a frame completes, older pending frames that end before it began can no longer complete in
//   order and are discarded. At most `maxPendingFrames` frames are held.
import { MalformedPacketError } from './errors.ts';
import type { RtpPacket } from './rtp.ts';
import { SequenceUnwrapper } from './sequenceNumbers.ts';

/** What a depacketizer did with the packets it was given. */
export interface RtpFrameAssemblyStats {
  frames: number;
  /** Frames given up on: a later frame completed first, or too many were pending. */
  discardedFrames: number;
  /** Packets of a frame that had already been emitted or discarded. */
  latePackets: number;
  duplicatePackets: number;
  /** Packets with no payload (bandwidth probes). */
  paddingPackets: number;
}

/** One held packet and the piece the codec parsed from its payload. */
export interface HeldPacket<Piece> {
  packet: RtpPacket;
  piece: Piece;
}

/** The packets of one frame received so far, by extended sequence number. */
export interface PendingFrame<Piece> {
  key: string | number;
  timestamp: number;
  packets: Map<number, HeldPacket<Piece>>;
  /** Extended sequence numbers of the packets that open and close the frame, once seen. */
  start: number | undefined;
  end: number | undefined;
  lowest: number;
  highest: number;
}

/** Where an emitted frame sits in the RTP stream: the MediaFrame fields every codec shares. */
export interface FrameSpan {
  ssrc: number;
  timestamp: number;
  firstSequenceNumber: number;
  lastSequenceNumber: number;
  packetCount: number;
}

/** The per-codec part of frame assembly. */
export interface RtpFrameCodec<Piece, Frame> {
  /** The layer named in MalformedPacketError. */
  layer: 'h264' | 'vp8' | 'vp9';
  /** What one non-empty payload carries; throws MalformedPacketError for bad bytes. */
  parse(payload: Uint8Array): Piece;
  /** Packets with one key belong to one frame. */
  frameKey(packet: RtpPacket, piece: Piece): string | number;
  opensFrame(piece: Piece, packet: RtpPacket): boolean;
  closesFrame(piece: Piece, packet: RtpPacket): boolean;
  /** The pieces of packets start..end, in order, as one frame; may throw MalformedPacketError. */
  join(held: HeldPacket<Piece>[], span: FrameSpan): Frame;
  /** Where the frame begins, for codecs without a start flag (default: the opening packet). */
  startOf?(frame: PendingFrame<Piece>, end: number): number | undefined;
  /** A packet was held (seq is its extended sequence number). */
  onHeld?(seq: number, packet: RtpPacket): void;
  /** Another pending frame this packet may have let complete, besides its own. */
  alsoCompletes?(seq: number): PendingFrame<Piece> | undefined;
  /** A frame starting at extended sequence number start was emitted. */
  onCompleted?(start: number): void;
}

/** Limits that bound an assembly's memory. */
export interface RtpFrameAssemblyOptions {
  /** Frames held while waiting for missing packets; the oldest beyond this is discarded. */
  maxPendingFrames: number;
  /** Packets one frame may have; a frame growing beyond this is discarded. */
  maxPacketsPerFrame?: number;
  /** Which pending frame is the oldest: the one with the lowest first or the lowest last packet. */
  oldestBy?: 'lowest' | 'highest';
}

/** Reassembles the frames of one SSRC. Feed it every RTP packet of that SSRC, in arrival order. */
export class RtpFrameAssembly<Piece, Frame> {
  readonly #codec: RtpFrameCodec<Piece, Frame>;
  readonly #maxPendingFrames: number;
  readonly #maxPacketsPerFrame: number;
  readonly #oldestBy: 'lowest' | 'highest';
  readonly #pending = new Map<string | number, PendingFrame<Piece>>();
  readonly #stats: RtpFrameAssemblyStats = {
    frames: 0,
    discardedFrames: 0,
    latePackets: 0,
    duplicatePackets: 0,
    paddingPackets: 0,
  };
  readonly #sequence = new SequenceUnwrapper();
  #ssrc: number | undefined;
  #doneUpTo = -1;

  constructor(codec: RtpFrameCodec<Piece, Frame>, options: RtpFrameAssemblyOptions) {
    this.#codec = codec;
    this.#maxPendingFrames = options.maxPendingFrames;
    this.#maxPacketsPerFrame = options.maxPacketsPerFrame ?? Infinity;
    this.#oldestBy = options.oldestBy ?? 'lowest';
  }

  get ssrc(): number | undefined {
    return this.#ssrc;
  }

  get stats(): Readonly<RtpFrameAssemblyStats> {
    return { ...this.#stats };
  }

  /** Extended sequence numbers up to here belong to frames already emitted or given up on. */
  get doneUpTo(): number {
    return this.#doneUpTo;
  }

  /** The pending frame with this key, if any. */
  pendingFrame(key: string | number): PendingFrame<Piece> | undefined {
    return this.#pending.get(key);
  }

  /**
   * Takes one packet; returns the frames it completed (usually none or one). Throws
   * MalformedPacketError for a bad payload or another SSRC's packet, and then holds no part of it.
   */
  push(packet: RtpPacket): Frame[] {
    if (this.#ssrc !== undefined && packet.ssrc !== this.#ssrc) {
      throw new MalformedPacketError(
        this.#codec.layer,
        'wrong-ssrc',
        `SSRC ${packet.ssrc} is not ${this.#ssrc}`,
      );
    }
    if (packet.payload.length === 0) {
      this.#stats.paddingPackets++;
      return [];
    }
    const piece = this.#codec.parse(packet.payload);
    this.#ssrc = packet.ssrc;
    const seq = this.#sequence.unwrap(packet.sequenceNumber);
    if (seq <= this.#doneUpTo) {
      this.#stats.latePackets++;
      return [];
    }
    const frame = this.#frameFor(packet, piece, seq);
    if (frame.packets.has(seq)) {
      this.#stats.duplicatePackets++;
      return [];
    }
    this.#hold(frame, seq, packet, piece);
    if (frame.packets.size > this.#maxPacketsPerFrame) {
      this.#discard(frame);
      return [];
    }
    const done: Frame[] = [];
    // This packet may complete its own frame, or (for some codecs) tell another where it begins.
    for (const candidate of [frame, this.#codec.alsoCompletes?.(seq)]) {
      const complete = candidate === undefined ? undefined : this.#complete(candidate);
      if (complete !== undefined) done.push(complete);
    }
    this.#evictBeyondLimit();
    return done;
  }

  #frameFor(packet: RtpPacket, piece: Piece, seq: number): PendingFrame<Piece> {
    const key = this.#codec.frameKey(packet, piece);
    let frame = this.#pending.get(key);
    if (frame === undefined) {
      const { timestamp } = packet;
      frame = {
        key,
        timestamp,
        packets: new Map(),
        start: undefined,
        end: undefined,
        lowest: seq,
        highest: seq,
      };
      this.#pending.set(key, frame);
    }
    return frame;
  }

  #hold(frame: PendingFrame<Piece>, seq: number, packet: RtpPacket, piece: Piece): void {
    frame.packets.set(seq, { packet, piece });
    this.#codec.onHeld?.(seq, packet);
    frame.lowest = Math.min(frame.lowest, seq);
    frame.highest = Math.max(frame.highest, seq);
    if (this.#codec.opensFrame(piece, packet)) frame.start = seq;
    if (this.#codec.closesFrame(piece, packet)) frame.end = seq;
  }

  /** Emits the frame if its start, end and everything between have arrived. */
  #complete(frame: PendingFrame<Piece>): Frame | undefined {
    const { end } = frame;
    if (end === undefined || !this.#pending.has(frame.key)) return undefined;
    const start = this.#codec.startOf === undefined ? frame.start : this.#codec.startOf(frame, end);
    if (start === undefined || end < start) return undefined;
    const held: HeldPacket<Piece>[] = [];
    for (let seq = start; seq <= end; seq++) {
      const one = frame.packets.get(seq);
      if (one === undefined) return undefined;
      held.push(one);
    }
    const first = held[0];
    const last = held[held.length - 1];
    if (first === undefined || last === undefined) return undefined;
    const span: FrameSpan = {
      ssrc: first.packet.ssrc,
      timestamp: frame.timestamp,
      firstSequenceNumber: first.packet.sequenceNumber,
      lastSequenceNumber: last.packet.sequenceNumber,
      packetCount: end - start + 1,
    };
    let joined: Frame;
    try {
      joined = this.#codec.join(held, span);
    } catch (error) {
      this.#discard(frame);
      throw error;
    }
    this.#pending.delete(frame.key);
    this.#doneUpTo = Math.max(this.#doneUpTo, end);
    // Anything older that is still pending can no longer complete in order: give it up.
    for (const older of [...this.#pending.values()]) if (older.highest < start) this.#discard(older);
    this.#codec.onCompleted?.(start);
    this.#stats.frames++;
    return joined;
  }

  #discard(frame: PendingFrame<Piece>): void {
    if (!this.#pending.delete(frame.key)) return;
    this.#doneUpTo = Math.max(this.#doneUpTo, frame.highest);
    this.#stats.discardedFrames++;
  }

  #evictBeyondLimit(): void {
    while (this.#pending.size > this.#maxPendingFrames) {
      let oldest: PendingFrame<Piece> | undefined;
      for (const frame of this.#pending.values()) {
        if (oldest === undefined || frame[this.#oldestBy] < oldest[this.#oldestBy]) oldest = frame;
      }
      if (oldest === undefined) return;
      this.#discard(oldest);
    }
  }
}
