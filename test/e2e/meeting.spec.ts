// Two people meet through the real server and mediasoup worker, as a person would: one creates the
// meeting, the other opens the invite link. Each must see the other's camera, and the decoded
// pixels must be the fixture's known colours; audio bytes must flow both ways.
import { expect, test } from '@playwright/test';
import { QUADRANT_COLOURS, colourDistance } from '../fixtures/media.ts';
import {
  createMeeting,
  inboundBytes,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
  quadrantColours,
  closeParticipantPages,
} from './helpers.ts';

test.afterEach(closeParticipantPages);

/** VP8 at low bitrates shifts colours a little; a wrong or scrambled picture misses by far more. */
const COLOUR_TOLERANCE = 45;

test('two participants see each other’s fixture video and hear audio through the SFU', async ({
  browser,
}) => {
  const alice = await newParticipantPage(browser);
  const bob = await newParticipantPage(browser);

  const link = await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');
  await joinByLink(bob, link, 'Bob');

  for (const [viewer, other] of [
    [alice, 'Bob'],
    [bob, 'Alice'],
  ] as const) {
    await expect(viewer.getByRole('group', { name: other, exact: true })).toBeVisible();
    await expect
      .poll(
        async () => {
          const colours = await quadrantColours(viewer, other);
          if (colours === null) return Infinity;
          return Math.max(...colours.map((c, i) => colourDistance(c, QUADRANT_COLOURS[i]!)));
        },
        {
          message: `${other}'s video as decoded by the other participant matches the fixture`,
          timeout: 30_000,
        },
      )
      .toBeLessThan(COLOUR_TOLERANCE);
  }

  for (const page of [alice, bob]) {
    const before = await inboundBytes(page, 'audio');
    await expect
      .poll(() => inboundBytes(page, 'audio'), { message: 'audio bytes keep arriving' })
      .toBeGreaterThan(before + 1000);
  }

  await bob.getByRole('button', { name: 'Leave' }).click();
  await expect(alice.getByRole('group', { name: 'Bob', exact: true })).toHaveCount(0);
});
