// The media load in small (issue #17): a server with load-test plain transports on, two rooms of
// five simulated participants (test/support/media/) sending real SFrame-sealed VP8 simulcast and
// Opus under their rooms' MLS keys over SRTP for 10 s: every participant receives every other
// participant's mic and camera, with under 1 % loss and no errors, and `npm run audit` passes a
// capture of one of the rooms. Before that, the plain-transport requests: refused on a server
// without CONCLAVE_LOAD_PLAIN_TRANSPORTS=1, and with it, bad parameters get clear errors and change
// nothing (the same peer then succeeds).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startMediaRoom, type MediaRoom } from '../support/media/mediaRoom.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'server/src/cli/audit.ts');
const SECRET = randomBytes(32).toString('base64url');
const key = () => randomBytes(28).toString('base64');

let ts: TestServer | undefined;
const rooms: MediaRoom[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-media-load-'));

afterEach(async () => {
  for (const room of rooms.splice(0)) await room.stop();
  await ts?.close();
  ts = undefined;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('load-test plain transports', () => {
  it('are refused unless the server enables them', async () => {
    ts = await startTestServer();
    const { signaling } = await ts.participant('plain-off');
    const ack = await signaling.request('createPlainTransport', { direction: 'send' });
    expect(ack).toEqual({
      ok: false,
      error: { code: 'forbidden', message: expect.stringMatching(/CONCLAVE_LOAD_PLAIN_TRANSPORTS=1/) },
    });
    const room = ts.server.rooms.rooms.get('plain-off')!;
    expect(((await room.router.dump()) as { transportIds: string[] }).transportIds).toEqual([]);
  });

  it('refuse bad parameters with clear errors, and the same peer goes on', async () => {
    ts = await startTestServer({ CONCLAVE_LOAD_PLAIN_TRANSPORTS: '1' });
    const { signaling } = await ts.participant('plain-on');
    const send = await signaling.ok('createPlainTransport', { direction: 'send' });
    expect(send).toMatchObject({ ip: '127.0.0.1', srtpParameters: { cryptoSuite: 'AEAD_AES_128_GCM' } });
    const good = {
      transportId: send.id,
      ip: '127.0.0.1',
      port: 9,
      srtpParameters: { cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: key() },
    };
    const cases: [string, unknown, string, RegExp][] = [
      ['createPlainTransport', { direction: 'send' }, 'invalid-state', /a send transport exists already/],
      ['createPlainTransport', { direction: 'sideways' }, 'bad-request', /direction/],
      ['connectPlainTransport', { ...good, ip: '10.0.0.1' }, 'bad-request', /ip: must be a loopback address/],
      ['connectPlainTransport', { ...good, ip: 'localhost' }, 'bad-request', /ip/],
      ['connectPlainTransport', { ...good, port: 0 }, 'bad-request', /port/],
      ['connectPlainTransport', { ...good, transportId: 'nope' }, 'not-found', /no such transport/],
      [
        'connectPlainTransport',
        { ...good, srtpParameters: { cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: 'c2hvcnQ=' } },
        'bad-request',
        /28 bytes of base64/,
      ],
      [
        'connectPlainTransport',
        { ...good, srtpParameters: { cryptoSuite: 'NULL', keyBase64: key() } },
        'bad-request',
        /cryptoSuite/,
      ],
      [
        'connectTransport',
        {
          transportId: send.id,
          dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB' }] },
        },
        'invalid-state',
        /no DTLS or ICE/,
      ],
    ];
    for (const [method, data, code, message] of cases) {
      const ack = await signaling.request(method as 'connectPlainTransport', data);
      expect(ack.ok, JSON.stringify(data)).toBe(false);
      if (!ack.ok) {
        expect(ack.error.code, JSON.stringify(data)).toBe(code);
        expect(ack.error.message).toMatch(message);
      }
    }
    await signaling.ok('connectPlainTransport', good);
    const again = await signaling.request('connectPlainTransport', good);
    expect(again).toMatchObject({ ok: false, error: { code: 'invalid-state' } });
    await signaling.ok('createPlainTransport', { direction: 'recv' });
  });
});

describe('the media load in small', () => {
  it('2 rooms of 5 for 10 s: every mic and camera received, loss < 1 %, no errors, the audit passes', async () => {
    ts = await startTestServer({ CONCLAVE_LOAD_PLAIN_TRANSPORTS: '1', CONCLAVE_TOKEN_SECRET: SECRET });
    for (let r = 0; r < 2; r++) {
      rooms.push(await startMediaRoom({ serverUrl: ts.url, participants: 5, firstDevice: 1 + 10 * r }));
    }
    await new Promise((resolve) => setTimeout(resolve, 2000)); // first key frames through
    const start = snapshot(rooms);
    const capture = runCli([
      'capture',
      '--room',
      rooms[0]!.room,
      '--seconds',
      '4',
      '--out',
      path.join(dir, 'load.pcap'),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    for (const room of rooms) {
      expect(room.errors).toEqual({});
      for (const p of room.participants) {
        expect(p.sent.sealErrors).toBe(0);
        const others = room.participants.filter((o) => o !== p);
        const streams = p.received();
        for (const other of others) {
          for (const source of ['mic', 'camera']) {
            const stream = streams.find((s) => s.peerId === other.peerId && s.source === source);
            expect(stream, `${p.name} receives ${other.name}'s ${source}`).toBeDefined();
            const before = start.get(`${p.name}/${stream!.ssrc}`) ?? { received: 0, expected: 0 };
            const received = stream!.count.received - before.received;
            const expected = stream!.count.expected - before.expected;
            // 10 s of 50 pps audio (500), or of the top layer (1500 kbit/s: ~150 packets a second);
            // a quarter of that, as a machine busy with other work slows the generator's clock.
            expect(received, `${p.name} ← ${other.name} ${source}`).toBeGreaterThan(
              source === 'mic' ? 125 : 350,
            );
            expect(1 - received / expected).toBeLessThan(0.01);
          }
        }
      }
    }
    const captured = await capture;
    expect(captured.code, captured.stderr).toBe(0);
    const verified = await runCli(['verify', path.join(dir, 'load.pcap')]);
    expect(verified.code, verified.stdout).toBe(0);
    // Five mics and five cameras' three layers, every frame SFrame under the room's keys.
    expect(verified.stdout.trimEnd().split('\n').pop()).toMatch(/^PASS: all \d+ frames in 20 streams/);
  }, 120_000);
});

function snapshot(all: MediaRoom[]): Map<string, { received: number; expected: number }> {
  const counts = new Map<string, { received: number; expected: number }>();
  for (const room of all) {
    for (const p of room.participants)
      for (const s of p.received()) counts.set(`${p.name}/${s.ssrc}`, s.count);
  }
  return counts;
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      CONCLAVE_PORT: new URL(ts!.url).port,
      CONCLAVE_TOKEN_SECRET: SECRET,
      CONCLAVE_DATA_DIR: dir,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
