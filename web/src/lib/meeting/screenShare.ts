// The screen share's capture and encoding: what the browser is asked for, and how it is sent.

/**
 * One layer, no simulcast: a shared screen is shown large by everyone, so there is no smaller tile
 * to serve. Text must stay legible, so the bitrate allows full resolution at a low frame rate.
 */
export const SCREEN_ENCODINGS: RTCRtpEncodingParameters[] = [{ maxBitrate: 2_500_000, maxFramerate: 15 }];

/**
 * Asks the browser for a screen, window or tab (the browser's own picker; a click must have led
 * here). Sound is not asked for: only the camera, microphone and screen streams have SFrame keys.
 */
export async function captureScreen(): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getDisplayMedia({
    video: { frameRate: { ideal: 15, max: 30 } },
    audio: false,
  });
  const track = stream.getVideoTracks()[0];
  if (track === undefined) throw new DOMException('no screen was shared', 'NotFoundError');
  // Slides and code: the encoder keeps resolution and lowers the frame rate when bandwidth is short.
  track.contentHint = 'detail';
  return track;
}

/** A refusal in the browser's picker is the person's choice, not an error to show. */
export function isScreenShareCancelled(error: unknown): boolean {
  return error instanceof DOMException && (error.name === 'NotAllowedError' || error.name === 'AbortError');
}
