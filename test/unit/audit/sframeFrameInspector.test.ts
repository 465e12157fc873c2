// The key-free frame check: frames sealed by the real SFrame library in Conclave's layout pass with
// their KID and CTR; plaintext VP8 (real libvpx frames, and a hand-built key frame) and damaged
// frames fail with a typed violation.
import { randomBytes } from 'node:crypto';
import { clearPrefixLength } from '@conclave/crypto-worker/codecPrefix';
import {
  CIPHER_SUITE_IDS,
  SFrameError,
  STREAM_CONTEXTS,
  cipherSuite,
  mlsKid,
} from '@conclave/crypto-worker/sframe';
import { describe, expect, it } from 'vitest';
import {
  conclavePrefixLength,
  inspectSFrameFrame,
  type FrameInspection,
  type FrameViolationCode,
} from '../../../audit/src/index.ts';
import { readIvfFrames, readOggOpusPackets } from '../../support/codecFixtures.ts';
import { sealConclaveFrame, vp8Frame } from '../../support/conclaveFrames.ts';

const baseKey = new Uint8Array(16).fill(7);
const vp8Frames = readIvfFrames();
const opusPackets = readOggOpusPackets();
/** Member at leaf 2 of a 3-member group (S = 2), epoch 21 (low bits 5). */
const S = 2;
const cameraKid = mlsKid({ context: STREAM_CONTEXTS.camera, index: 2n, epoch: 21n, indexBits: S });
const screenKid = mlsKid({ context: STREAM_CONTEXTS.screen, index: 2n, epoch: 21n, indexBits: S });
const audioKid = mlsKid({ context: STREAM_CONTEXTS.mic, index: 2n, epoch: 21n, indexBits: S });

function violationOf(inspection: FrameInspection): FrameViolationCode | undefined {
  return inspection.ok ? undefined : inspection.violation.code;
}

describe('inspectSFrameFrame: Conclave ciphertext passes', () => {
  it('VP8 key and delta frames (real libvpx frames, sealed by the library) report KID, CTR and lengths', async () => {
    for (const [i, frame] of vp8Frames.entries()) {
      const ctr = BigInt(40 + i);
      const sealed = await sealConclaveFrame('vp8', frame, { baseKey, kid: cameraKid, ctr });
      const inspection = inspectSFrameFrame(sealed, 'vp8', { indexBits: S });
      const keyframe = i === 0;
      const prefixLength = keyframe ? 10 : 3;
      expect(inspection).toEqual({
        ok: true,
        kid: cameraKid,
        ctr,
        keyframe,
        prefixLength,
        headerLength: 3, // config byte, one KID byte (0x45), one CTR byte
        payloadLength: frame.length - prefixLength + 16,
        epochLowBits: 5n,
        mls: { context: STREAM_CONTEXTS.camera, index: 2n, epochLowBits: 5n },
      });
      // The clear prefix is the plaintext's own first bytes.
      expect([...sealed.subarray(0, prefixLength)]).toEqual([...frame.subarray(0, prefixLength)]);
    }
  });

  it('Opus frames have no prefix; screen-share VP8 is a video context too', async () => {
    for (const [i, packet] of opusPackets.entries()) {
      const sealed = await sealConclaveFrame('opus', packet, { baseKey, kid: audioKid, ctr: BigInt(i) });
      expect(inspectSFrameFrame(sealed, 'opus')).toMatchObject({
        ok: true,
        kid: audioKid,
        ctr: BigInt(i),
        keyframe: false,
        prefixLength: 0,
        headerLength: 2,
        payloadLength: packet.length + 16,
        mls: undefined,
      });
    }
    const screen = await sealConclaveFrame('vp8', vp8Frames[1]!, { baseKey, kid: screenKid, ctr: 1n });
    expect(inspectSFrameFrame(screen, 'vp8')).toMatchObject({ ok: true, kid: screenKid });
  });

  it('every RFC 9605 suite, with the suite named; an empty plaintext is just a tag', async () => {
    for (const suite of CIPHER_SUITE_IDS) {
      const key = new Uint8Array(cipherSuite(suite).nk).fill(1);
      const { nt } = cipherSuite(suite);
      const sealed = await sealConclaveFrame('opus', new Uint8Array(0), {
        baseKey: key,
        kid: audioKid,
        ctr: 0n,
        suite,
      });
      expect(inspectSFrameFrame(sealed, 'opus', { suite })).toMatchObject({ ok: true, payloadLength: nt });
      // Judged against suite 4's 16-byte tag, the shorter tags of suites 1-3 are too short.
      expect(violationOf(inspectSFrameFrame(sealed, 'opus'))).toBe(nt < 16 ? 'too-short' : undefined);
    }
  });

  it('64-bit KIDs and CTRs in the header', async () => {
    const epoch = 0xffff_ffffn;
    const kid = mlsKid({ context: STREAM_CONTEXTS.camera, index: 0xffff_fffen, epoch, indexBits: 32 });
    const ctr = 0xffff_ffff_ffff_fffen;
    const sealed = await sealConclaveFrame('vp8', vp8Frames[0]!, { baseKey, kid, ctr });
    expect(inspectSFrameFrame(sealed, 'vp8')).toMatchObject({ ok: true, kid, ctr, headerLength: 1 + 5 + 8 });
  });

  it('uses the same clear prefix as the crypto worker', () => {
    const frames = [
      ...vp8Frames,
      vp8Frame(true, 40),
      vp8Frame(false, 40),
      ...Array.from({ length: 200 }, () => randomBytes(12)),
    ];
    for (const frame of frames) {
      expect(conclavePrefixLength('vp8', frame)).toBe(clearPrefixLength('vp8', frame));
      expect(conclavePrefixLength('opus', frame)).toBe(clearPrefixLength('opus', frame));
    }
  });
});

describe('inspectSFrameFrame: plaintext and damage are flagged', () => {
  it('flags real plaintext VP8 frames: their first compressed bytes read as an audio-context KID', () => {
    expect(vp8Frames.map((f) => violationOf(inspectSFrameFrame(f, 'vp8')))).toEqual([
      'kid-outside-policy',
      'kid-outside-policy',
      'kid-outside-policy',
    ]);
    const key = inspectSFrameFrame(vp8Frames[0]!, 'vp8');
    expect(key).toMatchObject({ ok: false, violation: { keyframe: true, prefixLength: 10, kid: 0n } });
  });

  it('flags a hand-built plaintext key frame (frame tag, start code 9d 01 2a, dimensions, data)', () => {
    const frame = vp8Frame(true, 300);
    expect([...frame.subarray(3, 6)]).toEqual([0x9d, 0x01, 0x2a]);
    expect(violationOf(inspectSFrameFrame(frame, 'vp8'))).toBe('kid-outside-policy');
    // Structurally it would do: only the KID policy tells it from ciphertext.
    expect(violationOf(inspectSFrameFrame(frame, 'vp8', { kidPolicy: 'none' }))).toBeUndefined();
  });

  it('with S known, a KID of the wrong stream kind is flagged', async () => {
    const cameraAsAudio = await sealConclaveFrame('opus', opusPackets[0]!, {
      baseKey,
      kid: cameraKid,
      ctr: 0n,
    });
    expect(violationOf(inspectSFrameFrame(cameraAsAudio, 'opus', { indexBits: S }))).toBe(
      'kid-outside-policy',
    );
    const audioAsVideo = await sealConclaveFrame('vp8', vp8Frames[1]!, { baseKey, kid: audioKid, ctr: 0n });
    expect(violationOf(inspectSFrameFrame(audioAsVideo, 'vp8', { indexBits: S }))).toBe('kid-outside-policy');
    // Without S the same KID (37) could be a camera KID of leaf 0 with S = 1: it passes.
    expect(violationOf(inspectSFrameFrame(audioAsVideo, 'vp8'))).toBeUndefined();
    // Without S, a KID above every context-0 KID (S ≤ 32) is still not audio.
    const huge = await sealConclaveFrame('opus', opusPackets[0]!, { baseKey, kid: 1n << 40n, ctr: 0n });
    expect(inspectSFrameFrame(huge, 'opus')).toMatchObject({
      ok: false,
      violation: { code: 'kid-outside-policy', kid: 1n << 40n, ctr: 0n },
    });
  });

  it('reports each kind of damage with its code', async () => {
    const sealedKey = await sealConclaveFrame('vp8', vp8Frames[0]!, { baseKey, kid: cameraKid, ctr: 9n });
    const sealedDelta = await sealConclaveFrame('vp8', vp8Frames[1]!, { baseKey, kid: cameraKid, ctr: 9n });
    const cases: [Uint8Array, 'vp8' | 'opus', FrameViolationCode][] = [
      [new Uint8Array(0), 'vp8', 'empty-frame'],
      [new Uint8Array(0), 'opus', 'empty-frame'],
      [sealedKey.subarray(0, 9), 'vp8', 'truncated-prefix'],
      [sealedDelta.subarray(0, 2), 'vp8', 'truncated-prefix'],
      [
        Uint8Array.from([0x00, 1, 2, 0xaa, 0xbb, 0xcc, 1, 2, 3, 4, 0x00, ...new Uint8Array(16)]),
        'vp8',
        'bad-codec-prefix',
      ],
      [sealedKey.subarray(0, 10), 'vp8', 'no-sframe-header'],
      [sealedDelta.subarray(0, 3), 'vp8', 'no-sframe-header'],
      [sealedKey.subarray(0, 11), 'vp8', 'no-sframe-header'], // config byte says a KID byte follows
      [Uint8Array.from([0x8f, 0x01, 0x02]), 'opus', 'no-sframe-header'], // 8-byte CTR announced, 1 there
      [sealedKey.subarray(0, 10 + 3 + 15), 'vp8', 'too-short'],
      [sealedDelta.subarray(0, 3 + 3), 'vp8', 'too-short'],
    ];
    for (const [frame, codec, code] of cases) {
      const inspection = inspectSFrameFrame(frame, codec);
      expect(violationOf(inspection), `${code}: ${Buffer.from(frame).toString('hex')}`).toBe(code);
      if (!inspection.ok) expect(inspection.violation.message).not.toBe('');
    }
    expect(inspectSFrameFrame(sealedKey.subarray(0, 28), 'vp8')).toMatchObject({
      ok: false,
      violation: { code: 'too-short', kid: cameraKid, ctr: 9n, keyframe: true, prefixLength: 10 },
    });
  });

  it('refuses bad options with SFrameError, before looking at the frame', () => {
    expect(() => inspectSFrameFrame(new Uint8Array(0), 'opus', { suite: 9 })).toThrow(SFrameError);
    expect(() => inspectSFrameFrame(new Uint8Array(0), 'opus', { indexBits: 65 })).toThrow(SFrameError);
  });
});
