// Meetings in each video codec the router offers besides VP8 (server/src/media/mediasoupConfig.ts),
// forced with the link's `codec` fragment parameter (web/src/lib/meeting/videoCodec.ts): two real
// Chromium participants, judged by content (each decodes the other's fixture picture, which only
// works when the crypto worker's SFrame layout for that codec round-trips through the browser's
// packetizer, the SFU and the far browser's depacketizer), and by the codec Chromium's stats name.
import { expect, test } from '@playwright/test';
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
  });
}
