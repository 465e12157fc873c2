// The per-frame transforms, written against minimal frame and sink shapes so they run (and are
// tested) in Node as well as in a worker. Frame layout on the wire:
//
//   clear prefix ‖ SFrame header ‖ ciphertext ‖ tag      (prefix authenticated as SFrame metadata)
//
// except H.264, whose clear bytes sit in every NAL unit (h264/h264Frame.ts).
//
// Fail closed: whenever a frame cannot be encrypted or authenticated it is dropped (never enqueued),
// so plaintext never leaves the sender and unauthenticated bytes never reach the decoder.
import { type SupportedCodec, clearPrefixLength, frameCodec } from './codecPrefix.ts';
import { openH264Frame, sealH264Frame } from './h264/h264Frame.ts';
import { type SFrameErrorReason, SFrameError, isSFrameError } from './sframe/errors.ts';
import type { ReceiverKeyRing } from './sframe/receiverKeyRing.ts';
import type { SenderContext } from './sframe/senderContext.ts';
import type { FrameOutcome } from './status.ts';

/** The part of RTCEncodedVideoFrame / RTCEncodedAudioFrame the transforms use. */
export interface EncodedFrameLike {
  data: ArrayBuffer;
  readonly type?: string;
  getMetadata?(): { mimeType?: string };
}

/** The part of TransformStreamDefaultController the transforms use. */
export interface FrameSink<F> {
  enqueue(frame: F): void;
}

/** Who sends under a receiver KID, as the key manager declared it. */
export interface KeyOwner {
  participantId: string;
  context: string;
}

export interface FrameTransform {
  transform(frame: EncodedFrameLike, sink: FrameSink<EncodedFrameLike>): Promise<void>;
}

function reasonOf(error: unknown): SFrameErrorReason {
  return isSFrameError(error) ? error.reason : 'malformed';
}

function codecOrThrow(frame: EncodedFrameLike, fallback: SupportedCodec | undefined): SupportedCodec {
  const codec = frameCodec(frame.getMetadata?.().mimeType, fallback);
  if (codec === undefined) throw new SFrameError('malformed', 'codec is unknown or not allowed for SFrame');
  return codec;
}

export interface SenderTransformOptions {
  /** The stream's sender context; `undefined` (no key yet) drops frames. */
  context: () => SenderContext | undefined;
  codec?: SupportedCodec;
  onOutcome: (outcome: FrameOutcome) => void;
  /** Called with the KID of the first frame sealed under each new key. */
  onKeyInUse?: (kid: bigint) => void;
}

/**
 * The fail-closed rule, in one place for both directions: a frame reaches the sink only after
 * `convert` succeeded; on any failure it is dropped and the reason reported.
 */
async function convertOrDrop(
  frame: EncodedFrameLike,
  sink: FrameSink<EncodedFrameLike>,
  convert: (frame: EncodedFrameLike) => Promise<ArrayBuffer>,
  onOutcome: (outcome: FrameOutcome) => void,
): Promise<void> {
  try {
    frame.data = await convert(frame);
  } catch (error) {
    onOutcome(reasonOf(error));
    return;
  }
  sink.enqueue(frame);
  onOutcome('ok');
}

export class SenderTransform implements FrameTransform {
  readonly #options: SenderTransformOptions;
  #lastKid: bigint | undefined;

  constructor(options: SenderTransformOptions) {
    this.#options = options;
  }

  transform(frame: EncodedFrameLike, sink: FrameSink<EncodedFrameLike>): Promise<void> {
    return convertOrDrop(frame, sink, (f) => this.#encrypt(f), this.#options.onOutcome);
  }

  async #encrypt(frame: EncodedFrameLike): Promise<ArrayBuffer> {
    const context = this.#options.context();
    if (context === undefined || !context.hasKey) throw new SFrameError('missing-key', 'no sender key');
    const bytes = new Uint8Array(frame.data);
    const codec = codecOrThrow(frame, this.#options.codec);
    if (codec === 'h264') {
      const sealed = await sealH264Frame(bytes, (metadata, plaintext) =>
        context.encrypt(metadata, plaintext),
      );
      this.#noteKid(sealed.sealed.kid);
      return sealed.frame.buffer as ArrayBuffer;
    }
    const prefix = bytes.subarray(0, clearPrefixLength(codec, bytes));
    const { kid, header, sealed } = await context.encrypt(prefix, bytes.subarray(prefix.length));
    this.#noteKid(kid);
    const out = new Uint8Array(prefix.length + header.length + sealed.length);
    out.set(prefix);
    out.set(header, prefix.length);
    out.set(sealed, prefix.length + header.length);
    return out.buffer;
  }

  #noteKid(kid: bigint): void {
    if (kid === this.#lastKid) return;
    this.#lastKid = kid;
    this.#options.onKeyInUse?.(kid);
  }
}

export interface ReceiverTransformOptions {
  ring: () => ReceiverKeyRing<KeyOwner>;
  codec?: SupportedCodec;
  /** If set, frames must authenticate under a KID this participant's stream owns. */
  expected?: KeyOwner;
  onOutcome: (outcome: FrameOutcome) => void;
}

export class ReceiverTransform implements FrameTransform {
  readonly #options: ReceiverTransformOptions;

  constructor(options: ReceiverTransformOptions) {
    this.#options = options;
  }

  transform(frame: EncodedFrameLike, sink: FrameSink<EncodedFrameLike>): Promise<void> {
    return convertOrDrop(frame, sink, (f) => this.#decrypt(f), this.#options.onOutcome);
  }

  async #decrypt(frame: EncodedFrameLike): Promise<ArrayBuffer> {
    const bytes = new Uint8Array(frame.data);
    const codec = codecOrThrow(frame, this.#options.codec);
    if (codec === 'h264') return (await this.#decryptH264(bytes)).buffer as ArrayBuffer;
    const prefixLength = clearPrefixLength(codec, bytes);
    const prefix = bytes.subarray(0, prefixLength);
    const { plaintext, owner } = await this.#options.ring().decrypt(prefix, bytes.subarray(prefixLength));
    this.#checkOwner(owner);
    const out = new Uint8Array(prefixLength + plaintext.length);
    out.set(prefix);
    out.set(plaintext, prefixLength);
    return out.buffer;
  }

  #decryptH264(bytes: Uint8Array): Promise<Uint8Array> {
    const ring = this.#options.ring();
    return openH264Frame(bytes, ring.suite.nt, async (metadata, sframe) => {
      const { plaintext, owner } = await ring.decrypt(metadata, sframe);
      this.#checkOwner(owner);
      return plaintext;
    });
  }

  /** The SFU must not be able to pass one member's stream off as another's (RFC 9605 §6.1.1). */
  #checkOwner(owner: KeyOwner | undefined): void {
    const expected = this.#options.expected;
    if (expected === undefined || owner === undefined) return;
    if (owner.participantId !== expected.participantId || owner.context !== expected.context) {
      throw new SFrameError('wrong-sender', 'frame authenticated under another stream’s key');
    }
  }
}
