// The verdict on a whole capture: the datagram counts, the per-stream reports, and `ok` with the
// problems that make it false. Also the report as JSON, which `npm run audit -- verify --json`
// prints.
//
// What must hold: `ok` is true only when at least one frame was verified, no frame or packet
// violated the layout, no RTP packet was malformed, and every stream was verifiable (unless the
// auditor passed `allowUnverified`): a capture with nothing checked never passes.
import type { DatagramKind } from './datagramKind.ts';
import type { StreamReport } from './streamReport.ts';

/** What `verifyCapture` found in a capture. */
export interface VerifyReport {
  ok: boolean;
  /** Why `ok` is false, one line each; empty when it is true. */
  problems: string[];
  suite: number;
  allowUnverified: boolean;
  datagrams: { total: number } & Record<DatagramKind, number>;
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

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Why the capture fails, one line each (none when it passes). */
export function captureProblems(
  streams: readonly StreamReport[],
  malformedPackets: number,
  allowUnverified: boolean,
): string[] {
  const frames = streams.reduce((sum, s) => sum + s.frames, 0);
  const violations = streams.reduce((sum, s) => sum + s.violationCount, 0);
  const unverified = streams.filter((s) => !s.verifiable);
  const problems: string[] = [];
  if (violations > 0) {
    const failing = streams.filter((s) => s.violationCount > 0).length;
    problems.push(`${plural(violations, 'violation')} in ${plural(failing, 'stream')}`);
  }
  if (malformedPackets > 0) problems.push(`${plural(malformedPackets, 'malformed RTP packet')}`);
  if (unverified.length > 0 && !allowUnverified) {
    problems.push(
      `${plural(unverified.length, 'unverifiable stream')} (SSRC ${unverified.map((s) => s.ssrc).join(', ')}); --allow-unverified passes them unchecked`,
    );
  }
  if (frames === 0) problems.push('no media frames in the capture: nothing was verified');
  return problems;
}

/**
 * The report as JSON, indented: KIDs, CTRs and epoch bits (bigints) as decimal strings.
 * @param report what `verifyCapture` returned
 * @returns the JSON text that `npm run audit -- verify --json` prints
 */
export function verifyReportToJson(report: VerifyReport): string {
  return JSON.stringify(
    report,
    (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
    2,
  );
}
