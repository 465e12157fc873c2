// `npm run audit -- capture --room <room> --seconds <n> --out <file.pcap> [--server <url>]`: records
// what the SFU forwards in a live room, as a pcap of RTP over UDP (Wireshark and tshark open it),
// and writes the stream map beside it (<file.pcap>.json) for `npm run audit -- verify`.
//
// It runs on the server's host with the server's environment, as `npm run invite`: a CaptureAccess
// (the server's, server/src/cli/auditCaptureAccess.ts) signs a 60-second audit token for the room
// with the server's token secret and says where the server listens. This command opens a UDP
// socket on 127.0.0.1 and asks the server (POST /api/audit/captures, server/src/http/auditCapture.ts)
// to send the room's RTP there. It never sees a key: there is none on the server to give.
//
// What must hold: the audit imports nothing of the server; what it needs of the server's
// environment comes in through CaptureAccess. The map written reads back with the verifier's schema.
import dgram from 'node:dgram';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MAX_CAPTURE_SECONDS, type CapturedStream } from '../captureProtocol.ts';
import { PcapWriter } from '../pcap.ts';
import { parseStreamMap } from '../streamMap.ts';
import { requestCapture, type CaptureOutcome } from './captureRequest.ts';
import { UsageError } from './usageError.ts';

/** Where the server listens and a token it accepts: what only the server's environment can give. */
export interface CaptureGrant {
  /** The server's origin, e.g. http://127.0.0.1:3000. */
  origin: string;
  /** An audit token for the room (never printed). */
  token: string;
  /** The certificate to trust for a self-signed server, if any. */
  ca: string | undefined;
}

/** The server's side of `capture`: how it names rooms, and how it grants a capture of one. */
export interface CaptureAccess {
  /** Room ids the server accepts; `--room` is checked against it before anything else is done. */
  readonly roomIdPattern: RegExp;
  /**
   * Reads the server's environment and grants a capture of `room`.
   * @param room a room id that matches `roomIdPattern`
   * @param server the `--server` origin, when given: used instead of the configured one
   * @throws UsageError when the server's environment configures no usable server
   */
  grant(room: string, server: string | undefined): Promise<CaptureGrant>;
}

/** The usage text of `npm run audit -- capture`. */
export const CAPTURE_USAGE = `usage: npm run audit -- capture --room <room> --seconds <1-${MAX_CAPTURE_SECONDS}> --out <file.pcap>
                                    [--server <url>]

  Records what the SFU forwards in a live room for the given seconds: every producer's RTP
  (every simulcast layer), as a pcap of UDP datagrams, and the stream map <file.pcap>.json
  (SSRC, payload type, codec, kind, source, participant). Run it on the server's host with the
  server's environment (CONCLAVE_DATA_DIR or CONCLAVE_TOKEN_SECRET, CONCLAVE_PORT), like
  npm run invite. Then: npm run audit -- verify <file.pcap>

  --server <url>   the server's origin (default: from CONCLAVE_HOST, CONCLAVE_PORT, CONCLAVE_TLS)

  Exit status: 0 capture written, 1 written but no RTP arrived, 2 usage, server or file error.`;

/** Datagrams still in flight when the server's response arrives get this long to land. */
const DRAIN_MS = 300;

interface CaptureArgs {
  room: string;
  seconds: number;
  out: string;
  server: string | undefined;
}

function parseCaptureArgs(args: string[], roomIdPattern: RegExp): CaptureArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        room: { type: 'string' },
        seconds: { type: 'string' },
        out: { type: 'string' },
        server: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError('bad-command-line', (error as Error).message, true);
  }
  if (values.room === undefined || !roomIdPattern.test(values.room)) {
    throw new UsageError(
      'bad-command-line',
      '--room takes 3 to 64 lowercase letters, digits and dashes',
      true,
    );
  }
  const seconds = Number(values.seconds);
  if (
    values.seconds === undefined ||
    !Number.isInteger(seconds) ||
    seconds < 1 ||
    seconds > MAX_CAPTURE_SECONDS
  ) {
    throw new UsageError(
      'bad-command-line',
      `--seconds takes a whole number from 1 to ${MAX_CAPTURE_SECONDS}`,
      true,
    );
  }
  if (values.out === undefined || values.out === '')
    throw new UsageError('bad-command-line', '--out <file.pcap> is required', true);
  if (values.server !== undefined && !/^https?:\/\/[^/]+\/?$/.test(values.server)) {
    throw new UsageError('bad-command-line', '--server takes an origin such as http://localhost:3000');
  }
  return { room: values.room, seconds, out: values.out, server: values.server?.replace(/\/$/, '') };
}

function microsNow(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** Opens `file` for writing now, so a bad path fails before the server is asked for anything. */
function openOutput(file: string): number {
  try {
    return fs.openSync(file, 'w');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const reason = code === 'ENOENT' ? 'no such directory' : code === 'EISDIR' ? 'is a directory' : message;
    throw new UsageError('unwritable-file', `cannot write ${file}: ${reason}`);
  }
}

/** The stream map file's entries: the verifier's schema, plus ids that help read it. */
function mapEntries(streams: CapturedStream[]): object[] {
  return streams.map(
    ({ ssrc, payloadType, codec, kind, source, participant, peerId, producerId, layer }) => ({
      ssrc,
      payloadType,
      codec,
      kind,
      ...(source === undefined ? {} : { source }),
      ...(participant === undefined ? {} : { participant }),
      ...(peerId === undefined ? {} : { peerId }),
      producerId,
      layer,
    }),
  );
}

/**
 * Runs `capture` with its arguments: records the room into `--out` and its map beside it.
 * @param args the command line after `capture`
 * @param access the server's side: room ids and the grant (origin, audit token, CA)
 * @returns the exit status: 0 capture written, 1 written but no RTP arrived
 * @throws UsageError for a bad command line, an unwritable file, or a server that refuses, cannot
 *   be reached or breaks the connection off
 */
export async function capture(args: string[], access: CaptureAccess): Promise<number> {
  const options = parseCaptureArgs(args, access.roomIdPattern);
  const { origin, token, ca } = await access.grant(options.room, options.server);

  const fd = openOutput(options.out);
  const writer = new PcapWriter();
  fs.writeSync(fd, writer.fileHeader);
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const local = socket.address();
  let packets = 0;
  let bytes = 0;
  socket.on('message', (payload, from) => {
    packets++;
    bytes += payload.length;
    fs.writeSync(
      fd,
      writer.record({
        timestampMicros: microsNow(),
        source: { address: from.address, port: from.port },
        destination: { address: local.address, port: local.port },
        payload,
      }),
    );
  });

  let startedAt = performance.now();
  const { done, interrupt } = requestCapture(
    origin,
    { token, room: options.room, port: local.port, seconds: options.seconds },
    ca,
    () => {
      startedAt = performance.now();
      console.error(
        `capturing room ${options.room} for ${options.seconds} s into ${options.out} (Ctrl-C stops early) …`,
      );
    },
  );
  process.once('SIGINT', interrupt);
  let outcome: CaptureOutcome;
  try {
    outcome = await done;
    await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
  } finally {
    process.off('SIGINT', interrupt);
    socket.close();
    fs.closeSync(fd);
  }
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);

  const mapFile = `${options.out}.json`;
  const entries = mapEntries(outcome.streams);
  // The map must read back as the verifier will read it.
  parseStreamMap(JSON.stringify(entries));
  fs.writeFileSync(mapFile, `${JSON.stringify(entries, null, 2)}\n`);

  const lines = [
    `room ${options.room}: ${packets} datagrams (${bytes} bytes) to UDP ${local.address}:${local.port} in ${seconds} s` +
      (outcome.ended === 'time-up' ? '' : ` (ended early: ${outcome.ended})`),
    `  ${options.out}`,
    `  ${mapFile}: ${outcome.streams.length} RTP stream${outcome.streams.length === 1 ? '' : 's'}`,
    ...outcome.streams.map(
      (s) =>
        `    SSRC ${s.ssrc} pt ${s.payloadType} ${s.codec} ${s.source ?? s.kind}` +
        `${s.participant === undefined ? '' : ` of ${s.participant}`}${s.kind === 'video' ? ` layer ${s.layer}` : ''}`,
    ),
    `next: npm run audit -- verify ${options.out}`,
  ];
  console.log(lines.join('\n'));
  if (outcome.ended === 'broken') {
    throw new UsageError(
      'capture-broken',
      'the connection to the server broke off; the files hold what arrived before',
    );
  }
  if (packets === 0) {
    console.error('audit: no RTP arrived: was anyone sending in that room?');
    return 1;
  }
  return 0;
}
