// What an eavesdropper at the SFU can make of the frames it forwards: decode them as plain VP8 (or
// H.264, `codec` in WebCodecs' naming) in Chromium's WebCodecs and read the picture's colours, as the
// meeting tests read a <video>. Shared by the eavesdropper specs; the control (plainEncodingOf) shows
// the same pipeline recognises a picture when it is given one unencrypted.
import type { Page } from '@playwright/test';
import { VIDEO_HEIGHT, VIDEO_WIDTH, type Rgb } from '../fixtures/media.ts';
import { parseMlsKid } from '../../crypto-worker/src/sframe/mlsKid.ts';
import type { ProducerTap, SfuTap, TapFrame } from '../support/sfuTap.ts';

export interface DecodeResult {
  decoded: number;
  error: string | null;
  colours: Rgb[] | null;
}

/**
 * In the page: decodes frames with WebCodecs and returns the average colour around the centre of
 * each quadrant of the last picture (as the meeting test reads a <video>).
 */
export async function decodeFrames(
  page: Page,
  frames: Array<{ key: boolean; base64: string }>,
  codec = 'vp8',
): Promise<DecodeResult> {
  return page.evaluate(
    async ({ chunks, codec }) => {
      let last: VideoFrame | null = null;
      let decoded = 0;
      let error: string | null = null;
      const decoder = new VideoDecoder({
        output: (frame) => {
          last?.close();
          last = frame;
          decoded++;
        },
        error: (e) => {
          error = e.message;
        },
      });
      decoder.configure({ codec });
      chunks.forEach((chunk, i) => {
        if (decoder.state === 'closed') return;
        const data = Uint8Array.from(atob(chunk.base64), (c) => c.charCodeAt(0));
        decoder.decode(
          new EncodedVideoChunk({ type: chunk.key ? 'key' : 'delta', timestamp: i * 33_333, data }),
        );
      });
      if (decoder.state !== 'closed') await decoder.flush().catch(() => undefined);
      const picture = last as VideoFrame | null;
      if (picture === null) return { decoded, error, colours: null };
      const canvas = new OffscreenCanvas(picture.displayWidth, picture.displayHeight);
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(picture, 0, 0);
      picture.close();
      const w = canvas.width;
      const h = canvas.height;
      const size = Math.max(2, Math.floor(Math.min(w, h) / 10));
      const colours = [
        [w / 4, h / 4],
        [(3 * w) / 4, h / 4],
        [w / 4, (3 * h) / 4],
        [(3 * w) / 4, (3 * h) / 4],
      ].map(([cx, cy]) => {
        const { data } = ctx.getImageData(Math.floor(cx! - size / 2), Math.floor(cy! - size / 2), size, size);
        const sum = [0, 0, 0];
        for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c]! += data[i + c]!;
        const n = data.length / 4;
        return [sum[0]! / n, sum[1]! / n, sum[2]! / n] as [number, number, number];
      });
      return { decoded, error, colours };
    },
    { chunks: frames, codec },
  );
}

/** In the page: a plain (unencrypted) encoding of a picture of four coloured quadrants. */
export async function plainEncodingOf(
  page: Page,
  quadrants: readonly Rgb[],
  codec = 'vp8',
): Promise<Array<{ key: boolean; base64: string }>> {
  return page.evaluate(
    async ({ width, height, colours, codec }) => {
      const canvas = new OffscreenCanvas(width, height);
      const ctx = canvas.getContext('2d')!;
      colours.forEach(([r, g, b], i) => {
        ctx.fillStyle = `rgb(${r} ${g} ${b})`;
        ctx.fillRect((i % 2) * (width / 2), Math.floor(i / 2) * (height / 2), width / 2, height / 2);
      });
      const chunks: Array<{ key: boolean; base64: string }> = [];
      const encoder = new VideoEncoder({
        output: (chunk) => {
          const bytes = new Uint8Array(chunk.byteLength);
          chunk.copyTo(bytes);
          chunks.push({ key: chunk.type === 'key', base64: btoa(String.fromCharCode(...bytes)) });
        },
        error: () => undefined,
      });
      encoder.configure({
        codec,
        width,
        height,
        bitrate: 1_000_000,
        ...(codec.startsWith('avc1') ? { avc: { format: 'annexb' as const } } : {}),
      });
      for (let i = 0; i < 10; i++) {
        const frame = new VideoFrame(canvas, { timestamp: i * 33_333 });
        encoder.encode(frame, { keyFrame: i === 0 });
        frame.close();
      }
      await encoder.flush();
      return chunks;
    },
    { width: VIDEO_WIDTH, height: VIDEO_HEIGHT, colours: [...quadrants], codec },
  );
}

/** One simulcast layer's frames from its first key frame on, in arrival order. */
export function layerFromKeyFrame(frames: TapFrame[], layer: number): TapFrame[] {
  const ofLayer = frames.filter((f) => f.layer === layer);
  const start = ofLayer.findIndex((f) => f.inspection.ok && f.inspection.keyframe);
  return start < 0 ? [] : ofLayer.slice(start);
}

/**
 * Whether every simulcast layer seen so far has at least `count` frames from a key frame on. A
 * sender turns its upper layers on as its bandwidth estimate grows, so a layer's first key frame
 * can arrive moments before the capture is read; wait for this before judging what was stolen.
 */
export function everyLayerHasFramesFromKeyFrame(frames: TapFrame[], count: number): boolean {
  const layers = [...new Set(frames.map((f) => f.layer))];
  return layers.length > 0 && layers.every((layer) => layerFromKeyFrame(frames, layer).length >= count);
}

/**
 * The SFrame stream contexts (mic 0, camera 1, screen 2) in the KIDs of a producer's last `count`
 * frames, read with `indexBits` bits of leaf index (2 for a meeting of two to four); -1n for a frame
 * without a valid SFrame header. An honest sender's frames all carry its source's context.
 */
export function recentKidContexts(tap: SfuTap, producer: ProducerTap, count = 30, indexBits = 2): bigint[] {
  const recent = tap
    .frames()
    .filter((f) => f.producerId === producer.producerId)
    .slice(-count);
  return [
    ...new Set(recent.map((f) => (f.inspection.ok ? parseMlsKid(f.inspection.kid, indexBits).context : -1n))),
  ];
}
