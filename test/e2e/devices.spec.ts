// Switching camera, microphone and speaker during a call, from the meeting's Devices dialog, without
// rejoining. Chromium offers one fake camera fed from a file (the quadrant fixture), so the page is
// given a second one: a canvas with four other colours, listed by enumerateDevices and returned by
// getUserMedia for its device id. (Chromium's own second fake camera, device-count=2, captures in
// 16-bit grey, which its WebRTC encoder never sends: it cannot show a switch.) Everything after
// getUserMedia is the real path: replaceTrack on the producer, the SFrame transform, the SFU, the
// other person's decryption. The fake microphones all play the fixture's 440 Hz tone.
import { expect, test, type Page } from '@playwright/test';
import { colourDistance, type Rgb } from '../fixtures/media.ts';
import {
  chooseMoreOption,
  COLOUR_TOLERANCE,
  closeParticipantPages,
  createMeeting,
  dominantFrequency,
  expectFixtureVideo,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
  quadrantColours,
} from './helpers.ts';

const PATTERN_CAMERA = { deviceId: 'test-pattern-camera', label: 'Test pattern camera' };
/** The second camera's quadrants, in reading order; far from the fixture's. */
const PATTERN_COLOURS: readonly Rgb[] = [
  [240, 40, 240],
  [40, 230, 230],
  [240, 220, 40],
  [20, 20, 20],
];

/** In the page, before its scripts: a second camera that draws PATTERN_COLOURS on a canvas. */
function addPatternCamera({ camera, colours }: { camera: typeof PATTERN_CAMERA; colours: Rgb[] }): void {
  const devices = navigator.mediaDevices;
  const enumerate = devices.enumerateDevices.bind(devices);
  const getUserMedia = devices.getUserMedia.bind(devices);
  devices.enumerateDevices = async () => [
    ...(await enumerate()),
    {
      deviceId: camera.deviceId,
      groupId: 'test',
      kind: 'videoinput',
      label: camera.label,
      toJSON: () => ({}),
    },
  ];
  devices.getUserMedia = async (constraints) => {
    const video = constraints?.video;
    const wanted =
      typeof video === 'object' ? (video.deviceId as { exact?: string } | undefined)?.exact : undefined;
    if (wanted !== camera.deviceId) return getUserMedia(constraints);
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 480;
    const ctx = canvas.getContext('2d')!;
    const paint = () => {
      colours.forEach(([r, g, b], i) => {
        ctx.fillStyle = `rgb(${r} ${g} ${b})`;
        ctx.fillRect((i % 2) * 320, Math.floor(i / 2) * 240, 320, 240);
      });
    };
    paint();
    // A canvas stream sends a frame only when the canvas is drawn on.
    setInterval(paint, 50);
    return canvas.captureStream(20);
  };
}

test.afterEach(closeParticipantPages);

/** Waits until `viewer` decodes `tileName`'s camera as the pattern camera's four colours. */
async function expectPatternVideo(viewer: Page, tileName: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const colours = await quadrantColours(viewer, tileName);
        if (colours === null) return Infinity;
        return Math.max(...colours.map((c, i) => colourDistance(c, PATTERN_COLOURS[i]!)));
      },
      { message: `${tileName}'s camera as decoded shows the pattern camera`, timeout: 30_000 },
    )
    .toBeLessThan(COLOUR_TOLERANCE);
}

/**
 * In the page: the RTCRtpSender sending `kind` now, its track's label, and whether it is the one
 * remembered by the first call (the same sender, not a new one) and still has its SFrame transform.
 */
async function senderOf(page: Page, kind: 'audio' | 'video') {
  return page.evaluate((k) => {
    const w = window as unknown as {
      __pcs: RTCPeerConnection[];
      __senders?: Partial<Record<string, RTCRtpSender>>;
    };
    const sender = w.__pcs
      .flatMap((pc) => (pc.connectionState === 'closed' ? [] : pc.getSenders()))
      .find((s) => s.track?.kind === k);
    if (sender === undefined) return null;
    w.__senders ??= {};
    w.__senders[k] ??= sender;
    return {
      label: sender.track!.label,
      sameSender: w.__senders[k] === sender,
      encrypting: sender.transform !== null && sender.transform !== undefined,
    };
  }, kind);
}

async function openDevices(page: Page) {
  await chooseMoreOption(page, 'Devices');
  const dialog = page.getByRole('dialog', { name: 'Devices' });
  await expect(dialog).toBeVisible();
  return dialog;
}

test('camera, microphone and speaker switch during a call, and what is sent stays encrypted', async ({
  browser,
}) => {
  const alice = await newParticipantPage(browser, {
    setup: async (page) => {
      await page.addInitScript(addPatternCamera, {
        camera: PATTERN_CAMERA,
        colours: PATTERN_COLOURS as Rgb[],
      });
    },
  });
  const bob = await newParticipantPage(browser);
  const link = await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');
  await joinByLink(bob, link, 'Bob');
  // She joined with the first camera, the fixture.
  await expectFixtureVideo(bob, 'Alice', 'Bob');
  expect(await senderOf(alice, 'video')).toMatchObject({ sameSender: true, encrypting: true });
  expect((await senderOf(alice, 'video'))?.label).toMatch(/quadrants\.y4m$/);
  expect(await senderOf(alice, 'audio')).toMatchObject({ sameSender: true, encrypting: true });

  // Camera: the other camera's picture reaches Bob, decrypted, through the same encrypting sender.
  const devices = await openDevices(alice);
  await devices.getByLabel('Camera', { exact: true }).selectOption({ label: PATTERN_CAMERA.label });
  await expect(devices).toHaveAttribute('aria-busy', 'false');
  await expectPatternVideo(bob, 'Alice');
  expect(await senderOf(alice, 'video')).toMatchObject({ sameSender: true, encrypting: true });
  expect((await senderOf(alice, 'video'))?.label).not.toMatch(/quadrants\.y4m$/);
  await expect(bob.getByRole('group', { name: 'Alice', exact: true }).getByText('Decrypting')).toBeVisible();

  // And back: the fixture again, on the same sender.
  await devices.getByLabel('Camera', { exact: true }).selectOption({ index: 0 });
  await expectFixtureVideo(bob, 'Alice', 'Bob');
  expect(await senderOf(alice, 'video')).toMatchObject({ sameSender: true, encrypting: true });

  // Microphone: another input, same sender and transform; Bob still hears the tone.
  await devices.getByLabel('Microphone', { exact: true }).selectOption({ label: 'Fake Audio Input 2' });
  await expect.poll(async () => (await senderOf(alice, 'audio'))?.label).toBe('Fake Audio Input 2');
  expect(await senderOf(alice, 'audio')).toMatchObject({ sameSender: true, encrypting: true });
  await expect
    .poll(() => dominantFrequency(bob, 'Alice'), { message: 'Bob hears the 440 Hz tone', timeout: 20_000 })
    .toBeGreaterThan(420);
  expect(await dominantFrequency(bob, 'Alice')).toBeLessThan(460);
  await devices.getByRole('button', { name: 'Close' }).click();

  // Speaker: Bob chooses an output; the element playing Alice's sound plays there.
  const bobDevices = await openDevices(bob);
  await bobDevices.getByLabel('Speaker', { exact: true }).selectOption({ label: 'Fake Audio Output 1' });
  const wanted = await bob.evaluate(async () => {
    const outputs = await navigator.mediaDevices.enumerateDevices();
    return outputs.find((d) => d.kind === 'audiooutput' && d.label === 'Fake Audio Output 1')?.deviceId;
  });
  expect(wanted).toBeTruthy();
  await expect
    .poll(() =>
      bob
        .getByRole('group', { name: 'Alice', exact: true })
        .locator('audio')
        .evaluate((a: HTMLAudioElement) => a.sinkId),
    )
    .toBe(wanted);
});
