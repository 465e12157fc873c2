// Verifies a capture of what the SFU forwarded, without any key: every media frame must be
// `allowed clear prefix ‖ SFrame header ‖ ciphertext` for its codec (sframeFrameInspector.ts), no
// frame may read as a plaintext VP8 picture (vp8Picture.ts), and no CTR may seal two frames under
// one KID (sframeStreamTracker.ts). Pure: datagrams and a stream map in, a report out. The CLI
// (server/src/cli/audit.ts) reads the pcap and prints the report.
//
// Per UDP datagram (RFC 7983 §7 demultiplexing by the first byte): RTP is verified; RTCP, STUN and
// DTLS are counted and left alone. Per RTP stream (SSRC): the codec comes from the stream map (by
// SSRC) or the payload-type map; VP8 frames are reassembled (RFC 7741), VP9 (RFC 9628; a plaintext
// key frame is flagged by vp9Picture.ts) and H.264 frames too (RFC 6184, h264Depacketizer.ts; a
// plaintext NAL unit such as an IDR slice is flagged by h264Layout.ts), each Opus packet is a frame
// (RFC 7587). A stream whose codec the audit cannot reassemble (none known, or another codec) is
// unverifiable: its frames were not checked, so it fails the verdict unless `allowUnverified`.
//
// Packets are named by their number in the capture (Wireshark's frame number) and RTP sequence number.
import { MalformedPacketError } from './errors.ts';
import { H264Depacketizer } from './h264Depacketizer.ts';
import type { MediaFrame } from './mediaFrame.ts';
import { opusFrameFromPacket } from './opus.ts';
import { parseRtpPacket, type RtpPacket } from './rtp.ts';
import { SEQUENCE_CYCLE, SequenceUnwrapper } from './sequenceNumbers.ts';
import { inspectSFrameFrame, type FrameViolationCode } from './sframeFrameInspector.ts';
import { SFrameStreamTracker } from './sframeStreamTracker.ts';
import {
  isVerifiableCodec,
  normalizeCodecName,
  type StreamMapEntry,
  type VerifiableCodec,
} from './streamMap.ts';
import { Vp8Depacketizer } from './vp8Depacketizer.ts';
import { describeVp8Picture, vp8PlaintextPicture } from './vp8Picture.ts';
import { Vp9Depacketizer } from './vp9Depacketizer.ts';
import { describeVp9Picture, vp9PlaintextPicture } from './vp9Picture.ts';

/** One UDP payload of the capture; `PcapUdpPacket` is one. */
export interface CapturedDatagram {
  /** 1-based position in the capture. */
  number: number;
  payload: Uint8Array;
}

export interface VerifyOptions {
  /** Streams by SSRC (a capture's map file); takes precedence over `payloadTypes`. */
  streams?: readonly StreamMapEntry[];
  /** Payload type → codec name, for streams the map does not list. */
  payloadTypes?: ReadonlyMap<number, string>;
  /** RFC 9605 cipher suite of the senders (its tag length); default 4. */
  suite?: number;
  /** Pass streams whose codec cannot be verified (their frames stay unchecked). Default false. */
  allowUnverified?: boolean;
  /** Violations kept with details per stream (all are counted). Default 1000. */
  maxViolationsPerStream?: number;
}

export type StreamViolationCode =
  | FrameViolationCode
  /** A frame that passed the SFrame checks but reads as a plaintext VP8 picture. */
  | 'vp8-plaintext'
  /** A frame that passed the SFrame checks but reads as a plaintext VP9 key (or intra-only) frame. */
  | 'vp9-plaintext'
  /** A (KID, CTR) pair sealing a second frame: nonce reuse, or a replayed frame. */
  | 'ctr-reuse'
  /** A sequence number seen again with different bytes: the later packet could not be checked. */
  | 'sequence-reuse'
  /** A packet whose payload type is not the one the map gives its SSRC: not checked. */
  | 'unexpected-payload-type'
  /** A VP8 payload descriptor or H.264 payload (RFC 6184) that does not parse. */
  | 'malformed-payload';

export interface StreamViolation {
  code: StreamViolationCode;
  message: string;
  /** Capture numbers of the packets involved (a frame's packets, in order). */
  packets: number[];
  /** RTP sequence numbers of the first and last of them. */
  sequenceNumbers: [number, number];
  timestamp: number;
  kid?: bigint;
  ctr?: bigint;
  /** When the frame reads as a plaintext VP8 picture or H.264 NAL unit: what it parses as. */
  plaintext?: string;
}

/** One reading of a KID as RFC 9605 §5.2 MLS parts (E = 4) that suits the stream's kind. */
export interface MlsReading {
  stream: 'audio' | 'camera' | 'screen';
  /** The sender's leaf index. */
  index: bigint;
  /** The S values for which this reading holds (audio KIDs read the same for every large enough S). */
  indexBits: { min: number; max: number };
}

export interface KidReport {
  kid: bigint;
  /** KID mod 16: the low bits of the MLS epoch. */
  epochLowBits: bigint;
  mls: MlsReading[];
  frames: number;
  keyframes: number;
  ctr: { first: bigint; min: bigint; max: bigint };
  /** Frames whose CTR was below one already seen under this KID. */
  outOfOrder: number;
  reusedCtrs: number;
}

export interface SequenceGap {
  /** First and last missing sequence numbers (16-bit, so `to` may be below `from` across a wrap). */
  from: number;
  to: number;
  count: number;
}

export interface StreamReport {
  ssrc: number;
  /** Where the codec came from. */
  mappedBy: 'map' | 'payload-type' | 'none';
  codec: string | undefined;
  kind: 'audio' | 'video' | undefined;
  source: string | undefined;
  participant: string | undefined;
  payloadTypes: number[];
  verifiable: boolean;
  /** Why frames of this stream were not checked. */
  unverifiedReason: string | undefined;
  packets: number;
  /** Capture numbers of the stream's first and last packet. */
  firstPacket: number;
  lastPacket: number;
  /** Packets with no payload (padding, bandwidth probes). */
  paddingPackets: number;
  /** Packets seen again byte for byte (not checked twice). */
  duplicatePackets: number;
  /** Packets not checked: unverifiable codec or unexpected payload type. */
  uncheckedPackets: number;
  /** Packets of VP8 or H.264 frames that never completed (loss, or the capture's first and last frame). */
  packetsInIncompleteFrames: number;
  sequence: { first: number; last: number; missing: number; gaps: SequenceGap[] };
  frames: number;
  okFrames: number;
  keyframes: number;
  violationCount: number;
  violations: StreamViolation[];
  kids: KidReport[];
  /** The distinct low 4 bits of MLS epochs seen in KIDs (sorted). */
  epochLowBits: bigint[];
}

export interface VerifyReport {
  ok: boolean;
  /** Why `ok` is false, one line each; empty when it is true. */
  problems: string[];
  suite: number;
  allowUnverified: boolean;
  datagrams: { total: number; rtp: number; rtcp: number; stun: number; dtls: number; other: number };
  /** Datagrams that looked like RTP (RFC 7983) but do not parse. */
  malformed: { packet: number; message: string }[];
  streams: StreamReport[];
  /** SSRCs the stream map lists that never appeared in the capture. */
  absentMappedStreams: number[];
  frames: number;
  okFrames: number;
  violations: number;
  unverifiedStreams: number;
}

const MAX_GAPS_LISTED = 100;
const EPOCH_BITS = 4n;
const MAX_INDEX_BITS = 32;

/** RFC 7983 §7 (and RFC 5761 §4 for RTCP in the RTP range). */
function classify(payload: Uint8Array): 'rtp' | 'rtcp' | 'stun' | 'dtls' | 'other' {
  const first = payload[0];
  if (first === undefined) return 'other';
  if (first <= 3) return 'stun';
  if (first >= 20 && first <= 63) return 'dtls';
  if (first >= 128 && first <= 191) {
    const second = payload[1] ?? 0;
    return second >= 192 && second <= 223 ? 'rtcp' : 'rtp';
  }
  return 'other';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** RFC 9605 §5.2 readings of a KID that fit the stream (E = 4, S in 1-32). */
export function mlsReadings(kid: bigint, kind: 'audio' | 'video', source?: string): MlsReading[] {
  if (kind === 'audio') {
    // Context 0: index = KID >> E for every S wide enough to hold it.
    const index = kid >> EPOCH_BITS;
    const min = index === 0n ? 1 : index.toString(2).length;
    return min > MAX_INDEX_BITS ? [] : [{ stream: 'audio', index, indexBits: { min, max: MAX_INDEX_BITS } }];
  }
  const readings: MlsReading[] = [];
  for (let s = 1; s <= MAX_INDEX_BITS; s++) {
    const shift = BigInt(s) + EPOCH_BITS;
    const context = kid >> shift;
    const stream = context === 1n ? 'camera' : context === 2n ? 'screen' : undefined;
    if (stream === undefined || (source !== undefined && source !== stream)) continue;
    const index = (kid >> EPOCH_BITS) & ((1n << BigInt(s)) - 1n);
    readings.push({ stream, index, indexBits: { min: s, max: s } });
  }
  return readings;
}

/** What a frame reads as when it is a plaintext picture (VP8 and VP9 only; H.264 is judged by layout). */
function plaintextPicture(frame: MediaFrame, codec: VerifiableCodec): { description: string } | undefined {
  if (codec === 'vp8') {
    const picture = vp8PlaintextPicture(frame.data);
    return picture === undefined ? undefined : { description: describeVp8Picture(picture) };
  }
  if (codec === 'vp9') {
    const picture = vp9PlaintextPicture(frame.data);
    return picture === undefined ? undefined : { description: describeVp9Picture(picture) };
  }
  return undefined;
}

/** Everything one SSRC's packets tell. */
class StreamAudit {
  readonly ssrc: number;
  readonly entry: StreamMapEntry | undefined;
  readonly #payloadTypes: ReadonlyMap<number, string>;
  readonly #suite: number;
  readonly #maxViolations: number;
  readonly #payloadTypesSeen = new Set<number>();
  readonly #codecs = new Set<string>();
  readonly #unverifiedCodecs = new Set<string>();
  readonly tracker = new SFrameStreamTracker();
  /** Extended sequence number → the packet's bytes, for duplicates and gaps. */
  readonly #seen = new Map<number, Uint8Array>();
  /** 16-bit sequence number → capture number of the latest packet with it (frames name packets). */
  readonly #numberBySequence = new Map<number, number>();
  /** First capture number of each (KID, CTR), to name the earlier frame of a reuse. */
  readonly #firstUse = new Map<string, number>();
  readonly #vp8InFrames = new Set<number>();
  #vp8Packets = 0;
  #depacketizer: Vp8Depacketizer | Vp9Depacketizer | H264Depacketizer | undefined;
  readonly #sequence = new SequenceUnwrapper();
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

  constructor(
    ssrc: number,
    entry: StreamMapEntry | undefined,
    payloadTypes: ReadonlyMap<number, string>,
    suite: number,
    maxViolations: number,
  ) {
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

  take(number: number, bytes: Uint8Array, packet: RtpPacket): void {
    if (this.packets === 0) this.firstPacket = number;
    this.packets++;
    this.lastPacket = number;
    this.#payloadTypesSeen.add(packet.payloadType);

    const extended = this.#sequence.unwrap(packet.sequenceNumber);
    const earlier = this.#seen.get(extended);
    if (earlier !== undefined) {
      if (sameBytes(earlier, bytes)) {
        this.duplicatePackets++;
        return;
      }
      this.uncheckedPackets++;
      this.#packetViolation(
        'sequence-reuse',
        `sequence number ${packet.sequenceNumber} seen again with different bytes (first at #${this.#numberBySequence.get(packet.sequenceNumber)})`,
        number,
        packet,
      );
      return;
    }
    this.#seen.set(extended, bytes);
    this.#numberBySequence.set(packet.sequenceNumber, number);

    if (packet.payload.length === 0) {
      this.paddingPackets++;
      return;
    }
    if (this.entry !== undefined && packet.payloadType !== this.entry.payloadType) {
      this.uncheckedPackets++;
      this.#packetViolation(
        'unexpected-payload-type',
        `payload type ${packet.payloadType}, but the map gives SSRC ${this.ssrc} payload type ${this.entry.payloadType}`,
        number,
        packet,
      );
      return;
    }
    const codec = this.entry?.codec ?? this.#payloadTypes.get(packet.payloadType);
    if (codec === undefined || !isVerifiableCodec(codec)) {
      this.uncheckedPackets++;
      this.#unverifiedCodecs.add(codec ?? `payload type ${packet.payloadType}`);
      return;
    }
    this.#codecs.add(codec);
    if (codec === 'opus') {
      const frame = opusFrameFromPacket(packet);
      if (frame !== undefined) this.#inspect(frame, 'opus', [number]);
      return;
    }
    this.#vp8Packets++;
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
      this.#vp8Packets--;
      this.uncheckedPackets++;
      this.#packetViolation('malformed-payload', error.message, number, packet);
      return;
    }
    for (const frame of frames) {
      const numbers: number[] = [];
      for (let i = 0; i < frame.packetCount; i++) {
        const n = this.#numberBySequence.get((frame.firstSequenceNumber + i) % SEQUENCE_CYCLE);
        if (n !== undefined) {
          numbers.push(n);
          this.#vp8InFrames.add(n);
        }
      }
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

  #gaps(): StreamReport['sequence'] {
    const sequences = [...this.#seen.keys()].sort((a, b) => a - b);
    const first = sequences[0] ?? 0;
    const last = sequences[sequences.length - 1] ?? 0;
    const gaps: SequenceGap[] = [];
    let missing = 0;
    let previous = first;
    for (const sequence of sequences) {
      const count = sequence - previous - 1;
      if (count > 0) {
        missing += count;
        if (gaps.length < MAX_GAPS_LISTED) {
          gaps.push({ from: (previous + 1) % SEQUENCE_CYCLE, to: (sequence - 1) % SEQUENCE_CYCLE, count });
        }
      }
      previous = sequence;
    }
    return { first: first % SEQUENCE_CYCLE, last: last % SEQUENCE_CYCLE, missing, gaps };
  }

  report(): StreamReport {
    const mappedBy: StreamReport['mappedBy'] =
      this.entry !== undefined
        ? 'map'
        : [...this.#payloadTypesSeen].some((pt) => this.#payloadTypes.has(pt))
          ? 'payload-type'
          : 'none';
    const kind =
      this.entry?.kind ??
      (this.#codecs.has('opus')
        ? 'audio'
        : this.#codecs.has('vp8') || this.#codecs.has('vp9') || this.#codecs.has('h264')
          ? 'video'
          : undefined);
    const codecs = [...this.#codecs, ...this.#unverifiedCodecs];
    const unverified = [...this.#unverifiedCodecs];
    const kids: KidReport[] = this.tracker.kids.map((stats) => ({
      kid: stats.kid,
      epochLowBits: stats.epochLowBits,
      mls: kind === undefined ? [] : mlsReadings(stats.kid, kind, this.entry?.source),
      frames: stats.frames,
      keyframes: stats.keyframes,
      ctr: { first: stats.firstCtr, min: stats.minCtr, max: stats.maxCtr },
      outOfOrder: stats.outOfOrder,
      reusedCtrs: stats.reusedCtrs,
    }));
    const epochs = [...new Set(kids.map((k) => k.epochLowBits))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return {
      ssrc: this.ssrc,
      mappedBy,
      codec: this.entry?.codec ?? (codecs.length === 0 ? undefined : codecs.join('+')),
      kind,
      source: this.entry?.source,
      participant: this.entry?.participant,
      payloadTypes: [...this.#payloadTypesSeen].sort((a, b) => a - b),
      verifiable: unverified.length === 0,
      unverifiedReason:
        unverified.length === 0
          ? undefined
          : `${unverified.join(', ')}: the audit cannot reassemble ${unverified.length === 1 ? 'this codec' : 'these codecs'}` +
            (mappedBy === 'none' ? ' (no codec known: give --map or --pt)' : ''),
      packets: this.packets,
      firstPacket: this.firstPacket,
      lastPacket: this.lastPacket,
      paddingPackets: this.paddingPackets,
      duplicatePackets: this.duplicatePackets,
      uncheckedPackets: this.uncheckedPackets,
      packetsInIncompleteFrames: this.#vp8Packets - this.#vp8InFrames.size,
      sequence: this.#gaps(),
      frames: this.frames,
      okFrames: this.okFrames,
      keyframes: this.keyframes,
      violationCount: this.violationCount,
      violations: this.violations,
      kids,
      epochLowBits: epochs,
    };
  }
}

/** Verifies every RTP packet of a capture. Never throws for any bytes. */
export function verifyCapture(
  datagrams: Iterable<CapturedDatagram>,
  options: VerifyOptions = {},
): VerifyReport {
  const {
    streams: entries = [],
    payloadTypes = new Map<number, string>(),
    suite = 4,
    allowUnverified = false,
    maxViolationsPerStream = 1000,
  } = options;
  const mapped = new Map(entries.map((e) => [e.ssrc, { ...e, codec: normalizeCodecName(e.codec) }]));
  const codecOfPayloadType = new Map([...payloadTypes].map(([pt, codec]) => [pt, normalizeCodecName(codec)]));
  const audits = new Map<number, StreamAudit>();
  const counts = { total: 0, rtp: 0, rtcp: 0, stun: 0, dtls: 0, other: 0 };
  const malformed: VerifyReport['malformed'] = [];

  for (const { number, payload } of datagrams) {
    counts.total++;
    const kind = classify(payload);
    counts[kind]++;
    if (kind !== 'rtp') continue;
    let packet: RtpPacket;
    try {
      packet = parseRtpPacket(payload);
    } catch (error) {
      if (!(error instanceof MalformedPacketError)) throw error;
      malformed.push({ packet: number, message: error.message });
      continue;
    }
    let audit = audits.get(packet.ssrc);
    if (audit === undefined) {
      audit = new StreamAudit(
        packet.ssrc,
        mapped.get(packet.ssrc),
        codecOfPayloadType,
        suite,
        maxViolationsPerStream,
      );
      audits.set(packet.ssrc, audit);
    }
    audit.take(number, payload, packet);
  }

  const streams = [...audits.values()].map((audit) => audit.report());
  const frames = streams.reduce((sum, s) => sum + s.frames, 0);
  const okFrames = streams.reduce((sum, s) => sum + s.okFrames, 0);
  const violations = streams.reduce((sum, s) => sum + s.violationCount, 0);
  const unverified = streams.filter((s) => !s.verifiable);
  const problems: string[] = [];
  if (violations > 0) {
    const failing = streams.filter((s) => s.violationCount > 0).length;
    problems.push(
      `${violations} violation${violations === 1 ? '' : 's'} in ${failing} stream${failing === 1 ? '' : 's'}`,
    );
  }
  if (malformed.length > 0)
    problems.push(`${malformed.length} malformed RTP packet${malformed.length === 1 ? '' : 's'}`);
  if (unverified.length > 0 && !allowUnverified) {
    problems.push(
      `${unverified.length} unverifiable stream${unverified.length === 1 ? '' : 's'} (SSRC ${unverified.map((s) => s.ssrc).join(', ')}); --allow-unverified passes them unchecked`,
    );
  }
  if (frames === 0) problems.push('no media frames in the capture: nothing was verified');
  return {
    ok: problems.length === 0,
    problems,
    suite,
    allowUnverified,
    datagrams: counts,
    malformed,
    streams,
    absentMappedStreams: entries.filter((e) => !audits.has(e.ssrc)).map((e) => e.ssrc),
    frames,
    okFrames,
    violations,
    unverifiedStreams: unverified.length,
  };
}

/** The report as JSON: KIDs, CTRs and epoch bits (bigints) as decimal strings. */
export function verifyReportToJson(report: VerifyReport): string {
  return JSON.stringify(
    report,
    (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
    2,
  );
}
