// Camera simulcast encodings (lowest layer first) and which layer a tile of a given height needs.

export const CAMERA_ENCODINGS: RTCRtpEncodingParameters[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/** Device pixels of tile height → simulcast spatial layer (0 = quarter resolution). */
export function spatialLayerForHeight(devicePixels: number): 0 | 1 | 2 {
  if (devicePixels <= 200) return 0;
  if (devicePixels <= 400) return 1;
  return 2;
}
