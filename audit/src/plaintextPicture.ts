// Whether a frame that passed the SFrame layout checks still reads as a plaintext picture of its
// codec: a VP8 frame (vp8Picture.ts) or a VP9 key or intra-only frame (vp9Picture.ts). H.264 has no
// such check here: its plaintext NAL units are judged by layout (h264Layout.ts), Opus by none.
//
// What must hold: a frame that parses as a picture is reported as one; nothing here throws.
import type { MediaFrame } from './mediaFrame.ts';
import type { VerifiableCodec } from './streamMap.ts';
import { describeVp8Picture, vp8PlaintextPicture } from './vp8Picture.ts';
import { describeVp9Picture, vp9PlaintextPicture } from './vp9Picture.ts';

/** What a frame reads as when it is a plaintext VP8 or VP9 picture; undefined when it does not. */
export function plaintextPicture(
  frame: MediaFrame,
  codec: VerifiableCodec,
): { description: string } | undefined {
  if (codec === 'vp8') {
    const picture = vp8PlaintextPicture(frame.data);
    return picture === undefined ? undefined : { description: describeVp8Picture(picture) };
  }
  if (codec === 'vp9') {
    const picture = vp9PlaintextPicture(frame.data);
    return picture === undefined ? undefined : { description: describeVp9Picture(picture) };
  }
  return undefined;
}
