// Meetings in each video codec the router offers besides VP8 (server/src/media/mediasoupConfig.ts),
// forced with the link's `codec` fragment parameter (web/src/lib/meeting/videoCodec.ts): two real
// Chromium participants, judged by content (each decodes the other's fixture picture, which only
// works when the crypto worker's SFrame layout for that codec round-trips through the browser's
// packetizer, the SFU and the far browser's depacketizer), and by the codec Chromium's stats name.
// Then the auditor captures the meeting at the SFU (`npm run audit -- capture`) and verifies it
// without a key: every H.264 / VP9 frame Chromium sent passes as SFrame in Conclave's layout.
// (That plaintext in these codecs is flagged is shown with real libx264/libvpx-vp9 frames through
// the real SFU in test/integration/sfu-tap.test.ts.)
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { AUDIT_OUT_DIR, audit } from './auditCli.ts';
import {
  closeParticipantPages,
  createMeeting,
  expectFixtureVideo,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
  videoCodecsInUse,
} from './helpers.ts';

test.afterEach(closeParticipantPages);

for (const { codec, mimeType } of [
  { codec: 'h264', mimeType: 'video/H264' },
  { codec: 'vp9', mimeType: 'video/VP9' },
]) {
  test(`a ${mimeType} meeting: both decrypt each other's picture`, async ({ browser }) => {
    const alice = await newParticipantPage(browser);
    const link = `${await createMeeting(alice)}&codec=${codec}`;
    await alice.goto(link);
    await joinFromPreJoin(alice, 'Alice');
    const bob = await newParticipantPage(browser);
    await joinByLink(bob, link, 'Bob');

    await expectFixtureVideo(bob, 'Alice', 'Bob');
    await expectFixtureVideo(alice, 'Bob', 'Alice');
    for (const page of [alice, bob]) {
      await expect.poll(() => videoCodecsInUse(page, 'outbound')).toEqual([mimeType]);
      await expect.poll(() => videoCodecsInUse(page, 'inbound')).toEqual([mimeType]);
    }

    const room = /\/r\/([a-z0-9-]+)#/.exec(link)![1]!;
    fs.mkdirSync(AUDIT_OUT_DIR, { recursive: true });
    const pcap = path.join(AUDIT_OUT_DIR, `${room}-${codec}.pcap`);
    const captured = await audit(['capture', '--room', room, '--seconds', '3', '--out', pcap]);
    expect(captured.code, captured.stderr).toBe(0);
    const verified = await audit(['verify', pcap, '--json']);
    expect(verified.code, verified.stdout.slice(0, 3000)).toBe(0);
    const report = JSON.parse(verified.stdout) as {
      streams: {
        codec: string;
        participant: string;
        okFrames: number;
        frames: number;
        violationCount: number;
      }[];
    };
    // Chromium sends few frames of the fixture's still picture (libopenh264 skips unchanged frames):
    // what counts is that every one passes.
    for (const participant of ['Alice', 'Bob']) {
      const cameras = report.streams.filter((s) => s.participant === participant && s.codec === codec);
      expect(
        cameras.reduce((n, s) => n + s.okFrames, 0),
        `${participant}'s ${mimeType} frames that passed`,
      ).toBeGreaterThan(2);
    }
    for (const stream of report.streams)
      expect([stream.violationCount, stream.okFrames]).toEqual([0, stream.frames]);
  });
}
