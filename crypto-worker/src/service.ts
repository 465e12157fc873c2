// The crypto worker's state and message handling, independent of the worker global so that tests
// can drive it directly: sender contexts per stream, one receiver key ring, and the transforms.
import {
  type TransformOptions,
  type WorkerErrorInfo,
  type WorkerEvent,
  type WorkerRequest,
  type WorkerRequestBody,
  parseRequest,
  parseTransformOptions,
} from './protocol.ts';
import { assertUnreachable } from '@conclave/common/errors';
import type { AeadBackend } from './sframe/aead.ts';
import { isSFrameError } from './sframe/errors.ts';
import type { MediaSource } from './sframe/mlsKid.ts';
import { ReceiverKeyRing } from './sframe/receiverKeyRing.ts';
import { SenderContext } from './sframe/senderContext.ts';
import { AES_128_GCM_SHA256_128 } from './sframe/suites.ts';
import { type StatusClock, StatusReporter, systemClock } from './status.ts';
import { type FrameTransform, type KeyOwner, ReceiverTransform, SenderTransform } from './transform.ts';

export interface ServiceOptions {
  backend?: AeadBackend;
  statusIntervalMs?: number;
  clock?: StatusClock;
}

interface Attachment {
  options: TransformOptions;
  reporter: StatusReporter;
  /** Sender: asks the encoder for a key frame; absent on the legacy path (the main thread does it).
   *  Receiver: asks the remote sender for one (RTCRtpScriptTransformer.sendKeyFrameRequest). */
  requestKeyFrame?: () => Promise<unknown>;
  lastKeyFrameRequestAt?: number;
  /** Pending re-asks for a key frame while the receiver is still not decrypting. */
  followUps?: unknown[];
  abort?: AbortController;
}

/** The bits of RTCRtpScriptTransformer the worker uses. */
export interface ScriptTransformerLike {
  readonly readable: ReadableStream;
  readonly writable: WritableStream;
  readonly options: unknown;
  generateKeyFrame?(): Promise<unknown>;
  sendKeyFrameRequest?(): Promise<unknown>;
}

/** A receiver that has just been given a key asks for a key frame at most this often… */
const RECEIVER_KEY_FRAME_INTERVAL_MS = 250;
/**
 * …and asks again at these delays if it is still not decrypting: a request can be lost, or land
 * inside the encoder's minimum interval between key frames (300 ms in WebRTC) and be ignored, and
 * mediasoup forwards no second request for a stream while one is pending (it retries after 1 s).
 */
const RECEIVER_KEY_FRAME_FOLLOW_UPS_MS = [400, 1200];

export class CryptoWorkerService {
  readonly #post: (event: WorkerEvent) => void;
  readonly #options: ServiceOptions;
  #suite: number = AES_128_GCM_SHA256_128;
  #senders = new Map<MediaSource, SenderContext>();
  #ring: ReceiverKeyRing<KeyOwner>;
  readonly #attachments = new Map<string, Attachment>();
  /** The tail of the message queue (see handleMessage). */
  #queue: Promise<void> = Promise.resolve();

  constructor(post: (event: WorkerEvent) => void, options: ServiceOptions = {}) {
    this.#post = post;
    this.#options = options;
    this.#ring = this.#newRing();
  }

  /**
   * Handles one `message` event's data: validates, runs, answers with exactly one response. Messages
   * run one at a time in arrival order, whether or not the caller awaits: a `setSenderKey` awaits its
   * key derivation, and a `clearSenderKey` sent right after it must not finish first and leave the old
   * key in place. The worker entry fires and forgets; LiveKit's e2ee worker queues for the same reason.
   */
  handleMessage(data: unknown): Promise<void> {
    const run = this.#queue.then(() => this.#handle(data));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #handle(data: unknown): Promise<void> {
    let request: WorkerRequest;
    try {
      request = parseRequest(data);
    } catch (error) {
      const id = typeof (data as { id?: unknown })?.id === 'number' ? (data as { id: number }).id : -1;
      return this.#post({ type: 'response', id, ok: false, error: errorInfo(error) });
    }
    try {
      await this.#run(request);
      this.#post({ type: 'response', id: request.id, ok: true });
    } catch (error) {
      this.#post({ type: 'response', id: request.id, ok: false, error: errorInfo(error) });
    }
  }

  /** RTCRtpScriptTransform path: the `rtctransform` event's transformer. */
  attachScriptTransform(transformer: ScriptTransformerLike): void {
    const options = parseTransformOptionsSafe(transformer.options);
    if (options === undefined) {
      // Unusable options: fail closed by never forwarding a frame.
      void transformer.readable.cancel().catch(() => undefined);
      return;
    }
    const requestKeyFrame =
      options.kind === 'sender'
        ? transformer.generateKeyFrame?.bind(transformer)
        : transformer.sendKeyFrameRequest?.bind(transformer);
    this.#pipe(options, transformer.readable, transformer.writable, requestKeyFrame);
  }

  /** Builds the transform for `options` (exposed for tests that feed frames directly). */
  createTransform(options: TransformOptions): FrameTransform {
    const reporter = this.#register(options);
    const onOutcome = (outcome: Parameters<StatusReporter['record']>[0]) => reporter.record(outcome);
    if (options.kind === 'sender') {
      return new SenderTransform({
        context: () => this.#senders.get(options.context),
        codec: options.codec,
        onOutcome,
        onKeyInUse: (kid) => this.#post({ type: 'senderKeyInUse', attachmentId: options.attachmentId, kid }),
      });
    }
    const expected =
      options.participantId === undefined
        ? undefined
        : { participantId: options.participantId, context: options.context };
    return new ReceiverTransform({ ring: () => this.#ring, codec: options.codec, expected, onOutcome });
  }

  close(): void {
    for (const id of [...this.#attachments.keys()]) this.#detach(id);
    this.#senders.clear();
    this.#ring.clear();
  }

  async #run(request: WorkerRequestBody): Promise<void> {
    switch (request.type) {
      case 'configure':
        return this.#configure(request.suite);
      case 'setSenderKey':
        return this.#setSenderKey(request.context, request.kid, request.baseKey);
      case 'clearSenderKey':
        this.#senders.get(request.context)?.clearKey();
        return;
      case 'addReceiverKey': {
        const info = { epoch: request.epoch, owner: request.owner };
        await this.#ring.addKey(request.kid, request.baseKey, info);
        this.#requestReceiverKeyFrames();
        return;
      }
      case 'removeReceiverKeys':
        this.#removeReceiverKeys(request);
        return;
      case 'attachStreams':
        this.#pipe(request.options, request.readable, request.writable, undefined);
        return;
      case 'detach':
        this.#detach(request.attachmentId);
        return;
      default:
        return assertUnreachable(request);
    }
  }

  #configure(suite: number): void {
    this.#suite = suite;
    this.#senders = new Map();
    this.#ring = this.#newRing();
  }

  async #setSenderKey(context: MediaSource, kid: bigint, baseKey: Uint8Array): Promise<void> {
    let sender = this.#senders.get(context);
    if (sender === undefined) {
      sender = new SenderContext(this.#suite, { backend: this.#options.backend });
      this.#senders.set(context, sender);
    }
    await sender.setKey(kid, baseKey);
    this.#requestKeyFrames(context);
  }

  /** RFC 9605 §6.2: a key frame right after the key change lets receivers decode at once. */
  #requestKeyFrames(context: MediaSource): void {
    for (const [attachmentId, attachment] of this.#attachments) {
      const { kind, context: streamContext } = attachment.options;
      if (kind !== 'sender' || streamContext !== context) continue;
      if (attachment.requestKeyFrame === undefined) this.#post({ type: 'keyFrameRequest', attachmentId });
      else
        void attachment.requestKeyFrame().catch(() => this.#post({ type: 'keyFrameRequest', attachmentId }));
    }
  }

  /**
   * Frames dropped for want of a key leave the decoder without a reference; once a key arrives,
   * receivers that were not decrypting ask the sender for a key frame instead of waiting for the
   * decoder to notice.
   */
  #requestReceiverKeyFrames(): void {
    const clock = this.#options.clock ?? systemClock;
    const now = clock.now();
    for (const attachment of this.#attachments.values()) {
      if (!needsKeyFrame(attachment)) continue;
      if (now - (attachment.lastKeyFrameRequestAt ?? -Infinity) < RECEIVER_KEY_FRAME_INTERVAL_MS) continue;
      attachment.lastKeyFrameRequestAt = now;
      void attachment.requestKeyFrame?.().catch(() => undefined);
      for (const handle of attachment.followUps ?? []) clock.clearTimeout(handle);
      attachment.followUps = RECEIVER_KEY_FRAME_FOLLOW_UPS_MS.map((delay) =>
        clock.setTimeout(() => {
          if (needsKeyFrame(attachment)) void attachment.requestKeyFrame?.().catch(() => undefined);
        }, delay),
      );
    }
  }

  #removeReceiverKeys(request: Extract<WorkerRequestBody, { type: 'removeReceiverKeys' }>): void {
    const kids = request.kids === undefined ? undefined : new Set(request.kids);
    const { epochsBefore, participantId } = request;
    this.#ring.removeWhere(
      (kid, info) =>
        (kids?.has(kid) ?? false) ||
        (epochsBefore !== undefined && info.epoch !== undefined && info.epoch < epochsBefore) ||
        (participantId !== undefined && info.owner?.participantId === participantId),
    );
  }

  #register(options: TransformOptions): StatusReporter {
    this.#detach(options.attachmentId);
    const emit = (status: Parameters<ConstructorParameters<typeof StatusReporter>[1]>[0]) =>
      this.#post({ type: 'status', kind: options.kind, ...status });
    const reporter = new StatusReporter(
      options.attachmentId,
      emit,
      this.#options.statusIntervalMs,
      this.#options.clock ?? systemClock,
    );
    this.#attachments.set(options.attachmentId, { options, reporter });
    return reporter;
  }

  #pipe(
    options: TransformOptions,
    readable: ReadableStream,
    writable: WritableStream,
    requestKeyFrame?: () => Promise<unknown>,
  ): void {
    const transform = this.createTransform(options);
    const attachment = this.#attachments.get(options.attachmentId);
    if (attachment === undefined) return;
    if (requestKeyFrame !== undefined) attachment.requestKeyFrame = requestKeyFrame;
    const abort = new AbortController();
    attachment.abort = abort;
    const stream = new TransformStream({
      transform: (frame, controller) => transform.transform(frame, controller),
    });
    void readable
      .pipeThrough(stream, { signal: abort.signal })
      .pipeTo(writable, { signal: abort.signal })
      .catch(() => undefined);
    this.#post({ type: 'attached', attachmentId: options.attachmentId, kind: options.kind });
  }

  #detach(attachmentId: string): void {
    const attachment = this.#attachments.get(attachmentId);
    if (attachment === undefined) return;
    attachment.reporter.close();
    attachment.abort?.abort();
    const clock = this.#options.clock ?? systemClock;
    for (const handle of attachment.followUps ?? []) clock.clearTimeout(handle);
    this.#attachments.delete(attachmentId);
  }

  #newRing(): ReceiverKeyRing<KeyOwner> {
    return new ReceiverKeyRing<KeyOwner>(this.#suite, { backend: this.#options.backend });
  }
}

/** A receiver that can ask for a key frame and is not decrypting (yet). */
function needsKeyFrame(attachment: Attachment): boolean {
  return (
    attachment.options.kind === 'receiver' &&
    attachment.requestKeyFrame !== undefined &&
    attachment.reporter.state !== 'ok'
  );
}

function parseTransformOptionsSafe(value: unknown): TransformOptions | undefined {
  try {
    return parseTransformOptions(value);
  } catch {
    return undefined;
  }
}

/** What crosses the boundary about an error: never key material, only a name, message, reason. */
function errorInfo(error: unknown): WorkerErrorInfo {
  if (isSFrameError(error)) return { name: error.name, message: error.message, reason: error.reason };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: 'unknown failure' };
}
