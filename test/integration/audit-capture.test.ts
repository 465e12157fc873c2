// `npm run audit -- capture` against a real server and mediasoup worker: the endpoint refuses every
// bad request (bad body, seconds or port out of range, tokens that are not audit tokens for the
// room, expired or foreign ones) with a clear error and creates nothing; a capture cleans up its
// transport when it ends, when the client goes away and when the room closes; at most four run at
// once. Then the real CLI, spawned as an auditor runs it, captures RTP written through the SFU:
// SFrame-sealed VP8 and Opus pass `audit verify` (exit 0), the same media in the clear fails it
// (exit 1, naming packets). The plaintext control injects RTP through a test PlainTransport
// producer, which production code cannot create (browsers' media always goes through the crypto
// worker; see ARCHITECTURE.md).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { STREAM_CONTEXTS, mlsKid } from '@conclave/crypto-worker/sframe';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditTokenAuthority } from '../../server/src/auth/auditTokens.ts';
import { AUDIT_CAPTURE_PATH, type CaptureEvent } from '../../audit/src/captureProtocol.ts';
import type { Room } from '../../server/src/rooms/Room.ts';
import { readIvfFrames, readOggOpusPackets } from '../support/codecFixtures.ts';
import { sealConclaveFrame } from '../support/conclaveFrames.ts';
import {
  OPUS_PAYLOAD_TYPE,
  VP8_PAYLOAD_TYPE,
  createPlainRtpProducer,
  type PlainCodec,
  type PlainRtpProducer,
} from '../support/plainRtpProducer.ts';
import { OpusRtpStream, Vp8RtpStream } from '../support/rtpPackets.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'server/src/cli/audit.ts');
const SECRET = randomBytes(32).toString('base64url');
const ROOM = 'audit-room';

let ts: TestServer;
let auditTokens: AuditTokenAuthority;
let dir: string;
const senders: PlainRtpProducer[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-capture-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeEach(async () => {
  ts = await startTestServer({ CONCLAVE_TOKEN_SECRET: SECRET });
  auditTokens = new AuditTokenAuthority(new Uint8Array(Buffer.from(SECRET, 'base64url')));
});

afterEach(async () => {
  for (const s of senders.splice(0)) s.close();
  await ts.close();
});

const port = () => Number(new URL(ts.url).port);

/** Transports on the room's router: the capture's PlainTransport is one of them while it runs. */
async function transportCount(room: Room): Promise<number> {
  return ((await room.router.dump()) as { transportIds: string[] }).transportIds.length;
}

/** The capture's NDJSON events (audit/src/captureProtocol.ts), once the response has ended. */
async function events(response: Response): Promise<CaptureEvent[]> {
  expect(response.headers.get('content-type')).toBe('application/x-ndjson');
  return (await response.text())
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as CaptureEvent);
}

function post(body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${ts.url}${AUDIT_CAPTURE_PATH}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    ...init,
  });
}

async function plainProducer(room: Room, codec: PlainCodec, ssrc: number): Promise<PlainRtpProducer> {
  const source = codec === 'opus' ? 'mic' : 'camera';
  const sender = await createPlainRtpProducer(room.router, {
    codec,
    ssrcs: [ssrc],
    appData: { source, peerId: 'plain-rtp' },
  });
  senders.push(sender);
  return sender;
}

describe('POST /api/audit/captures', () => {
  it('refuses bad requests and tokens with clear errors, and creates nothing', async () => {
    const room = await ts.server.rooms.getOrCreate(ROOM);
    const before = await transportCount(room);
    const token = await auditTokens.mint(ROOM);
    const good = { token, room: ROOM, port: 9, seconds: 5 };
    const key = new Uint8Array(Buffer.from(SECRET, 'base64url'));
    const expired = await new SignJWT({ room: ROOM })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('conclave')
      .setAudience('conclave:audit')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 120)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(key);
    const longLived = await new SignJWT({ room: ROOM })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('conclave')
      .setAudience('conclave:audit')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key);
    const foreign = await new AuditTokenAuthority(new Uint8Array(32).fill(7)).mint(ROOM);
    const session = await ts.session(ROOM);
    const invite = await ts.server.tokens.mintInvite({ room: ROOM });

    const cases: [unknown, number, string, RegExp][] = [
      [{ ...good, seconds: 0 }, 400, 'bad-request', /^seconds: /],
      [{ ...good, seconds: 301 }, 400, 'bad-request', /^seconds: /],
      [{ ...good, seconds: 2.5 }, 400, 'bad-request', /^seconds: /],
      [{ ...good, port: 0 }, 400, 'bad-request', /^port: /],
      [{ ...good, port: 70000 }, 400, 'bad-request', /^port: /],
      [{ ...good, room: 'Not A Room' }, 400, 'bad-request', /^room: a room id has/],
      [{ ...good, address: '10.0.0.1' }, 400, 'bad-request', /address/],
      [{ room: ROOM, port: 9, seconds: 5 }, 400, 'bad-request', /^token: /],
      [{ ...good, token: 'not-a-token' }, 401, 'token-invalid', /not valid/],
      [{ ...good, token: foreign }, 401, 'token-invalid', /token secret/],
      [{ ...good, token: session }, 401, 'token-invalid', /not an audit token/],
      [{ ...good, token: invite }, 401, 'token-invalid', /not an audit token/],
      [{ ...good, token: expired }, 401, 'token-expired', /expired/],
      [{ ...good, token: longLived }, 401, 'token-invalid', /at most 900 seconds/],
      [{ ...good, room: 'other-room' }, 403, 'wrong-room', /another room/],
      [
        { ...good, room: 'empty-room', token: await auditTokens.mint('empty-room') },
        404,
        'not-found',
        /no meeting is running in room empty-room/,
      ],
    ];
    for (const [body, status, code, message] of cases) {
      const response = await post(body);
      const json = (await response.json()) as { code: string; message: string };
      expect([response.status, json.code], JSON.stringify(body)).toEqual([status, code]);
      expect(json.message).toMatch(message);
      expect(json.message).not.toContain(token);
    }
    const notJson = await fetch(`${ts.url}${AUDIT_CAPTURE_PATH}`, { method: 'POST', body: 'x' });
    expect(notJson.status).toBe(415);
    expect((await fetch(`${ts.url}${AUDIT_CAPTURE_PATH}`)).status).toBe(404);
    // A refused request made nothing, and the room a 404 named was not created by asking.
    expect(await transportCount(room)).toBe(before);
    expect(ts.server.rooms.rooms.has('empty-room')).toBe(false);
  });

  it('closes its transport when the time is up, when the client goes away, and when the room closes', async () => {
    const room = await ts.server.rooms.getOrCreate(ROOM);
    const before = await transportCount(room);

    // Runs to the end: the body is the stream map, with the producer made during the capture.
    const timed = await post({ token: await auditTokens.mint(ROOM), room: ROOM, port: 9, seconds: 1 });
    expect(timed.status).toBe(200);
    expect(await transportCount(room)).toBe(before + 1);
    await plainProducer(room, 'opus', 0x2222);
    expect(await events(timed)).toMatchObject([
      { type: 'stream', stream: { codec: 'audio/opus', kind: 'audio', source: 'mic', layer: 0 } },
      { type: 'end', room: ROOM, seconds: 1, ended: 'time-up', streams: 1 },
    ]);
    // What remains is the plain producer's own transport.
    await waitFor(async () => (await transportCount(room)) === before + 1, 'the timed capture to close');

    // The client disconnects halfway through a long capture.
    const abort = new AbortController();
    const long = await post(
      { token: await auditTokens.mint(ROOM), room: ROOM, port: 9, seconds: 300 },
      { signal: abort.signal },
    );
    expect(long.status).toBe(200);
    expect(await transportCount(room)).toBe(before + 2);
    abort.abort();
    await waitFor(async () => (await transportCount(room)) === before + 1, 'the capture to stop');

    // The room closes under a capture: the response says so.
    const closing = await post({ token: await auditTokens.mint(ROOM), room: ROOM, port: 9, seconds: 300 });
    expect(closing.status).toBe(200);
    room.close('server-shutdown');
    expect((await events(closing)).pop()).toMatchObject({ type: 'end', ended: 'room-closed' });
  });

  it('runs at most four captures at once', async () => {
    await ts.server.rooms.getOrCreate(ROOM);
    const aborts = Array.from({ length: 4 }, () => new AbortController());
    try {
      for (const abort of aborts) {
        const response = await post(
          { token: await auditTokens.mint(ROOM), room: ROOM, port: 9, seconds: 60 },
          { signal: abort.signal },
        );
        expect(response.status).toBe(200);
      }
      const fifth = await post({ token: await auditTokens.mint(ROOM), room: ROOM, port: 9, seconds: 60 });
      expect(fifth.status).toBe(429);
      expect(await fifth.json()).toMatchObject({ code: 'rate-limited' });
    } finally {
      for (const abort of aborts) abort.abort();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as an auditor runs it on the server's host, with the server's environment. */
function startCli(args: string[]): { child: ChildProcess; started: Promise<void>; done: Promise<Run> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      CONCLAVE_PORT: String(port()),
      CONCLAVE_TOKEN_SECRET: SECRET,
      CONCLAVE_DATA_DIR: dir,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  let markStarted: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.includes('capturing room')) markStarted();
  });
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, started: Promise.race([started, done.then(() => {})]), done };
}

function runCli(args: string[]): Promise<Run> {
  return startCli(args).done;
}

/** Sends the fixture's frames, paced like real media, through the given producers until `stop()`. */
async function sendMedia(
  camera: PlainRtpProducer,
  mic: PlainRtpProducer,
  seal: boolean,
  stop: () => boolean,
): Promise<void> {
  const vp8Frames = readIvfFrames();
  const opusPackets = readOggOpusPackets();
  const baseKey = new Uint8Array(16).fill(0x42);
  const cameraKid = mlsKid({ context: STREAM_CONTEXTS.camera, index: 0n, epoch: 3n, indexBits: 1 });
  const audioKid = mlsKid({ context: STREAM_CONTEXTS.mic, index: 0n, epoch: 3n, indexBits: 1 });
  const video = new Vp8RtpStream({ ssrc: 0x1111, payloadType: VP8_PAYLOAD_TYPE, maxPayloadSize: 400 });
  const audio = new OpusRtpStream({ ssrc: 0x2222, payloadType: OPUS_PAYLOAD_TYPE });
  for (let i = 0; !stop(); i++) {
    const ctr = BigInt(i);
    const frame = vp8Frames[i % vp8Frames.length]!;
    const packet = opusPackets[i % opusPackets.length]!;
    const videoFrame = seal ? await sealConclaveFrame('vp8', frame, { baseKey, kid: cameraKid, ctr }) : frame;
    const audioFrame = seal
      ? await sealConclaveFrame('opus', packet, { baseKey, kid: audioKid, ctr })
      : packet;
    await camera.send(video.packetize(videoFrame, 9000 * (i + 1)));
    await mic.send([audio.packetize(audioFrame, 960 * (i + 1))]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Captures ROOM with the CLI while media flows through producers made once the capture runs. */
async function captureWhileSending(file: string, seal: boolean): Promise<Run> {
  const room = await ts.server.rooms.getOrCreate(ROOM);
  const cli = startCli(['capture', '--room', ROOM, '--seconds', '4', '--out', file]);
  let ended = false;
  void cli.done.then(() => (ended = true));
  await cli.started;
  // Producers appearing during a capture are captured too.
  const camera = await plainProducer(room, 'vp8', 0x1111);
  const mic = await plainProducer(room, 'opus', 0x2222);
  // Media flows until the capture is over, however slowly the machine runs.
  await sendMedia(camera, mic, seal, () => ended);
  return cli.done;
}

describe('npm run audit -- capture, then verify', () => {
  it('captures SFrame-sealed VP8 and Opus through the SFU, and verify passes it (exit 0)', async () => {
    const file = path.join(dir, 'sealed.pcap');
    const captured = await captureWhileSending(file, true);
    expect(captured.stderr).toMatch(
      /^capturing room audit-room for 4 s into .*sealed\.pcap \(Ctrl-C stops early\) …\n$/,
    );
    expect(captured.code, captured.stderr).toBe(0);
    expect(captured.stdout).toMatch(
      /^room audit-room: \d+ datagrams \(\d+ bytes\) to UDP 127\.0\.0\.1:\d+ in \d+\.\d s\n/,
    );
    const map = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { codec: string; source: string }[];
    expect(map.map((s) => [s.codec, s.source])).toEqual([
      ['video/VP8', 'camera'],
      ['audio/opus', 'mic'],
    ]);

    const verified = await runCli(['verify', file]);
    expect(verified.stderr).toBe('');
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/vp8 video camera \[from the map\]/);
    expect(verified.stdout).toMatch(/opus audio mic \[from the map\]/);
    const frames = [...verified.stdout.matchAll(/frames (\d+) \(\d+ key\): (\d+) ok, 0 violations/g)];
    expect(frames).toHaveLength(2);
    for (const [, total, ok] of frames) {
      expect(Number(total)).toBeGreaterThan(20);
      expect(ok).toBe(total);
    }
    expect(verified.stdout.trimEnd().split('\n').pop()).toMatch(/^PASS: all \d+ frames in 2 streams/);

    // The file is a standard pcap: the same bytes read back as RTP over UDP from the SFU's port.
    const json = JSON.parse((await runCli(['verify', file, '--json'])).stdout) as {
      datagrams: { rtp: number };
    };
    expect(json.datagrams.rtp).toBeGreaterThan(90);
  });

  it('captures the same media in the clear, and verify fails it (exit 1) naming packets', async () => {
    const file = path.join(dir, 'plain.pcap');
    const captured = await captureWhileSending(file, false);
    expect(captured.code).toBe(0);
    const verified = await runCli(['verify', file]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(
      /#\d+.* \(SSRC 0x[0-9a-f]{8}, seq \d+(-\d+)?, ts \d+\): kid-outside-policy \[looks like plaintext: VP8 key frame 64×48/,
    );
    expect(verified.stdout).toMatch(/#\d+ \(SSRC 0x[0-9a-f]{8}, seq \d+, ts \d+\): ctr-reuse/);
    expect(verified.stdout.trimEnd().split('\n').pop()).toMatch(/^FAIL: \d+ violations in 2 streams$/);
  });

  it('stops early on Ctrl-C: the files hold what arrived, with the map, and the server closes its side', async () => {
    const room = await ts.server.rooms.getOrCreate(ROOM);
    const file = path.join(dir, 'interrupted.pcap');
    const before = await transportCount(room);
    const cli = startCli(['capture', '--room', ROOM, '--seconds', '120', '--out', file]);
    await cli.started;
    const mic = await plainProducer(room, 'opus', 0x2222);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const audio = new OpusRtpStream({ ssrc: 0x2222, payloadType: OPUS_PAYLOAD_TYPE });
    await mic.send(readOggOpusPackets().map((packet, i) => audio.packetize(packet, 960 * (i + 1))));
    await new Promise((resolve) => setTimeout(resolve, 200));
    cli.child.kill('SIGINT');
    const { code, stdout } = await cli.done;
    expect(code).toBe(0);
    expect(stdout).toMatch(/ \(ended early: interrupted\)\n/);
    const map = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { codec: string }[];
    expect(map.map((s) => s.codec)).toEqual(['audio/opus']);
    // Only the plain producer's own transport is left.
    await waitFor(async () => (await transportCount(room)) === before + 1, 'the server to stop the capture');
  });

  it('exits 2 with one line when the server refuses or cannot be reached, or the arguments are wrong', async () => {
    await ts.server.rooms.getOrCreate(ROOM);
    let n = 0;
    const out = () => path.join(dir, `refused-${n++}.pcap`);
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ['capture', '--room', 'nobody-here', '--seconds', '2', '--out', out()],
        {},
        /^audit: the server refused the capture: no meeting is running in room nobody-here \(not-found\)$/,
      ],
      [
        ['capture', '--room', ROOM, '--seconds', '2', '--out', out()],
        { CONCLAVE_TOKEN_SECRET: randomBytes(32).toString('base64url') },
        /^audit: the server refused the capture: this audit token is not valid .*\(token-invalid\)$/,
      ],
      [
        ['capture', '--room', ROOM, '--seconds', '2', '--out', out()],
        { CONCLAVE_PORT: '1' },
        /^audit: cannot reach the server at http:\/\/127\.0\.0\.1:1: ECONNREFUSED$/,
      ],
      [
        ['capture', '--room', ROOM, '--seconds', '2', '--out', path.join(dir, 'no/such/dir.pcap')],
        {},
        /^audit: cannot write .*dir\.pcap: no such directory$/,
      ],
      [
        ['capture', '--room', ROOM, '--seconds', '301', '--out', out()],
        {},
        /^audit: --seconds takes a whole number/,
      ],
      [['capture', '--seconds', '2', '--out', out()], {}, /^audit: --room takes/],
      [['capture', '--room', ROOM, '--seconds', '2'], {}, /^audit: --out <file\.pcap> is required/],
    ];
    // Seven CLI processes at once: each spends most of its time starting Node and tsx.
    const runs = await Promise.all(
      cases.map(async ([args, env]) => {
        const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
          cwd: ROOT,
          env: {
            ...process.env,
            CONCLAVE_PORT: String(port()),
            CONCLAVE_TOKEN_SECRET: SECRET,
            CONCLAVE_DATA_DIR: dir,
            ...env,
          },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const code = await new Promise((resolve) => child.on('close', resolve));
        return { code, stdout, stderr };
      }),
    );
    runs.forEach(({ code, stdout, stderr }, i) => {
      const [args, , message] = cases[i]!;
      expect(code, args.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.split('\n')[0]).toMatch(message);
      expect(stderr).not.toMatch(/^\s+at /m);
    });
  }, 60_000);
});
