// The main thread's handle on the crypto worker (`@conclave/crypto-worker/client`): creates it,
// installs keys, and attaches SFrame transforms to mediasoup-client producers' RTCRtpSender and
// consumers' RTCRtpReceiver. It lives beside the worker it drives, so the message protocol has both
// of its ends in one package.
//
// What must hold: keys go to the worker and are never kept or logged here; a browser without an
// encoded-transform API cannot create one (it would send frames in the clear); every request
// failure is a CryptoWorkerError with a code (requests.ts).
import type { SupportedCodec } from '../codecPrefix.ts';
import type { ReceiverKeyOwner, TransformOptions, WorkerEvent, WorkerRequest } from '../protocol.ts';
import type { MediaSource } from '../sframe/mlsKid.ts';
import type { CipherSuiteId } from '../sframe/suites.ts';
import type { CryptoState } from '../status.ts';
import { CryptoWorkerError, WorkerRequests } from './requests.ts';

export type { CryptoState, MediaSource };

export interface StreamStatusEvent {
  attachmentId: string;
  kind: 'sender' | 'receiver';
  state: CryptoState;
  reason?: string;
  framesOk: number;
  framesDropped: number;
}

export interface ReceiverStreamInfo {
  /** Participant expected to send this stream (frames under another member's KID are dropped). */
  participantId: string;
  context: MediaSource;
  codec?: SupportedCodec;
}

export interface FrameCryptorOptions {
  suite?: CipherSuiteId;
  timeoutMs?: number;
  /** For tests: a ready worker instead of the bundled one. */
  worker?: Worker;
}

/** Which encoded-transform API attaches the transforms: the standard one, or Chromium's older one. */
export type TransformPath = 'script-transform' | 'encoded-streams';

interface LegacySender {
  createEncodedStreams(): { readable: ReadableStream; writable: WritableStream };
}

function legacyStreams(endpoint: RTCRtpSender | RTCRtpReceiver): LegacySender | undefined {
  const candidate = endpoint as unknown as Partial<LegacySender>;
  return typeof candidate.createEncodedStreams === 'function' ? (candidate as LegacySender) : undefined;
}

/**
 * The crypto worker, seen from the main thread.
 * @example
 * const cryptor = await FrameCryptor.create({ suite: 4 });
 * await cryptor.setSenderKey('mic', kid, baseKey);
 * await cryptor.attachSender(producer.rtpSender, 'mic');
 */
export class FrameCryptor {
  readonly #worker: Worker;
  readonly #requests: WorkerRequests;
  readonly #path: TransformPath;
  readonly #senders = new Map<string, RTCRtpSender>();
  readonly #statusListeners = new Set<(status: StreamStatusEvent) => void>();
  readonly #keyInUseListeners = new Set<(event: { attachmentId: string; kid: bigint }) => void>();
  #nextAttachment = 1;
  #closed = false;

  /** Which encoded-transform API this browser offers; `undefined`: it cannot join an E2EE meeting. */
  static supportedPath(): TransformPath | undefined {
    if (typeof RTCRtpScriptTransform !== 'undefined') return 'script-transform';
    if (typeof RTCRtpSender !== 'undefined' && 'createEncodedStreams' in RTCRtpSender.prototype)
      return 'encoded-streams';
    return undefined;
  }

  static isSupported(): boolean {
    return FrameCryptor.supportedPath() !== undefined;
  }

  /**
   * Starts the worker and configures the cipher suite (default 4, AES_128_GCM_SHA256_128).
   * @throws CryptoWorkerError `unsupported` when this browser has no encoded transforms; any code
   *   of requests.ts when the worker does not take the suite.
   */
  static async create(options: FrameCryptorOptions = {}): Promise<FrameCryptor> {
    const path = FrameCryptor.supportedPath();
    if (path === undefined)
      throw new CryptoWorkerError(
        'unsupported',
        'this browser cannot encrypt media frames (no encoded transforms)',
      );
    // The literal `new Worker(new URL(…), import.meta.url)` is what Vite bundles as a worker chunk.
    const worker =
      options.worker ??
      new Worker(new URL('../worker.ts', import.meta.url), {
        type: 'module',
        name: 'conclave-crypto',
      });
    const cryptor = new FrameCryptor(worker, path, options.timeoutMs);
    await cryptor.setSuite(options.suite ?? 4);
    return cryptor;
  }

  private constructor(worker: Worker, path: TransformPath, timeoutMs?: number) {
    this.#worker = worker;
    this.#path = path;
    this.#requests = new WorkerRequests(
      (request: WorkerRequest, transfer) => worker.postMessage(request, transfer),
      timeoutMs,
    );
    worker.addEventListener('message', (event: MessageEvent<WorkerEvent>) => this.#onEvent(event.data));
    worker.addEventListener('error', () => this.close());
  }

  get path(): TransformPath {
    return this.#path;
  }

  /** Cipher suite for every key; clears all keys in the worker. */
  setSuite(suite: CipherSuiteId): Promise<void> {
    return this.#requests.send({ type: 'configure', suite });
  }

  /** Our `context` stream now sends under `kid` with `baseKey`; the encoder is asked for a key frame. */
  setSenderKey(context: MediaSource, kid: bigint, baseKey: Uint8Array): Promise<void> {
    return this.#requests.send({ type: 'setSenderKey', context, kid, baseKey });
  }

  /** Stops sending `context`: its frames are dropped from now on. */
  clearSenderKey(context: MediaSource): Promise<void> {
    return this.#requests.send({ type: 'clearSenderKey', context });
  }

  addReceiverKey(
    kid: bigint,
    baseKey: Uint8Array,
    info: { epoch?: bigint; owner?: ReceiverKeyOwner } = {},
  ): Promise<void> {
    return this.#requests.send({ type: 'addReceiverKey', kid, baseKey, ...info });
  }

  /** Drops receiver keys matching any filter: listed KIDs, epochs below `epochsBefore`, or one participant's. */
  removeReceiverKeys(filter: {
    kids?: bigint[];
    epochsBefore?: bigint;
    participantId?: string;
  }): Promise<void> {
    return this.#requests.send({ type: 'removeReceiverKeys', ...filter });
  }

  /** Encrypts everything `sender` sends as our `context` stream. Returns the attachment id. */
  attachSender(sender: RTCRtpSender, context: MediaSource, codec?: SupportedCodec): Promise<string> {
    const options = this.#options('sender', context, codec);
    this.#senders.set(options.attachmentId, sender);
    return this.#attach(sender, options);
  }

  /** Decrypts what `receiver` receives, expected from `info.participantId`'s `info.context` stream. */
  attachReceiver(receiver: RTCRtpReceiver, info: ReceiverStreamInfo): Promise<string> {
    const options = this.#options('receiver', info.context, info.codec);
    options.participantId = info.participantId;
    return this.#attach(receiver, options);
  }

  /** Legacy path only: stops the worker's side of a transform. */
  detach(attachmentId: string): Promise<void> {
    this.#senders.delete(attachmentId);
    return this.#requests.send({ type: 'detach', attachmentId });
  }

  onStatus(listener: (status: StreamStatusEvent) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /** A sender stream sealed its first frame under a new KID: the key change has taken effect. */
  onSenderKeyInUse(listener: (event: { attachmentId: string; kid: bigint }) => void): () => void {
    this.#keyInUseListeners.add(listener);
    return () => this.#keyInUseListeners.delete(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#requests.rejectAll('crypto worker closed');
    this.#worker.terminate();
    this.#senders.clear();
    this.#statusListeners.clear();
    this.#keyInUseListeners.clear();
  }

  #options(kind: 'sender' | 'receiver', context: MediaSource, codec?: SupportedCodec): TransformOptions {
    const options: TransformOptions = { attachmentId: `${kind}-${this.#nextAttachment++}`, kind, context };
    if (codec !== undefined) options.codec = codec;
    return options;
  }

  async #attach(endpoint: RTCRtpSender | RTCRtpReceiver, options: TransformOptions): Promise<string> {
    if (this.#path === 'script-transform') {
      endpoint.transform = new RTCRtpScriptTransform(this.#worker, options);
      return options.attachmentId;
    }
    const legacy = legacyStreams(endpoint);
    if (legacy === undefined)
      throw new CryptoWorkerError('unsupported', 'createEncodedStreams is missing on this endpoint');
    const { readable, writable } = legacy.createEncodedStreams();
    await this.#requests.send({ type: 'attachStreams', options, readable, writable }, [
      readable as unknown as Transferable,
      writable as unknown as Transferable,
    ]);
    return options.attachmentId;
  }

  #onEvent(event: WorkerEvent): void {
    if (this.#requests.handle(event)) return;
    switch (event.type) {
      case 'status': {
        const { type: _type, ...status } = event;
        for (const listener of this.#statusListeners) listener(status);
        return;
      }
      case 'keyFrameRequest':
        this.#requestKeyFrame(event.attachmentId);
        return;
      case 'senderKeyInUse':
        for (const listener of this.#keyInUseListeners)
          listener({ attachmentId: event.attachmentId, kid: event.kid });
        return;
      case 'attached':
        return;
    }
  }

  /** Legacy path: the worker cannot reach the encoder, so the main thread asks for the key frame. */
  #requestKeyFrame(attachmentId: string): void {
    const sender = this.#senders.get(attachmentId) as
      (RTCRtpSender & { generateKeyFrame?: () => Promise<void> }) | undefined;
    void sender?.generateKeyFrame?.().catch(() => undefined);
  }
}
