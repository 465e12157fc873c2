// Camera simulcast encodings (lowest layer first) and which layer a tile of a given height needs.

export const CAMERA_ENCODINGS: RTCRtpEncodingParameters[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/**
 * The encodings for a camera of this size. libwebrtc sends only as many simulcast layers as the
 * picture is large enough for (its simulcast format table: 3 from 960x540, 2 from 480x270, else 1)
 * and drops the surplus from the top, so a 640x480 camera given all three would never send its
 * full-resolution layer. Asking for the top layers only keeps the full picture as the top layer.
 */
export function cameraEncodings(size: { width?: number; height?: number }): RTCRtpEncodingParameters[] {
  const pixels = (size.width ?? 0) * (size.height ?? 0);
  // Unknown size: assume the 1280x720 the camera is asked for.
  const layers = pixels === 0 || pixels >= 960 * 540 ? 3 : pixels >= 480 * 270 ? 2 : 1;
  return CAMERA_ENCODINGS.slice(CAMERA_ENCODINGS.length - layers);
}

/**
 * Device pixels of tile height → simulcast spatial layer (0 = quarter resolution). With fewer
 * layers, the SFU gives the highest one there is at or below the one asked for.
 */
export function spatialLayerForHeight(devicePixels: number): 0 | 1 | 2 {
  if (devicePixels <= 200) return 0;
  if (devicePixels <= 400) return 1;
  return 2;
}
