// The auditor's walkthrough on a real meeting: two Chromium participants meet on the e2e server
// (its own process, as an operator runs it), the auditor runs `npm run audit -- capture` on the
// server's host with the server's environment, then `npm run audit -- verify` on the pcap it wrote.
// Every stream of the meeting, both microphones and every simulcast layer of both cameras, is in
// the capture, and every frame in it passes as SFrame ciphertext (exit 0). The participants still
// see each other's fixture picture after the capture: auditing changes nothing they receive.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { AUDIT_OUT_DIR as OUT_DIR, audit } from './auditCli.ts';
import {
  closeParticipantPages,
  createMeeting,
  expectFixtureVideo,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
} from './helpers.ts';

test.afterEach(closeParticipantPages);

interface StreamReport {
  ssrc: number;
  codec: string;
  source: string;
  participant: string;
  packets: number;
  frames: number;
  okFrames: number;
  violationCount: number;
  kids: { kid: string }[];
}

test('an auditor captures a live meeting at the SFU and verifies every frame is SFrame ciphertext', async ({
  browser,
}) => {
  const alice = await newParticipantPage(browser);
  const bob = await newParticipantPage(browser);
  const inviteLink = await createMeeting(alice);
  const room = /\/r\/([a-z0-9-]+)#/.exec(inviteLink)![1]!;
  await joinFromPreJoin(alice, 'Alice');
  await joinByLink(bob, inviteLink, 'Bob');
  await expectFixtureVideo(bob, 'Alice', 'Bob');
  await expectFixtureVideo(alice, 'Bob', 'Alice');

  fs.mkdirSync(OUT_DIR, { recursive: true });
  const pcap = path.join(OUT_DIR, `${room}.pcap`);
  const captured = await audit(['capture', '--room', room, '--seconds', '6', '--out', pcap]);
  expect(captured.stderr).toContain(`capturing room ${room} for 6 s`);
  expect(captured.code, captured.stderr).toBe(0);

  const map = JSON.parse(fs.readFileSync(`${pcap}.json`, 'utf8')) as {
    codec: string;
    source: string;
    participant: string;
  }[];
  const producers = new Set(map.map((s) => `${s.participant} ${s.source} ${s.codec}`));
  expect([...producers].sort()).toEqual([
    'Alice camera video/VP8',
    'Alice mic audio/opus',
    'Bob camera video/VP8',
    'Bob mic audio/opus',
  ]);

  const verified = await audit(['verify', pcap, '--json']);
  expect(verified.stderr).toBe('');
  expect(verified.code, verified.stdout.slice(0, 2000)).toBe(0);
  const report = JSON.parse(verified.stdout) as { ok: boolean; frames: number; streams: StreamReport[] };
  expect(report.ok).toBe(true);
  // Every microphone and camera sent frames during the capture, and each of them passed.
  for (const participant of ['Alice', 'Bob']) {
    for (const source of ['mic', 'camera']) {
      const streams = report.streams.filter((s) => s.participant === participant && s.source === source);
      const frames = streams.reduce((n, s) => n + s.okFrames, 0);
      expect(frames, `${participant}'s ${source} frames that passed`).toBeGreaterThan(
        source === 'mic' ? 100 : 30,
      );
    }
  }
  for (const stream of report.streams) {
    expect(stream.violationCount, `SSRC ${stream.ssrc}`).toBe(0);
    expect(stream.okFrames, `SSRC ${stream.ssrc}`).toBe(stream.frames);
    if (stream.frames > 0) expect(stream.kids.length, `SSRC ${stream.ssrc} KIDs`).toBeGreaterThan(0);
  }
  const text = await audit(['verify', pcap]);
  expect(text.code).toBe(0);
  expect(text.stdout.trimEnd().split('\n').pop()).toMatch(/^PASS: all \d+ frames in \d+ streams/);

  // The participants go on seeing each other: the capture took nothing from them.
  await expectFixtureVideo(bob, 'Alice', 'Bob');
  await expectFixtureVideo(alice, 'Bob', 'Alice');
});
