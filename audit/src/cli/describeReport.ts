// The verify report as the auditor reads it in a terminal: one summary line for the capture, per
// stream its codec, packets, gaps, frames, KIDs (with their MLS readings) and the first violations,
// then PASS or FAIL with the problems. `--json` prints verifyReportToJson instead.
//
// What must hold: every violation is counted in the text even when only the first ones are listed,
// and the last line starts with PASS only when the report is ok.
import { cipherSuite } from '@conclave/crypto-worker/sframe/wire';
import { MAX_GAPS_LISTED } from '../packetLedger.ts';
import type { PcapCapture } from '../pcap.ts';
import type { KidReport, StreamReport, StreamViolation } from '../streamReport.ts';
import type { VerifyReport } from '../verifyReport.ts';

/** Violations listed per stream (and malformed packets per capture); the rest are counted. */
const MAX_VIOLATIONS_PRINTED = 20;

function hexSsrc(ssrc: number): string {
  return `0x${ssrc.toString(16).padStart(8, '0')}`;
}

function packetList(numbers: number[]): string {
  if (numbers.length === 0) return '(no packet)';
  if (numbers.length <= 4) return numbers.map((n) => `#${n}`).join(' ');
  return `#${numbers[0]}…#${numbers[numbers.length - 1]} (${numbers.length} packets)`;
}

function describeKid(kid: KidReport): string {
  const readings = kid.mls
    .map((r) => {
      const s = r.indexBits.min === r.indexBits.max ? `S = ${r.indexBits.min}` : `S ≥ ${r.indexBits.min}`;
      return `${r.stream} of leaf ${r.index} (${s})`;
    })
    .join(' or ');
  const ctr = kid.ctr.min === kid.ctr.max ? `CTR ${kid.ctr.min}` : `CTR ${kid.ctr.min}-${kid.ctr.max}`;
  const extra = [
    kid.outOfOrder > 0 ? `${kid.outOfOrder} out of order` : '',
    kid.reusedCtrs > 0 ? `${kid.reusedCtrs} reused` : '',
  ].filter((s) => s !== '');
  return (
    `    KID ${kid.kid}: ${kid.frames} frame${kid.frames === 1 ? '' : 's'} (${kid.keyframes} key), ${ctr}` +
    `${extra.length > 0 ? ` (${extra.join(', ')})` : ''}; epoch ≡ ${kid.epochLowBits} mod 16` +
    (readings === '' ? '' : `; ${readings}`)
  );
}

function describeViolation(ssrc: number, v: StreamViolation): string {
  const [first, last] = v.sequenceNumbers;
  const seq = first === last ? `seq ${first}` : `seq ${first}-${last}`;
  const plaintext = v.plaintext === undefined ? '' : ` [looks like plaintext: ${v.plaintext}]`;
  return `    ${packetList(v.packets)} (SSRC ${hexSsrc(ssrc)}, ${seq}, ts ${v.timestamp}): ${v.code}${plaintext}: ${v.message}`;
}

function describeStream(s: StreamReport): string[] {
  const who = [
    s.codec ?? 'unknown codec',
    s.kind,
    s.source,
    s.participant === undefined ? undefined : `participant ${s.participant}`,
  ]
    .filter((x) => x !== undefined)
    .join(' ');
  const mapped =
    s.mappedBy === 'map'
      ? 'from the map'
      : s.mappedBy === 'payload-type'
        ? 'by payload type'
        : 'no codec known';
  const lines = [
    `SSRC ${hexSsrc(s.ssrc)} (${s.ssrc}): ${who} [${mapped}], payload type ${s.payloadTypes.join(', ')}`,
    `    packets ${s.packets} (#${s.firstPacket}-#${s.lastPacket}), sequence ${s.sequence.first}-${s.sequence.last}, ` +
      `missing ${s.sequence.missing}${s.sequence.gaps.length > 0 ? ` in ${s.sequence.gaps.length}${s.sequence.gaps.length === MAX_GAPS_LISTED ? '+' : ''} gaps` : ''}, ` +
      `duplicates ${s.duplicatePackets}, padding ${s.paddingPackets}` +
      (s.packetsInIncompleteFrames > 0 ? `, ${s.packetsInIncompleteFrames} in incomplete frames` : ''),
  ];
  if (!s.verifiable) {
    const packets = `${s.uncheckedPackets} packet${s.uncheckedPackets === 1 ? '' : 's'}`;
    lines.push(`    UNVERIFIED (${packets} not checked): ${s.unverifiedReason}`);
  }
  if (s.frames > 0 || s.verifiable) {
    lines.push(
      `    frames ${s.frames} (${s.keyframes} key): ${s.okFrames} ok, ${s.violationCount} violation${s.violationCount === 1 ? '' : 's'}` +
        (s.epochLowBits.length > 0 ? `; epoch low bits ${s.epochLowBits.join(', ')}` : ''),
    );
  }
  for (const gap of s.sequence.gaps.slice(0, 5))
    lines.push(`    gap: ${gap.count} missing, seq ${gap.from}-${gap.to}`);
  for (const kid of s.kids) lines.push(describeKid(kid));
  for (const v of s.violations.slice(0, MAX_VIOLATIONS_PRINTED)) lines.push(describeViolation(s.ssrc, v));
  if (s.violationCount > MAX_VIOLATIONS_PRINTED) {
    const more = s.violationCount - MAX_VIOLATIONS_PRINTED;
    lines.push(`    … and ${more} more violation${more === 1 ? '' : 's'} (--json lists them)`);
  }
  return lines;
}

/** The report as text: `file` and `mapNote` say what was read. */
export function describeReport(
  file: string,
  capture: PcapCapture,
  mapNote: string,
  report: VerifyReport,
): string {
  const { datagrams: d } = report;
  const skipped = Object.entries(capture.skipped).map(([reason, n]) => `${n} ${reason}`);
  const lines = [
    `${file}: ${capture.records} records, ${d.total} UDP datagrams (${d.rtp} RTP, ${d.rtcp} RTCP, ` +
      `${d.stun + d.dtls + d.other} other), ${report.streams.length} RTP stream${report.streams.length === 1 ? '' : 's'}; ` +
      `suite ${report.suite} (${cipherSuite(report.suite).name}); ${mapNote}`,
  ];
  if (skipped.length > 0) lines.push(`records skipped (not UDP over IP): ${skipped.join(', ')}`);
  for (const m of report.malformed.slice(0, MAX_VIOLATIONS_PRINTED))
    lines.push(`malformed RTP #${m.packet}: ${m.message}`);
  if (report.absentMappedStreams.length > 0) {
    lines.push(`mapped streams with no packets: SSRC ${report.absentMappedStreams.map(hexSsrc).join(', ')}`);
  }
  for (const stream of report.streams) lines.push('', ...describeStream(stream));
  lines.push('');
  if (report.ok) {
    const streams = report.streams.filter((s) => s.frames > 0).length;
    lines.push(
      `PASS: all ${report.frames} frames in ${streams} stream${streams === 1 ? '' : 's'} have an SFrame header behind the allowed clear prefix` +
        (report.unverifiedStreams > 0 ? `; ${report.unverifiedStreams} unverified stream(s) allowed` : ''),
    );
  } else {
    lines.push(`FAIL: ${report.problems.join('; ')}`);
  }
  return lines.join('\n');
}
