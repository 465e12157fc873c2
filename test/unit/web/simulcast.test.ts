// Which simulcast encodings a camera gets and which layer a tile asks for.
import { describe, expect, it } from 'vitest';
import {
  CAMERA_ENCODINGS,
  cameraEncodings,
  spatialLayerForHeight,
} from '../../../web/src/lib/meeting/simulcast.ts';

const scales = (encodings: RTCRtpEncodingParameters[]) => encodings.map((e) => e.scaleResolutionDownBy);

describe('cameraEncodings', () => {
  it('gives a 720p camera all three layers', () => {
    expect(cameraEncodings({ width: 1280, height: 720 })).toEqual(CAMERA_ENCODINGS);
  });

  it('gives a 640x480 camera two layers, its full picture on top (libwebrtc sends only two)', () => {
    expect(scales(cameraEncodings({ width: 640, height: 480 }))).toEqual([2, 1]);
  });

  it('gives a tiny camera one full-resolution layer', () => {
    expect(scales(cameraEncodings({ width: 320, height: 240 }))).toEqual([1]);
  });

  it('assumes the requested 1280x720 when the size is unknown', () => {
    expect(cameraEncodings({})).toEqual(CAMERA_ENCODINGS);
  });

  it('always ends with the full picture at the highest bitrate', () => {
    for (const size of [
      { width: 1920, height: 1080 },
      { width: 640, height: 360 },
      { width: 160, height: 120 },
    ]) {
      const top = cameraEncodings(size).at(-1)!;
      expect(top.scaleResolutionDownBy).toBe(1);
      expect(top.maxBitrate).toBe(1_500_000);
    }
  });
});

describe('spatialLayerForHeight', () => {
  it('maps small, middle and large tiles to layers 0, 1 and 2', () => {
    expect([120, 200, 201, 400, 401, 1440].map(spatialLayerForHeight)).toEqual([0, 0, 1, 1, 2, 2]);
  });
});
