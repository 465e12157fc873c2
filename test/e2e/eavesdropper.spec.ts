// The eavesdropper at the SFU: the server itself consumes every producer of a live meeting (a
// mediasoup DirectTransport, test/support/sfuTap.ts) without being an MLS member. Everything it gets
// must be SFrame ciphertext in Conclave's layout, and feeding its VP8 frames to a real VP8 decoder
// (Chromium's WebCodecs) must not give back the fixture's picture. The same decode-and-compare
// pipeline does recognise the fixture when given a plain VP8 encoding of it (the control), and the
// meeting's members do see the fixture (so the media was there to steal). The same for H.264, whose
// NAL headers, SPS and PPS the eavesdropper does see in the clear.
import { expect, test, type Page } from '@playwright/test';
import { QUADRANT_COLOURS, VIDEO_HEIGHT, VIDEO_WIDTH, colourDistance, type Rgb } from '../fixtures/media.ts';
import { STREAM_CONTEXTS, parseMlsKid } from '../../crypto-worker/src/sframe/mlsKid.ts';
import { SfuTap, type TapFrame } from '../support/sfuTap.ts';
import {
  COLOUR_TOLERANCE,
  expectFixtureVideo,
  joinByLink,
  newParticipantPage,
  closeParticipantPages,
} from './helpers.ts';
import { startInProcessServer, type InProcessServer } from '../support/inProcessServer.ts';

test.afterEach(closeParticipantPages);

let conclave: InProcessServer;
test.beforeAll(async () => {
  conclave = await startInProcessServer();
});
test.afterAll(async () => {
  await conclave?.close();
});

interface DecodeResult {
  decoded: number;
  error: string | null;
  colours: Rgb[] | null;
}

/**
 * In the page: decodes VP8 (or `codec`) frames with WebCodecs and returns the average colour around the centre of
 * each quadrant of the last picture (as the meeting test reads a <video>).
 */
async function decodeFrames(
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

/** In the page: a plain (unencrypted) VP8 (or `codec`) encoding of the fixture's four-colour picture. */
async function plainEncodingOfFixture(
  page: Page,
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
    { width: VIDEO_WIDTH, height: VIDEO_HEIGHT, colours: QUADRANT_COLOURS as Rgb[], codec },
  );
}

function fixtureDistanceOf(result: DecodeResult): number {
  if (result.colours === null) return Infinity;
  return Math.max(...result.colours.map((c, i) => colourDistance(c, QUADRANT_COLOURS[i]!)));
}

/** One simulcast layer's frames from its first key frame on, in arrival order. */
function layerFromKeyFrame(frames: TapFrame[], layer: number): TapFrame[] {
  const ofLayer = frames.filter((f) => f.layer === layer);
  const start = ofLayer.findIndex((f) => f.inspection.ok && f.inspection.keyframe);
  return start < 0 ? [] : ofLayer.slice(start);
}

test('an eavesdropper at the SFU gets only SFrame ciphertext that does not decode into the picture', async ({
  browser,
}) => {
  const { roomId, inviteLink } = await conclave.newMeeting();
  // Alice is alone for a moment (S = 1 bit of leaf index in the KIDs), then with Bob (S = 2):
  // the tap accepts any S; the check below reads the last frames with S = 2.
  const tap = await SfuTap.attachToServer(conclave.server, roomId, { keepFrameData: true });
  try {
    const alice = await newParticipantPage(browser);
    const bob = await newParticipantPage(browser);
    await joinByLink(alice, inviteLink, 'Alice');
    await joinByLink(bob, inviteLink, 'Bob');
    await expectFixtureVideo(bob, 'Alice', 'Bob');
    await expectFixtureVideo(alice, 'Bob', 'Alice');

    await tap.waitFor(
      (t) => t.producerTaps().length === 4 && t.producerTaps().every((p) => p.okFrames >= 60),
      {
        what: '60 frames from each of the four producers',
        timeoutMs: 30_000,
      },
    );
    // Every frame the SFU forwarded carries an SFrame header with an MLS KID behind the allowed prefix.
    expect(tap.violations()).toEqual([]);
    for (const producer of tap.producerTaps()) {
      const recent = tap
        .frames()
        .filter((f) => f.producerId === producer.producerId)
        .slice(-30);
      const contexts = new Set(
        recent.map((f) => (f.inspection.ok ? parseMlsKid(f.inspection.kid, 2).context : -1n)),
      );
      expect([...contexts], `${producer.source} frames' KID context`).toEqual([
        producer.source === 'mic' ? STREAM_CONTEXTS.audio : STREAM_CONTEXTS.camera,
      ]);
    }

    // The control: the decode-and-compare pipeline recognises the fixture in plain VP8.
    const control = await decodeFrames(alice, await plainEncodingOfFixture(alice));
    expect(control.decoded).toBeGreaterThan(0);
    expect(fixtureDistanceOf(control)).toBeLessThan(COLOUR_TOLERANCE);

    // What the eavesdropper has: each camera's frames as forwarded, on every simulcast layer.
    for (const camera of tap.producerTaps().filter((p) => p.source === 'camera')) {
      const frames = tap.frames().filter((f) => f.producerId === camera.producerId);
      const layers = [...new Set(frames.map((f) => f.layer))];
      expect(layers.length).toBeGreaterThan(0);
      for (const layer of layers) {
        const stolen = layerFromKeyFrame(frames, layer).slice(0, 60);
        expect(stolen.length, `layer ${layer} has frames from a key frame on`).toBeGreaterThan(10);
        const result = await decodeFrames(
          alice,
          stolen.map((f) => ({
            key: f.inspection.ok && f.inspection.keyframe,
            base64: Buffer.from(f.data!).toString('base64'),
          })),
        );
        expect(fixtureDistanceOf(result), `layer ${layer}: ${JSON.stringify(result)}`).toBeGreaterThan(
          COLOUR_TOLERANCE,
        );
      }
    }
  } finally {
    tap.close();
  }
});

test('an eavesdropper at the SFU cannot decode an H.264 camera into the picture', async ({ browser }) => {
  const { roomId, inviteLink } = await conclave.newMeeting();
  const tap = await SfuTap.attachToServer(conclave.server, roomId, { keepFrameData: true });
  try {
    const alice = await newParticipantPage(browser);
    const bob = await newParticipantPage(browser);
    await joinByLink(alice, `${inviteLink}&codec=h264`, 'Alice');
    await joinByLink(bob, `${inviteLink}&codec=h264`, 'Bob');
    await expectFixtureVideo(bob, 'Alice', 'Bob');
    const cameraOf = (t: SfuTap) => t.producerTaps().find((p) => p.source === 'camera' && p.codec === 'h264');
    await tap.waitFor((t) => (cameraOf(t)?.okFrames ?? 0) >= 4, {
      what: '4 H.264 camera frames',
      timeoutMs: 30_000,
    });
    expect(tap.violations()).toEqual([]);

    const H264 = 'avc1.42e01f';
    const control = await decodeFrames(alice, await plainEncodingOfFixture(alice, H264), H264);
    expect(control.decoded).toBeGreaterThan(0);
    expect(fixtureDistanceOf(control)).toBeLessThan(COLOUR_TOLERANCE);

    const camera = cameraOf(tap)!;
    const frames = tap.frames().filter((f) => f.producerId === camera.producerId);
    for (const layer of [...new Set(frames.map((f) => f.layer))]) {
      const stolen = layerFromKeyFrame(frames, layer);
      if (stolen.length === 0) continue;
      const result = await decodeFrames(
        alice,
        stolen.map((f) => ({
          key: f.inspection.ok && f.inspection.keyframe,
          base64: Buffer.from(f.data!).toString('base64'),
        })),
        H264,
      );
      expect(fixtureDistanceOf(result), `layer ${layer}: ${JSON.stringify(result)}`).toBeGreaterThan(
        COLOUR_TOLERANCE,
      );
    }
    expect(frames.some((f) => f.inspection.ok && f.inspection.keyframe)).toBe(true);
  } finally {
    tap.close();
  }
});
