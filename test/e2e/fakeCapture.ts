// Chromium's fake screen capture, and reading a picture's signature back in the page.
//
// Under --use-fake-ui-for-media-stream and --use-fake-device-for-media-stream, getDisplayMedia
// yields Chromium's fake display capture (label "screen:-3:0", 1280x720): a dark green field
// (0, 135, 0) with a frame counter in the top left, a light green pie turning in the centre, and an
// 80x80 square of a different green in each corner. The pie and the counter move; the field and the
// corners stay, so those are where pictures are compared.
import { colourDistance, type Rgb } from '../fixtures/media.ts';
import { drive, type AnyPage } from './driver.ts';

/** The fake screen's background. */
export const FAKE_SCREEN_FIELD: Rgb = [0, 135, 0];

/**
 * Where a picture's signature is read, as fractions of width and height: the four corner squares'
 * centres, then three points of the field clear of the counter and the pie.
 */
export const SIGNATURE_POINTS: ReadonlyArray<readonly [number, number]> = [
  [0.031, 0.04],
  [0.969, 0.04],
  [0.031, 0.96],
  [0.969, 0.96],
  [0.15, 0.5],
  [0.85, 0.5],
  [0.5, 0.92],
];

/** How many of the signature points are on the field (the rest are the corners). */
export const FIELD_POINTS = 3;

/**
 * The average colour of a small patch around each signature point of the video in the group
 * (tile or stage) named `groupName`, read from the decoded picture; `null` while it shows none.
 */
export async function pictureSignature(page: AnyPage, groupName: string): Promise<Rgb[] | null> {
  return drive(page).evaluateIn(
    { role: 'group', name: groupName },
    'video',
    (video, points) => {
      const el = video as HTMLVideoElement;
      if (el.videoWidth === 0 || el.readyState < 2) return null;
      const canvas = document.createElement('canvas');
      canvas.width = el.videoWidth;
      canvas.height = el.videoHeight;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(el, 0, 0);
      // Half a corner square's width at this resolution, so a patch stays inside its square.
      const size = Math.max(2, Math.floor(canvas.width / 64));
      return points.map(([fx, fy]) => {
        const x = Math.min(canvas.width - size, Math.max(0, Math.floor(fx * canvas.width - size / 2)));
        const y = Math.min(canvas.height - size, Math.max(0, Math.floor(fy * canvas.height - size / 2)));
        const { data } = ctx.getImageData(x, y, size, size);
        const sum = [0, 0, 0];
        for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c]! += data[i + c]!;
        const n = data.length / 4;
        return [sum[0]! / n, sum[1]! / n, sum[2]! / n] as [number, number, number];
      });
    },
    SIGNATURE_POINTS,
  );
}

/** Largest colour distance between two signatures, point by point (∞ when either is missing). */
export function signatureDistance(a: readonly Rgb[] | null, b: readonly Rgb[] | null): number {
  if (a === null || b === null || a.length !== b.length) return Infinity;
  return Math.max(...a.map((colour, i) => colourDistance(colour, b[i]!)));
}

/** How far a signature's field points are from a field colour (the fake screen's by default). */
export function fieldDistance(signature: readonly Rgb[] | null, field: Rgb = FAKE_SCREEN_FIELD): number {
  if (signature === null) return Infinity;
  return Math.max(
    ...signature.slice(SIGNATURE_POINTS.length - FIELD_POINTS).map((c) => colourDistance(c, field)),
  );
}
