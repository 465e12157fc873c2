// `npm run audit -- verify <file.pcap> [--map <file.json>] [--pt 96=vp8,111=opus] [--json]`: checks,
// without any key, that every media frame in a capture of what the SFU forwarded is SFrame
// ciphertext in Conclave's layout (../verify.ts), and prints a summary per stream
// (describeReport.ts) or the report as JSON.
//
// What must hold: exit status 0 only when every frame passed; 1 when any did not (or a stream could
// not be verified, or there was nothing to verify); a bad command line or a file that cannot be
// read is a UsageError (exit status 2), never a stack trace.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { CIPHER_SUITE_IDS, isCipherSuiteId } from '@conclave/crypto-worker/sframe/wire';
import { PcapFormatError, readPcap, type PcapCapture } from '../pcap.ts';
import { StreamMapError, parsePayloadTypeMap, parseStreamMap, type StreamMapEntry } from '../streamMap.ts';
import { verifyCapture } from '../verify.ts';
import { verifyReportToJson } from '../verifyReport.ts';
import { describeReport } from './describeReport.ts';
import { UsageError } from './usageError.ts';

/** The usage text of `npm run audit -- verify`. */
export const VERIFY_USAGE = `usage: npm run audit -- verify <file.pcap> [--map <file.json>] [--pt <pt>=<codec>,…]
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

function readFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : message;
    throw new UsageError('unreadable-file', `cannot read ${what} ${file}: ${reason}`);
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
    throw new UsageError('bad-command-line', (error as Error).message, true);
  }
  const { values, positionals } = parsed;
  const [file] = positionals;
  if (file === undefined || positionals.length !== 1) {
    throw new UsageError('bad-command-line', 'verify takes exactly one capture file', true);
  }
  const suite = values.suite === undefined ? 4 : Number(values.suite);
  if (!isCipherSuiteId(suite)) {
    throw new UsageError(
      'bad-command-line',
      `--suite takes one of ${CIPHER_SUITE_IDS.join(', ')}, not ${values.suite}`,
    );
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

function readCapture(file: string): PcapCapture {
  const bytes = readFile(file, 'capture');
  try {
    return readPcap(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    if (error instanceof PcapFormatError)
      throw new UsageError('bad-capture-file', `${file}: ${error.message}`);
    throw error;
  }
}

/** The stream map file: the one given, else the capture's `<file.pcap>.json` when it exists. */
function findMapFile(options: VerifyArgs): string | undefined {
  if (options.mapFile !== undefined) return options.mapFile;
  if (fs.existsSync(`${options.file}.json`)) return `${options.file}.json`;
  if (options.pt === undefined) {
    throw new UsageError(
      'no-stream-map',
      `no stream map: give --map <file.json> or --pt 96=vp8,111=opus (no ${options.file}.json)`,
    );
  }
  return undefined;
}

function readStreamMaps(
  mapFile: string | undefined,
  pt: string | undefined,
): { streams: StreamMapEntry[]; payloadTypes: Map<number, string> } {
  try {
    return {
      streams: mapFile === undefined ? [] : parseStreamMap(readFile(mapFile, 'stream map').toString('utf8')),
      payloadTypes: pt === undefined ? new Map() : parsePayloadTypeMap(pt),
    };
  } catch (error) {
    if (!(error instanceof StreamMapError)) throw error;
    const fromPt = error.code === 'pt-malformed' || error.code === 'pt-repeated';
    throw new UsageError('bad-stream-map', fromPt ? error.message : `${mapFile}: ${error.message}`);
  }
}

/** Runs `verify` with its arguments; returns the exit status (0 passed, 1 failed). */
export function verify(args: string[]): number {
  const options = parseVerifyArgs(args);
  const capture = readCapture(options.file);
  const mapFile = findMapFile(options);
  const { streams, payloadTypes } = readStreamMaps(mapFile, options.pt);
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
