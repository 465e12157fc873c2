// A simulated camera's three simulcast layers as real VP8 from Debian's ffmpeg: a solid colour
// (lavfi `color=`, with zero-mean noise so libvpx spends the layer's bitrate in every frame, as a
// real camera would, while the picture's mean stays the colour) at 320×180 / 640×360 / 1280×720 and
// about 150 / 500 / 1500 kbit/s, 25 fps, a key frame a second capped at 3 frames' worth
// (-max-intra-rate, like libwebrtc: no 100 KB burst), in a 2 s loop that starts on a key frame.
// Encoded once per colour and cached under the OS temp dir: the load's palette and the browser
// test's colours cost a few seconds the first time only.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readIvfFrames } from '../codecFixtures.ts';

const run = promisify(execFile);

export const CAMERA_FPS = 25;
/** Frames per loop (two seconds, starting on a key frame), and between key frames. */
const LOOP_FRAMES = 2 * CAMERA_FPS;
export const KEY_FRAME_INTERVAL = CAMERA_FPS;

export interface SimulcastLayerSpec {
  width: number;
  height: number;
  kbps: number;
}

/** Lowest first, as mediasoup orders simulcast encodings (spatial layer 0, 1, 2). */
export const SIMULCAST_LAYERS: readonly SimulcastLayerSpec[] = [
  { width: 320, height: 180, kbps: 150 },
  { width: 640, height: 360, kbps: 500 },
  { width: 1280, height: 720, kbps: 1500 },
];

export interface CameraFrames {
  /** '#rrggbb' */
  colour: string;
  /** Per layer (lowest first), the loop's frames; frame 0 of each is a key frame. */
  layers: Uint8Array[][];
}

const CACHE_DIR = path.join(os.tmpdir(), 'conclave-media-ivf');

/** A '#rrggbb' colour: what the browser test compares decoded pixels against. */
export function assertColour(colour: string): void {
  if (!/^#[0-9a-f]{6}$/.test(colour)) throw new RangeError(`a colour is '#rrggbb' in lower case: ${colour}`);
}

async function encodeLayer(colour: string, layer: SimulcastLayerSpec): Promise<string> {
  const file = path.join(
    CACHE_DIR,
    `v2-${colour.slice(1)}-${layer.width}x${layer.height}-${layer.kbps}k.ivf`,
  );
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const partial = `${file}.${process.pid}.part.ivf`;
  const rate = `${layer.kbps}k`;
  await run('ffmpeg', [
    ...['-loglevel', 'error', '-y', '-f', 'lavfi'],
    ...[
      '-i',
      `color=c=0x${colour.slice(1)}:s=${layer.width}x${layer.height}:r=${CAMERA_FPS},noise=alls=30:allf=t+u`,
    ],
    ...['-frames:v', String(LOOP_FRAMES), '-c:v', 'libvpx', '-b:v', rate, '-minrate', rate, '-maxrate', rate],
    ...[
      '-max-intra-rate',
      '300',
      '-g',
      String(KEY_FRAME_INTERVAL),
      '-keyint_min',
      String(KEY_FRAME_INTERVAL),
    ],
    ...['-deadline', 'realtime'],
    ...['-cpu-used', '8', '-threads', '2', '-an', partial],
  ]);
  fs.renameSync(partial, file);
  return file;
}

/** The colour's three layers, encoded now unless cached. Needs ffmpeg (Debian's, with libvpx). */
export async function cameraFrames(colour: string): Promise<CameraFrames> {
  assertColour(colour);
  const layers: Uint8Array[][] = [];
  for (const layer of SIMULCAST_LAYERS) {
    const frames = readIvfFrames(await encodeLayer(colour, layer));
    if (frames.length === 0 || (frames[0]![0]! & 1) !== 0) throw new Error(`${colour}: no key frame first`);
    layers.push(frames);
  }
  return { colour, layers };
}

/** A distinct, well-separated colour for participant `i` (hue steps by the golden angle). */
export function paletteColour(i: number): string {
  const hue = (i * 137.508) % 360;
  const [r, g, b] = hslToRgb(hue, 0.75, i % 2 === 0 ? 0.5 : 0.35);
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}
