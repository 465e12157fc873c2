// Everything one SSRC's packets tell the verifier: each packet is admitted once (packetLedger.ts),
// routed to its codec (the stream map's entry, else the payload-type map), reassembled into frames
// (VP8, VP9, H.264) or taken as one (Opus), and each frame is judged: the SFrame layout
// (sframeFrameInspector.ts), no plaintext picture (plaintextPicture.ts), no CTR sealing two frames
// under one KID (sframeStreamTracker.ts). `report()` turns what was seen into a StreamReport.
//
// What must hold: no bytes make it throw (a malformed payload is a violation, not an exception), and
// a packet that cannot be checked is counted as unchecked, never as passed.
import { H264Depacketizer } from './h264Depacketizer.ts';
import { MalformedPacketError } from './errors.ts';
import type { MediaFrame } from './mediaFrame.ts';
import { mlsReadings } from './mlsReadings.ts';
import { opusFrameFromPacket } from './opus.ts';
import { PacketLedger } from './packetLedger.ts';
import { plaintextPicture } from './plaintextPicture.ts';
import type { RtpPacket } from './rtp.ts';
import { inspectSFrameFrame } from './sframeFrameInspector.ts';
import { SFrameStreamTracker } from './sframeStreamTracker.ts';
import { isVerifiableCodec, type StreamMapEntry, type VerifiableCodec } from './streamMap.ts';
import type { KidReport, StreamReport, StreamViolation, StreamViolationCode } from './streamReport.ts';
import { Vp8Depacketizer } from './vp8Depacketizer.ts';
import { Vp9Depacketizer } from './vp9Depacketizer.ts';

/** How a stream audit is set up: its map entry (if any) and the verifier's options. */
export interface StreamAuditSettings {
  entry: StreamMapEntry | undefined;
  /** Payload type → codec, for a stream the map does not list. */
  payloadTypes: ReadonlyMap<number, string>;
  suite: number;
  /** Violations kept with details (all are counted). */
  maxViolations: number;
}

const compareBigints = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** Verifies one SSRC's packets, one `take` at a time, and reports on them. */
export class StreamAudit {
  readonly ssrc: number;
  readonly entry: StreamMapEntry | undefined;
  readonly #payloadTypes: ReadonlyMap<number, string>;
  readonly #suite: number;
  readonly #maxViolations: number;
  readonly #payloadTypesSeen = new Set<number>();
  readonly #codecs = new Set<string>();
  readonly #unverifiedCodecs = new Set<string>();
  readonly tracker = new SFrameStreamTracker();
  readonly #ledger = new PacketLedger();
  /** First capture number of each (KID, CTR), to name the earlier frame of a reuse. */
  readonly #firstUse = new Map<string, number>();
  /** Capture numbers of packets that ended up in a reassembled frame. */
  readonly #packetsInFrames = new Set<number>();
  /** Packets handed to a depacketizer (VP8, VP9, H.264), to count those of incomplete frames. */
  #depacketizedPackets = 0;
  #depacketizer: Vp8Depacketizer | Vp9Depacketizer | H264Depacketizer | undefined;
  packets = 0;
  firstPacket = 0;
  lastPacket = 0;
  paddingPackets = 0;
  duplicatePackets = 0;
  uncheckedPackets = 0;
  frames = 0;
  okFrames = 0;
  keyframes = 0;
  violationCount = 0;
  readonly violations: StreamViolation[] = [];

  constructor(ssrc: number, { entry, payloadTypes, suite, maxViolations }: StreamAuditSettings) {
    this.ssrc = ssrc;
    this.entry = entry;
    this.#payloadTypes = payloadTypes;
    this.#suite = suite;
    this.#maxViolations = maxViolations;
  }

  #violation(violation: StreamViolation): void {
    this.violationCount++;
    if (this.violations.length < this.#maxViolations) this.violations.push(violation);
  }

  #packetViolation(code: StreamViolationCode, message: string, number: number, packet: RtpPacket): void {
    this.#violation({
      code,
      message,
      packets: [number],
      sequenceNumbers: [packet.sequenceNumber, packet.sequenceNumber],
      timestamp: packet.timestamp,
    });
  }

  /** Takes capture record `number`: its UDP payload `bytes`, parsed as `packet`. */
  take(number: number, bytes: Uint8Array, packet: RtpPacket): void {
    if (this.packets === 0) this.firstPacket = number;
    this.packets++;
    this.lastPacket = number;
    this.#payloadTypesSeen.add(packet.payloadType);
    if (!this.#admit(number, bytes, packet)) return;
    const codec = this.#codecOf(number, packet);
    if (codec === undefined) return;
    this.#codecs.add(codec);
    if (codec === 'opus') {
      const frame = opusFrameFromPacket(packet);
      if (frame !== undefined) this.#inspect(frame, 'opus', [number]);
      return;
    }
    this.#depacketize(number, packet, codec);
  }

  /** Whether the packet is new and carries a payload to check. */
  #admit(number: number, bytes: Uint8Array, packet: RtpPacket): boolean {
    const admission = this.#ledger.admit(number, bytes, packet.sequenceNumber);
    if (admission.kind === 'duplicate') {
      this.duplicatePackets++;
      return false;
    }
    if (admission.kind === 'sequence-reuse') {
      this.uncheckedPackets++;
      this.#packetViolation(
        'sequence-reuse',
        `sequence number ${packet.sequenceNumber} seen again with different bytes (first at #${admission.firstNumber})`,
        number,
        packet,
      );
      return false;
    }
    if (packet.payload.length === 0) {
      this.paddingPackets++;
      return false;
    }
    return true;
  }

  /** The packet's codec when the audit can check it; otherwise counts it unchecked. */
  #codecOf(number: number, packet: RtpPacket): VerifiableCodec | undefined {
    if (this.entry !== undefined && packet.payloadType !== this.entry.payloadType) {
      this.uncheckedPackets++;
      this.#packetViolation(
        'unexpected-payload-type',
        `payload type ${packet.payloadType}, but the map gives SSRC ${this.ssrc} payload type ${this.entry.payloadType}`,
        number,
        packet,
      );
      return undefined;
    }
    const codec = this.entry?.codec ?? this.#payloadTypes.get(packet.payloadType);
    if (codec === undefined || !isVerifiableCodec(codec)) {
      this.uncheckedPackets++;
      this.#unverifiedCodecs.add(codec ?? `payload type ${packet.payloadType}`);
      return undefined;
    }
    return codec;
  }

  #depacketize(number: number, packet: RtpPacket, codec: Exclude<VerifiableCodec, 'opus'>): void {
    this.#depacketizedPackets++;
    this.#depacketizer ??=
      codec === 'h264'
        ? new H264Depacketizer()
        : codec === 'vp9'
          ? new Vp9Depacketizer()
          : new Vp8Depacketizer();
    let frames;
    try {
      frames = this.#depacketizer.push(packet);
    } catch (error) {
      if (!(error instanceof MalformedPacketError)) throw error;
      this.#depacketizedPackets--;
      this.uncheckedPackets++;
      this.#packetViolation('malformed-payload', error.message, number, packet);
      return;
    }
    for (const frame of frames) {
      const numbers = this.#ledger.captureNumbers(frame.firstSequenceNumber, frame.packetCount);
      for (const n of numbers) this.#packetsInFrames.add(n);
      this.#inspect(frame, codec, numbers);
    }
  }

  #inspect(frame: MediaFrame, codec: VerifiableCodec, packets: number[]): void {
    this.frames++;
    const inspection = inspectSFrameFrame(frame.data, codec, { suite: this.#suite });
    const picture = plaintextPicture(frame, codec);
    const keyframe =
      (frame as { keyframe?: boolean }).keyframe ??
      (inspection.ok ? inspection.keyframe : inspection.violation.keyframe);
    if (keyframe) this.keyframes++;
    const where = {
      packets,
      sequenceNumbers: [frame.firstSequenceNumber, frame.lastSequenceNumber] as [number, number],
      timestamp: frame.timestamp,
    };
    if (!inspection.ok || picture !== undefined) {
      const plaintext = picture?.description ?? (inspection.ok ? undefined : inspection.violation.plaintext);
      const base = inspection.ok
        ? {
            code: codec === 'vp9' ? ('vp9-plaintext' as const) : ('vp8-plaintext' as const),
            message: `reads as a plaintext ${plaintext}`,
            kid: inspection.kid,
            ctr: inspection.ctr,
          }
        : {
            code: inspection.violation.code,
            message: inspection.violation.message,
            kid: inspection.violation.kid,
            ctr: inspection.violation.ctr,
          };
      this.#violation({
        ...where,
        code: base.code,
        message: base.message,
        ...(base.kid === undefined ? {} : { kid: base.kid, ctr: base.ctr }),
        ...(plaintext === undefined ? {} : { plaintext }),
      });
      return;
    }
    const key = `${inspection.kid}:${inspection.ctr}`;
    const reuse = this.tracker.record(inspection);
    if (reuse !== undefined) {
      const first = this.#firstUse.get(key);
      this.#violation({
        ...where,
        code: 'ctr-reuse',
        message: `${reuse.message}${first === undefined ? '' : ` (first at #${first})`}`,
        kid: reuse.kid,
        ctr: reuse.ctr,
      });
      return;
    }
    this.#firstUse.set(key, packets[0] ?? 0);
    this.okFrames++;
  }

  #mappedBy(): StreamReport['mappedBy'] {
    if (this.entry !== undefined) return 'map';
    return [...this.#payloadTypesSeen].some((pt) => this.#payloadTypes.has(pt)) ? 'payload-type' : 'none';
  }

  #kind(): StreamReport['kind'] {
    if (this.entry !== undefined) return this.entry.kind;
    if (this.#codecs.has('opus')) return 'audio';
    return this.#codecs.has('vp8') || this.#codecs.has('vp9') || this.#codecs.has('h264')
      ? 'video'
      : undefined;
  }

  #kidReports(kind: StreamReport['kind']): KidReport[] {
    return this.tracker.kids.map((stats) => ({
      kid: stats.kid,
      epochLowBits: stats.epochLowBits,
      mls: kind === undefined ? [] : mlsReadings(stats.kid, kind, this.entry?.source),
      frames: stats.frames,
      keyframes: stats.keyframes,
      ctr: { first: stats.firstCtr, min: stats.minCtr, max: stats.maxCtr },
      outOfOrder: stats.outOfOrder,
      reusedCtrs: stats.reusedCtrs,
    }));
  }

  #unverifiedReason(mappedBy: StreamReport['mappedBy']): string | undefined {
    const unverified = [...this.#unverifiedCodecs];
    if (unverified.length === 0) return undefined;
    return (
      `${unverified.join(', ')}: the audit cannot reassemble ${unverified.length === 1 ? 'this codec' : 'these codecs'}` +
      (mappedBy === 'none' ? ' (no codec known: give --map or --pt)' : '')
    );
  }

  report(): StreamReport {
    const mappedBy = this.#mappedBy();
    const kind = this.#kind();
    const codecs = [...this.#codecs, ...this.#unverifiedCodecs];
    const kids = this.#kidReports(kind);
    return {
      ssrc: this.ssrc,
      mappedBy,
      codec: this.entry?.codec ?? (codecs.length === 0 ? undefined : codecs.join('+')),
      kind,
      source: this.entry?.source,
      participant: this.entry?.participant,
      payloadTypes: [...this.#payloadTypesSeen].sort((a, b) => a - b),
      verifiable: this.#unverifiedCodecs.size === 0,
      unverifiedReason: this.#unverifiedReason(mappedBy),
      packets: this.packets,
      firstPacket: this.firstPacket,
      lastPacket: this.lastPacket,
      paddingPackets: this.paddingPackets,
      duplicatePackets: this.duplicatePackets,
      uncheckedPackets: this.uncheckedPackets,
      packetsInIncompleteFrames: this.#depacketizedPackets - this.#packetsInFrames.size,
      sequence: this.#ledger.summary(),
      frames: this.frames,
      okFrames: this.okFrames,
      keyframes: this.keyframes,
      violationCount: this.violationCount,
      violations: this.violations,
      kids,
      epochLowBits: [...new Set(kids.map((k) => k.epochLowBits))].sort(compareBigints),
    };
  }
}
