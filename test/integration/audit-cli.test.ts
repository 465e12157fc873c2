// `npm run audit -- verify` as an auditor runs it: the real CLI in a child process, on pcap files built
// here from SFrame frames sealed by the real library (passes, exit 0, names the KIDs), from plaintext
// VP8 and Opus packets (fails, exit 1, names the packets), and on files that are not captures (exit 2,
// one line, no stack trace).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STREAM_CONTEXTS, mlsKid } from '@conclave/crypto-worker/sframe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePcap, type UdpDatagram } from '../../audit/src/pcap.ts';
import { readIvfFrames, readOggOpusPackets } from '../support/codecFixtures.ts';
import { sealConclaveFrame } from '../support/conclaveFrames.ts';
import { OpusRtpStream, Vp8RtpStream } from '../support/rtpPackets.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'server/src/cli/audit.ts');
const baseKey = new Uint8Array(16).fill(5);
/** Leaf 3 of a group with S = 2, epoch 6. */
const cameraKid = mlsKid({ context: STREAM_CONTEXTS.camera, index: 3n, epoch: 6n, indexBits: 2 });
const audioKid = mlsKid({ context: STREAM_CONTEXTS.mic, index: 3n, epoch: 6n, indexBits: 2 });

let dir: string;
const file = (name: string) => path.join(dir, name);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function audit(args: string[], command = process.execPath): Promise<Run> {
  const argv = command === process.execPath ? ['--import', 'tsx', CLI, ...args] : args;
  return new Promise((resolve) => {
    execFile(
      command,
      argv,
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function datagrams(packets: Uint8Array[]): UdpDatagram[] {
  return packets.map((payload, i) => ({
    timestampMicros: 1_750_000_000_000_000 + 10_000 * i,
    source: { address: '10.0.0.1', port: 40_000 },
    destination: { address: '10.0.0.2', port: 50_000 },
    payload,
  }));
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-audit-'));
  const vp8Frames = readIvfFrames();
  const opusPackets = readOggOpusPackets();

  // (a) What a Conclave sender sends: every frame sealed, camera and microphone, with a map file.
  const camera = new Vp8RtpStream({ ssrc: 0x1111, payloadType: 96, maxPayloadSize: 500 });
  const mic = new OpusRtpStream({ ssrc: 0x2222, payloadType: 111 });
  const sealed: Uint8Array[] = [];
  for (let i = 0; i < 30; i++) {
    const ctr = BigInt(i);
    const frame = await sealConclaveFrame('vp8', vp8Frames[i % 3]!, { baseKey, kid: cameraKid, ctr });
    sealed.push(...camera.packetize(frame, 3000 * i));
    sealed.push(
      mic.packetize(
        await sealConclaveFrame('opus', opusPackets[i % 6]!, { baseKey, kid: audioKid, ctr }),
        960 * i,
      ),
    );
  }
  fs.writeFileSync(file('sealed.pcap'), writePcap(datagrams(sealed)));
  fs.writeFileSync(
    file('sealed.pcap.json'),
    JSON.stringify([
      {
        ssrc: 0x1111,
        payloadType: 96,
        codec: 'video/VP8',
        kind: 'video',
        source: 'camera',
        participant: 'dana',
      },
      {
        ssrc: 0x2222,
        payloadType: 111,
        codec: 'audio/opus',
        kind: 'audio',
        source: 'mic',
        participant: 'dana',
      },
    ]),
  );

  // (b) The same streams sent in the clear: real libvpx and libopus output, packetized by hand.
  const plainCamera = new Vp8RtpStream({ ssrc: 0x3333, payloadType: 96, maxPayloadSize: 500 });
  const plainMic = new OpusRtpStream({ ssrc: 0x4444, payloadType: 111 });
  const plain = [
    ...vp8Frames.flatMap((frame, i) => plainCamera.packetize(frame, 3000 * i)),
    ...Array.from({ length: 30 }, (_, i) => plainMic.packetize(opusPackets[i % 6]!, 960 * i)),
  ];
  fs.writeFileSync(file('plain.pcap'), writePcap(datagrams(plain)));

  // An AV1 stream the audit cannot check, beside sealed Opus.
  const av1 = new Vp8RtpStream({ ssrc: 0x5555, payloadType: 98 }).packetize(new Uint8Array(100).fill(1), 0);
  fs.writeFileSync(file('av1.pcap'), writePcap(datagrams([...sealed.slice(0, 4), ...av1])));

  fs.writeFileSync(file('garbage.pcap'), 'this is not a capture\n'.repeat(10));
  fs.writeFileSync(file('bad-map.json'), '[{"ssrc": 1, "payloadType": 96, "codec": "vp8"}]');
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('npm run audit -- verify', () => {
  it('(a) passes sealed VP8 and Opus (map file found beside the capture), naming streams and KIDs', async () => {
    const { code, stdout, stderr } = await audit(['verify', file('sealed.pcap')]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`streams from ${file('sealed.pcap.json')}`);
    expect(stdout).toMatch(/SSRC 0x00001111 \(4369\): vp8 video camera participant dana \[from the map\]/);
    expect(stdout).toContain(
      `KID ${cameraKid}: 30 frames (10 key), CTR 0-29; epoch ≡ 6 mod 16; camera of leaf 3 (S = 2)`,
    );
    expect(stdout).toContain(
      `KID ${audioKid}: 30 frames (0 key), CTR 0-29; epoch ≡ 6 mod 16; mic of leaf 3 (S ≥ 2)`,
    );
    expect(stdout.trimEnd().split('\n').pop()).toBe(
      'PASS: all 60 frames in 2 streams have an SFrame header behind the allowed clear prefix',
    );
  });

  it('(a) prints a JSON report with --json, and runs as the npm script', async () => {
    const json = await audit(['verify', file('sealed.pcap'), '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      frames: number;
      streams: { ssrc: number; participant: string; kids: { kid: string }[] }[];
    };
    expect(report).toMatchObject({ ok: true, frames: 60 });
    expect(report.streams.map((s) => [s.ssrc, s.participant, s.kids.map((k) => k.kid)])).toEqual([
      [0x1111, 'dana', [String(cameraKid)]],
      [0x2222, 'dana', [String(audioKid)]],
    ]);
    const npm = await audit(
      ['run', '--silent', 'audit', '--', 'verify', file('sealed.pcap'), '--json'],
      'npm',
    );
    expect(npm.code).toBe(0);
    expect(JSON.parse(npm.stdout)).toMatchObject({ ok: true });
  });

  it('(b) fails plaintext VP8 and Opus, naming the packets', async () => {
    const { code, stdout } = await audit(['verify', file('plain.pcap'), '--pt', '96=VP8,111=opus']);
    expect(code).toBe(1);
    // The key frame (1174 bytes) is packets #1-#3 at ≤ 496 bytes each; the delta frames #4 and #5.
    expect(stdout).toContain(
      '#1 #2 #3 (SSRC 0x00003333, seq 1000-1002, ts 0): kid-outside-policy [looks like plaintext: VP8 key frame 64×48, first partition 222 bytes, 1 token partition, q 4]',
    );
    expect(stdout).toMatch(
      /#4 \(SSRC 0x00003333, seq 1003, ts 3000\): kid-outside-policy \[looks like plaintext: VP8 delta frame/,
    );
    expect(stdout).toMatch(
      /#\d+ \(SSRC 0x00004444, seq \d+, ts \d+\): ctr-reuse: CTR \d+ sealed a second frame under KID 7 \(first at #\d+\)/,
    );
    expect(stdout.trimEnd().split('\n').pop()).toMatch(/^FAIL: \d+ violations in 2 streams$/);

    const json = await audit(['verify', file('plain.pcap'), '--pt', '96=VP8,111=opus', '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      streams: { violations: { code: string; packets: number[] }[] }[];
    };
    expect(report.ok).toBe(false);
    expect(report.streams[0]!.violations.map((v) => v.packets)).toEqual([[1, 2, 3], [4], [5]]);
  });

  it('fails a codec it cannot verify unless --allow-unverified', async () => {
    const strict = await audit(['verify', file('av1.pcap'), '--pt', '96=vp8,111=opus,98=av1']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain(
      'UNVERIFIED (1 packet not checked): av1: the audit cannot reassemble this codec',
    );
    const allowed = await audit([
      'verify',
      file('av1.pcap'),
      '--pt',
      '96=vp8,111=opus,98=av1',
      '--allow-unverified',
    ]);
    expect(allowed.code).toBe(0);
  });

  it('(c) exits 2 with one line for a file that is not a capture, and for usage errors', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['verify', file('garbage.pcap'), '--pt', '96=vp8'],
        /^audit: .*garbage\.pcap: not a pcap file \(magic 0x74686973\)$/,
      ],
      [
        ['verify', file('missing.pcap'), '--pt', '96=vp8'],
        /^audit: cannot read capture .*missing\.pcap: no such file$/,
      ],
      [['verify', file('plain.pcap')], /^audit: no stream map: give --map <file\.json> or --pt/],
      [
        ['verify', file('plain.pcap'), '--map', file('bad-map.json')],
        /^audit: .*bad-map\.json: \[0\]\.kind: /,
      ],
      [['verify', file('plain.pcap'), '--pt', '96:vp8'], /^audit: --pt takes/],
      [
        ['verify', file('plain.pcap'), '--pt', '96=vp8', '--suite', '9'],
        /^audit: --suite takes one of 1, 2, 3, 4, 5, not 9$/,
      ],
      [['capture', '--room', 'x'], /^audit: --room takes 3 to 64 lowercase letters/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await audit(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.split('\n')[0]).toMatch(message);
      expect(stderr).not.toMatch(/^\s+at /m);
    }
    const usage = await audit(['verify']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(
      /^audit: verify takes exactly one capture file\nusage: npm run audit -- verify/,
    );
  });
});
