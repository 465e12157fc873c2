// Which video codec a client sends with: the link's `codec` fragment parameter, when the browser and
// router share it, else the first shared codec; VP9 without simulcast layers (mediasoup 3.12).
import { describe, expect, it } from 'vitest';
import {
  chooseVideoCodec,
  encodingsForCodec,
  videoCodecFromHash,
} from '../../../web/src/lib/meeting/videoCodec.ts';

let payloadType = 96;
const codec = (mimeType: string) => ({
  kind: 'video' as const,
  mimeType,
  clockRate: 90000,
  preferredPayloadType: payloadType++,
});
const opus = {
  kind: 'audio' as const,
  mimeType: 'audio/opus',
  clockRate: 48000,
  channels: 2,
  preferredPayloadType: 111,
};
const shared = [opus, codec('video/VP8'), codec('video/rtx'), codec('video/VP9'), codec('video/H264')];

describe('videoCodecFromHash', () => {
  it('reads codec=vp8|vp9|h264 next to the invite token, in any case', () => {
    expect(videoCodecFromHash('#t=abc&codec=h264')).toBe('h264');
    expect(videoCodecFromHash('#codec=VP9&t=abc')).toBe('vp9');
    expect(videoCodecFromHash('#t=abc')).toBeUndefined();
    expect(videoCodecFromHash('#t=abc&codec=av1')).toBeUndefined();
    expect(videoCodecFromHash('')).toBeUndefined();
  });
});

describe('chooseVideoCodec', () => {
  it('takes the preferred codec when shared, else the first shared video codec', () => {
    expect(chooseVideoCodec(shared, 'h264')?.mimeType).toBe('video/H264');
    expect(chooseVideoCodec(shared, 'vp9')?.mimeType).toBe('video/VP9');
    expect(chooseVideoCodec(shared, undefined)?.mimeType).toBe('video/VP8');
    expect(chooseVideoCodec([opus, codec('video/rtx'), codec('video/VP9')], 'h264')?.mimeType).toBe(
      'video/VP9',
    );
    expect(chooseVideoCodec([opus], 'vp8')).toBeUndefined();
  });
});

describe('encodingsForCodec', () => {
  const layers = [{ scaleResolutionDownBy: 2 }, { scaleResolutionDownBy: 1 }];
  it('keeps simulcast layers for VP8 and H.264, and only the top layer for VP9', () => {
    expect(encodingsForCodec(layers, codec('video/VP8'))).toEqual(layers);
    expect(encodingsForCodec(layers, codec('video/H264'))).toEqual(layers);
    expect(encodingsForCodec(layers, codec('video/VP9'))).toEqual([{ scaleResolutionDownBy: 1 }]);
    expect(encodingsForCodec(layers, undefined)).toEqual(layers);
  });
});
