// The auditor's CLI. `npm run audit -- capture --room <room> --seconds <n> --out <file.pcap>` records
// what the SFU forwards in a live room (server/src/cli/auditCapture.ts).
// `npm run audit -- verify <file.pcap> [--map <file.json>] [--pt 96=vp8,111=opus] [--json]`: checks,
// without any key, that every media frame in a capture of what the SFU forwarded is SFrame
// ciphertext in Conclave's layout (server/src/audit/verify.ts), and prints a summary per stream.
//
// Exit status: 0 when every frame passed; 1 when any did not (or a stream could not be verified, or
// there was nothing to verify); 2 for a usage error or a file that cannot be read. Errors are one
// line on stderr, never a stack trace.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { CIPHER_SUITE_IDS, cipherSuite, isCipherSuiteId } from '@conclave/crypto-worker/sframe/suites';
import { PcapFormatError, readPcap, type PcapCapture } from '../audit/pcap.ts';
import {
  StreamMapError,
  parsePayloadTypeMap,
  parseStreamMap,
  type StreamMapEntry,
} from '../audit/streamMap.ts';
import {
  verifyCapture,
  verifyReportToJson,
  type KidReport,
  type StreamReport,
  type StreamViolation,
  type VerifyReport,
} from '../audit/verify.ts';
import { CAPTURE_USAGE, capture } from './auditCapture.ts';
import { UsageError } from './usageError.ts';

const USAGE = `usage: npm run audit -- verify <file.pcap> [--map <file.json>] [--pt <pt>=<codec>,…]
                                   [--suite <1-5>] [--allow-unverified] [--json]

  Checks that every RTP media frame in the capture is
  clear prefix ‖ SFrame header ‖ ciphertext for its codec (VP8, Opus), and prints per stream
  the frames, KIDs, MLS epoch bits, CTR ranges, sequence gaps, duplicates and every violation.

  --map <file.json>    streams by SSRC: [{ssrc, payloadType, codec, kind, source?, participant?}]
                       (default: <file.pcap>.json when it exists)
  --pt 96=vp8,111=opus codecs by payload type, for streams the map does not list
  --suite <n>          RFC 9605 cipher suite of the senders (tag length), default 4
  --allow-unverified   pass streams of codecs the audit cannot check (e.g. AV1), unchecked
  --json               print the report as JSON (KIDs and CTRs as decimal strings)

  Exit status: 0 every frame passed, 1 violations or nothing verified, 2 usage or file error.
  Packet numbers are the capture's record numbers, as Wireshark numbers frames.`;

const MAX_VIOLATIONS_PRINTED = 20;

function fail(message: string, usage = false, command?: string): never {
  console.error(`audit: ${message}`);
  if (usage) console.error(command === 'capture' ? CAPTURE_USAGE : USAGE);
  process.exit(2);
}

function readFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : message;
    throw new UsageError(`cannot read ${what} ${file}: ${reason}`);
  }
}

interface VerifyArgs {
  file: string;
  mapFile: string | undefined;
  pt: string | undefined;
  suite: number;
  allowUnverified: boolean;
  json: boolean;
}

function parseVerifyArgs(args: string[]): VerifyArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        map: { type: 'string' },
        pt: { type: 'string' },
        suite: { type: 'string' },
        'allow-unverified': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message, true);
  }
  const { values, positionals } = parsed;
  const [file] = positionals;
  if (file === undefined || positionals.length !== 1) {
    throw new UsageError('verify takes exactly one capture file', true);
  }
  const suite = values.suite === undefined ? 4 : Number(values.suite);
  if (!isCipherSuiteId(suite)) {
    throw new UsageError(`--suite takes one of ${CIPHER_SUITE_IDS.join(', ')}, not ${values.suite}`);
  }
  return {
    file,
    mapFile: values.map,
    pt: values.pt,
    suite,
    allowUnverified: values['allow-unverified'],
    json: values.json,
  };
}

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
      `missing ${s.sequence.missing}${s.sequence.gaps.length > 0 ? ` in ${s.sequence.gaps.length}${s.sequence.gaps.length === 100 ? '+' : ''} gaps` : ''}, ` +
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

function describeReport(file: string, capture: PcapCapture, mapNote: string, report: VerifyReport): string {
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

function verify(args: string[]): number {
  const options = parseVerifyArgs(args);
  const bytes = readFile(options.file, 'capture');
  let capture: PcapCapture;
  try {
    capture = readPcap(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    if (error instanceof PcapFormatError) throw new UsageError(`${options.file}: ${error.message}`);
    throw error;
  }
  let mapFile = options.mapFile;
  if (mapFile === undefined && fs.existsSync(`${options.file}.json`)) mapFile = `${options.file}.json`;
  if (mapFile === undefined && options.pt === undefined) {
    throw new UsageError(
      `no stream map: give --map <file.json> or --pt 96=vp8,111=opus (no ${options.file}.json)`,
    );
  }
  let streams: StreamMapEntry[] = [];
  let payloadTypes = new Map<number, string>();
  try {
    if (mapFile !== undefined) streams = parseStreamMap(readFile(mapFile, 'stream map').toString('utf8'));
    if (options.pt !== undefined) payloadTypes = parsePayloadTypeMap(options.pt);
  } catch (error) {
    if (error instanceof StreamMapError) {
      throw new UsageError(
        options.pt !== undefined && error.message.startsWith('--pt')
          ? error.message
          : `${mapFile}: ${error.message}`,
      );
    }
    throw error;
  }
  const report = verifyCapture(capture.packets, {
    streams,
    payloadTypes,
    suite: options.suite,
    allowUnverified: options.allowUnverified,
  });
  const mapNote = [
    mapFile === undefined ? undefined : `streams from ${mapFile}`,
    options.pt === undefined ? undefined : `payload types ${options.pt}`,
  ]
    .filter((x) => x !== undefined)
    .join(', ');
  console.log(
    options.json ? verifyReportToJson(report) : describeReport(options.file, capture, mapNote, report),
  );
  return report.ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'verify':
      return verify(rest);
    case 'capture':
      return capture(rest);
    case 'help':
    case '--help':
    case '-h':
      console.log(`${CAPTURE_USAGE}\n\n${USAGE}`);
      return 0;
    case undefined:
      throw new UsageError('no command (capture or verify)', true);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`, true);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) fail(error.message, error.showUsage, process.argv[2]);
  fail(`internal error: ${(error as Error).message}`);
}
