// Verifies a capture of what the SFU forwarded, without any key: every media frame must be
// `allowed clear prefix ‖ SFrame header ‖ ciphertext` for its codec (sframeFrameInspector.ts), no
// frame may read as a plaintext VP8 or VP9 picture (plaintextPicture.ts), and no CTR may seal two
// frames under one KID (sframeStreamTracker.ts). Pure: datagrams and a stream map in, a report out.
// The CLI (audit/src/cli/verifyCommand.ts) reads the pcap and prints the report.
//
// Per UDP datagram (RFC 7983 §7 demultiplexing by the first byte, datagramKind.ts): RTP is verified;
// RTCP, STUN and DTLS are counted and left alone. Per RTP stream (SSRC, streamAudit.ts): the codec
// comes from the stream map (by SSRC) or the payload-type map; VP8 frames are reassembled (RFC 7741),
// VP9 (RFC 9628; a plaintext key frame is flagged by vp9Picture.ts) and H.264 frames too (RFC 6184,
// h264Depacketizer.ts; a plaintext NAL unit such as an IDR slice is flagged by h264Layout.ts), each
// Opus packet is a frame (RFC 7587). A stream whose codec the audit cannot reassemble (none known,
// or another codec) is unverifiable: its frames were not checked, so it fails the verdict unless
// `allowUnverified`. The verdict is verifyReport.ts's.
//
// Packets are named by their number in the capture (Wireshark's frame number) and RTP sequence number.
import { datagramKind } from './datagramKind.ts';
import { MalformedPacketError } from './errors.ts';
import { parseRtpPacket, type RtpPacket } from './rtp.ts';
import { StreamAudit } from './streamAudit.ts';
import { normalizeCodecName, type StreamMapEntry } from './streamMap.ts';
import { captureProblems, type VerifyReport } from './verifyReport.ts';

/** One UDP payload of the capture; `PcapUdpPacket` is one. */
export interface CapturedDatagram {
  /** 1-based position in the capture. */
  number: number;
  payload: Uint8Array;
}

/** What the verifier is told besides the datagrams. */
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

/**
 * Verifies every RTP packet of a capture, without any key.
 * @param datagrams the capture's UDP payloads, numbered as the capture numbers its records
 * @param options the stream map, payload types, suite and limits
 * @returns the report; `ok` says whether the capture passed, `problems` why not
 * @throws SFrameError('unsupported-suite') only for a `suite` that is no RFC 9605 suite; never for
 *   any bytes of the capture
 * @example
 * const report = verifyCapture(readPcap(bytes).packets, { streams: parseStreamMap(mapText) });
 * if (!report.ok) console.error(report.problems.join('\n'));
 */
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
    const kind = datagramKind(payload);
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
      audit = new StreamAudit(packet.ssrc, {
        entry: mapped.get(packet.ssrc),
        payloadTypes: codecOfPayloadType,
        suite,
        maxViolations: maxViolationsPerStream,
      });
      audits.set(packet.ssrc, audit);
    }
    audit.take(number, payload, packet);
  }

  const streams = [...audits.values()].map((audit) => audit.report());
  const problems = captureProblems(streams, malformed.length, allowUnverified);
  return {
    ok: problems.length === 0,
    problems,
    suite,
    allowUnverified,
    datagrams: counts,
    malformed,
    streams,
    absentMappedStreams: entries.filter((e) => !audits.has(e.ssrc)).map((e) => e.ssrc),
    frames: streams.reduce((sum, s) => sum + s.frames, 0),
    okFrames: streams.reduce((sum, s) => sum + s.okFrames, 0),
    violations: streams.reduce((sum, s) => sum + s.violationCount, 0),
    unverifiedStreams: streams.filter((s) => !s.verifiable).length,
  };
}
