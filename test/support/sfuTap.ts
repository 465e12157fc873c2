// A tap on the SFU for tests: the eavesdropper's view. It consumes every producer of a room's
// mediasoup router through a DirectTransport, so it receives exactly the RTP the SFU forwards (after
// mediasoup's own parsing, before per-consumer SRTP), reassembles each frame and checks, without any
// key, that it is SFrame ciphertext in Conclave's layout (audit/src). Test-only: it changes
// nothing in the server and adds one transport with one pipe consumer per producer to the router.
//
// What it sees: pipe consumers forward every simulcast layer (each on its own SSRC; `layer` is the
// encoding's index), with the router's payload types. RTX is not requested, so retransmissions do
// not show up twice. VP8 (RFC 7741), VP9 (RFC 9628), H.264 (RFC 6184) and Opus are reassembled and
// inspected (a VP9 frame that reads as a plaintext key frame is 'vp9-plaintext'); other codecs are
// reported as a violation ('uninspected-codec'), never passed silently.
//
// Usage (a Playwright spec, with test/support/inProcessServer.ts):
//
//   const { server, baseUrl, close } = await startInProcessServer();
//   const tap = await SfuTap.attachToServer(server, roomId); // before anyone joins: creates the room
//   ... two people join `${baseUrl}/r/${roomId}#t=...` and talk for a while ...
//   await tap.waitFor((t) => t.producerTaps().every((p) => p.okFrames >= 30), { what: '30 frames each' });
//   expect(tap.violations()).toEqual([]);          // every forwarded frame was SFrame ciphertext
//   for (const p of tap.producerTaps()) console.warn(p.summary());  // KIDs, CTR ranges, frame counts
//   tap.close();
//   await close();
//
// API:
//   SfuTap.attachToServer(server: ConclaveServer, roomId: string, options?: SfuTapOptions): Promise<SfuTap>
//   SfuTap.attachToRoom(room: Room, options?: SfuTapOptions): Promise<SfuTap>
//   SfuTap.attach(router: types.Router, options?: SfuTapOptions & { producers?: Iterable<types.Producer> })
//   tap.producers: ReadonlyMap<producerId, ProducerTap>;  tap.producerTaps(): ProducerTap[]
//   tap.frames(): TapFrame[];  tap.violations(): TapViolation[]
//   tap.waitFor(condition: (tap) => boolean, { timeoutMs?, what? }): Promise<void>
//   tap.waitForProducer(producerId: string, timeoutMs?): Promise<ProducerTap>
//   tap.close(): void (idempotent; the collected data stays readable)
//   ProducerTap: producerId, kind, mimeType, codec, source, peerId, packets, frames, violations,
//                okFrames, tracker (SFrameStreamTracker: per-KID counts and CTR ranges), summary()
//
// Producers made later are found through mediasoup's observers (router 'newtransport', transport
// 'newproducer'); a room's producers on transports made before the tap was attached are found by
// looking at the room's peers every 100 ms, so attach before anyone joins to miss no frame.
import type { types } from 'mediasoup';
import type { ConclaveServer } from '../../server/src/ConclaveServer.ts';
import type { Room } from '../../server/src/rooms/Room.ts';
import {
  H264Depacketizer,
  MalformedPacketError,
  Vp9Depacketizer,
  describeVp9Picture,
  vp9PlaintextPicture,
  SFrameStreamTracker,
  Vp8Depacketizer,
  inspectSFrameFrame,
  opusFrameFromPacket,
  parseRtpPacket,
  type AuditCodec,
  type FrameInspection,
  type FrameViolationCode,
  type InspectOptions,
  type KidStats,
  type MediaFrame,
  type RtpPacket,
  type Vp8DepacketizerStats,
} from '../../audit/src/index.ts';

export interface SfuTapOptions {
  /** RFC 9605 suite the senders use (its tag length); default 4. */
  suite?: number;
  /** KID policy and, when the test knows the group, S: see InspectOptions. */
  kidPolicy?: InspectOptions['kidPolicy'];
  indexBits?: number;
  /** Keep each frame's bytes in TapFrame.data (to compare with what was sent). Default false. */
  keepFrameData?: boolean;
  /** Frames kept per producer; older ones leave the list, counts go on. Default 10 000. */
  maxFramesPerProducer?: number;
}

export interface TapFrame {
  producerId: string;
  ssrc: number;
  /** Index of the simulcast encoding the SSRC belongs to (0 without simulcast). */
  layer: number;
  codec: AuditCodec;
  timestamp: number;
  size: number;
  inspection: FrameInspection;
  data?: Uint8Array;
}

export type TapViolationCode =
  | FrameViolationCode
  /** A CTR seen twice under one KID anywhere in the room: nonce reuse. */
  | 'ctr-reuse'
  /** Forwarded bytes that are not a well-formed RTP packet, VP8 or H.264 payload. */
  | 'malformed-packet'
  /** A VP9 frame that reads as a plaintext key frame (frame_sync_code where a key frame has it). */
  | 'vp9-plaintext'
  /** A codec the audit cannot reassemble: its frames were not checked. */
  | 'uninspected-codec';

export interface TapViolation {
  producerId: string;
  code: TapViolationCode;
  message: string;
  ssrc?: number;
  timestamp?: number;
  kid?: bigint;
  ctr?: bigint;
}

const CODECS: Record<string, AuditCodec> = {
  'video/vp8': 'vp8',
  'video/vp9': 'vp9',
  'video/h264': 'h264',
  'audio/opus': 'opus',
};

/** What the tap saw of one producer. */
export class ProducerTap {
  readonly producerId: string;
  readonly kind: types.MediaKind;
  /** Conclave's producers carry `source` ('mic' | 'camera' | 'screen') and `peerId` in appData. */
  readonly source: string | undefined;
  readonly peerId: string | undefined;
  readonly frames: TapFrame[] = [];
  readonly violations: TapViolation[] = [];
  /** Per-KID counts and CTR ranges of this producer's frames that passed inspection. */
  readonly tracker = new SFrameStreamTracker();
  #packets = 0;
  #okFrames = 0;
  #totalFrames = 0;
  #mimeType: string | undefined;
  readonly #layers = new Map<number, number>();
  readonly #payloadTypes = new Map<number, string>();
  readonly #depacketizers = new Map<number, Vp8Depacketizer | Vp9Depacketizer | H264Depacketizer>();
  #reportedUninspected = false;

  constructor(producer: types.Producer) {
    this.producerId = producer.id;
    this.kind = producer.kind;
    const { source, peerId } = producer.appData as { source?: unknown; peerId?: unknown };
    this.source = typeof source === 'string' ? source : undefined;
    this.peerId = typeof peerId === 'string' ? peerId : undefined;
  }

  /** RTP packets forwarded to the tap. */
  get packets(): number {
    return this.#packets;
  }

  /** Frames reassembled and inspected (the `frames` list may hold fewer: it is capped). */
  get totalFrames(): number {
    return this.#totalFrames;
  }

  /** Frames that passed inspection. */
  get okFrames(): number {
    return this.#okFrames;
  }

  /** The producer's codec, e.g. "video/VP8", once the tap's consumer exists. */
  get mimeType(): string | undefined {
    return this.#mimeType;
  }

  /** The codec the audit reassembles for this producer, once its consumer exists. */
  get codec(): AuditCodec | undefined {
    return this.#mimeType === undefined ? undefined : CODECS[this.#mimeType.toLowerCase()];
  }

  /** @internal Counts one inspected frame. */
  countFrame(ok: boolean): void {
    this.#totalFrames++;
    if (ok) this.#okFrames++;
  }

  /** @internal Called once the tap's consumer exists. */
  useConsumer(consumer: types.Consumer): void {
    const { codecs, encodings = [] } = consumer.rtpParameters;
    for (const codec of codecs) this.#payloadTypes.set(codec.payloadType, codec.mimeType);
    this.#mimeType = codecs[0]?.mimeType;
    encodings.forEach((encoding, index) => {
      if (encoding.ssrc !== undefined) this.#layers.set(encoding.ssrc, index);
    });
  }

  /** @internal One forwarded RTP packet; returns the frames it completed. */
  takePacket(bytes: Uint8Array): MediaFrame[] {
    this.#packets++;
    let packet: RtpPacket;
    try {
      packet = parseRtpPacket(bytes);
    } catch (error) {
      this.#malformed(error);
      return [];
    }
    const mimeType = this.#payloadTypes.get(packet.payloadType) ?? `payload type ${packet.payloadType}`;
    const codec = CODECS[mimeType.toLowerCase()];
    if (codec === undefined) {
      if (!this.#reportedUninspected) {
        this.#reportedUninspected = true;
        this.violations.push({
          producerId: this.producerId,
          code: 'uninspected-codec',
          message: `${mimeType} frames cannot be reassembled by the audit; none were checked`,
          ssrc: packet.ssrc,
        });
      }
      return [];
    }
    if (codec === 'opus') {
      const frame = opusFrameFromPacket(packet);
      return frame === undefined ? [] : [frame];
    }
    let depacketizer = this.#depacketizers.get(packet.ssrc);
    if (depacketizer === undefined) {
      depacketizer =
        codec === 'h264'
          ? new H264Depacketizer()
          : codec === 'vp9'
            ? new Vp9Depacketizer()
            : new Vp8Depacketizer();
      this.#depacketizers.set(packet.ssrc, depacketizer);
    }
    try {
      return depacketizer.push(packet);
    } catch (error) {
      this.#malformed(error, packet.ssrc);
      return [];
    }
  }

  /** @internal */
  layerOf(ssrc: number): number {
    return this.#layers.get(ssrc) ?? 0;
  }

  /** Per-SSRC VP8 reassembly counts (frames, discarded, late, duplicate, padding packets). */
  depacketizerStats(): Map<number, Vp8DepacketizerStats> {
    return new Map(
      [...this.#depacketizers].flatMap(([ssrc, d]) =>
        d instanceof Vp8Depacketizer ? [[ssrc, d.stats]] : [],
      ),
    );
  }

  /** A line for test output: what was sent under which KIDs. */
  summary(): {
    producerId: string;
    source: string | undefined;
    peerId: string | undefined;
    mimeType: string | undefined;
    packets: number;
    frames: number;
    okFrames: number;
    violations: number;
    kids: KidStats[];
  } {
    return {
      producerId: this.producerId,
      source: this.source,
      peerId: this.peerId,
      mimeType: this.mimeType,
      packets: this.packets,
      frames: this.totalFrames,
      okFrames: this.okFrames,
      violations: this.violations.length,
      kids: this.tracker.kids,
    };
  }

  #malformed(error: unknown, ssrc?: number): void {
    if (!(error instanceof MalformedPacketError)) throw error;
    this.violations.push({
      producerId: this.producerId,
      code: 'malformed-packet',
      message: error.message,
      ssrc,
    });
  }
}

interface AttachOptions extends SfuTapOptions {
  /** Producers that exist already (mediasoup has no public list of a router's producers). */
  producers?: Iterable<types.Producer>;
}

export class SfuTap {
  readonly #router: types.Router;
  readonly #transport: types.DirectTransport;
  readonly #options: SfuTapOptions;
  readonly #producers = new Map<string, ProducerTap>();
  readonly #consuming = new Set<string>();
  /** Room-wide: one KID is one key wherever it appears, so a CTR repeated across producers is reuse too. */
  readonly #roomTracker = new SFrameStreamTracker();
  readonly #onTransport = (transport: types.Transport) => this.#watch(transport);
  readonly #onProducer = (producer: types.Producer) => this.#consume(producer);
  readonly #watched = new Set<types.Transport>();
  #rescan: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  private constructor(router: types.Router, transport: types.DirectTransport, options: SfuTapOptions) {
    this.#router = router;
    this.#transport = transport;
    this.#options = options;
    router.observer.on('newtransport', this.#onTransport);
    transport.observer.once('close', () => this.close());
  }

  static async attach(router: types.Router, options: AttachOptions = {}): Promise<SfuTap> {
    // Transports made while the tap's own is being created are watched too.
    const early: types.Transport[] = [];
    const collect = (transport: types.Transport) => early.push(transport);
    router.observer.on('newtransport', collect);
    let transport: types.DirectTransport;
    try {
      transport = await router.createDirectTransport({
        maxMessageSize: 262_144,
        appData: { conclaveSfuTap: true },
      });
    } finally {
      router.observer.off('newtransport', collect);
    }
    const tap = new SfuTap(router, transport, options);
    for (const other of early) tap.#watch(other);
    for (const producer of options.producers ?? []) tap.#consume(producer);
    return tap;
  }

  /** Taps a room: its current producers, producers made later, and (every 100 ms) its peers' producers. */
  static async attachToRoom(room: Room, options: SfuTapOptions = {}): Promise<SfuTap> {
    const producersOf = () => [...room.peers.values()].flatMap((peer) => [...peer.producers.values()]);
    const tap = await SfuTap.attach(room.router, { ...options, producers: producersOf() });
    tap.#rescan = setInterval(() => {
      for (const producer of producersOf()) tap.#consume(producer);
    }, 100);
    tap.#rescan.unref();
    return tap;
  }

  /** Taps the room `roomId` of a running server, creating the room if nobody has joined yet. */
  static async attachToServer(
    server: ConclaveServer,
    roomId: string,
    options: SfuTapOptions = {},
  ): Promise<SfuTap> {
    return SfuTap.attachToRoom(await server.rooms.getOrCreate(roomId), options);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get producers(): ReadonlyMap<string, ProducerTap> {
    return this.#producers;
  }

  producerTaps(): ProducerTap[] {
    return [...this.#producers.values()];
  }

  frames(): TapFrame[] {
    return this.producerTaps().flatMap((p) => p.frames);
  }

  violations(): TapViolation[] {
    return this.producerTaps().flatMap((p) => p.violations);
  }

  async waitFor(
    condition: (tap: SfuTap) => boolean,
    { timeoutMs = 10_000, what = 'condition' }: { timeoutMs?: number; what?: string } = {},
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition(this)) {
      if (Date.now() > deadline) {
        const seen = JSON.stringify(
          this.producerTaps().map((p) => p.summary()),
          (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
        );
        throw new Error(`SFU tap: timed out waiting for ${what}; saw ${seen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Resolves once the tap consumes this producer (its consumer exists, so no later RTP is missed). */
  async waitForProducer(producerId: string, timeoutMs = 5000): Promise<ProducerTap> {
    await this.waitFor((tap) => tap.producers.get(producerId)?.mimeType !== undefined, {
      timeoutMs,
      what: `a consumer of producer ${producerId}`,
    });
    return this.#producers.get(producerId)!;
  }

  /** Stops tapping; what was collected stays readable. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#rescan !== undefined) clearInterval(this.#rescan);
    this.#router.observer.off('newtransport', this.#onTransport);
    for (const transport of this.#watched) transport.observer.off('newproducer', this.#onProducer);
    this.#watched.clear();
    if (!this.#transport.closed) this.#transport.close();
  }

  #watch(transport: types.Transport): void {
    if (transport === this.#transport || this.#watched.has(transport)) return;
    this.#watched.add(transport);
    transport.observer.on('newproducer', this.#onProducer);
    transport.observer.once('close', () => this.#watched.delete(transport));
  }

  #consume(producer: types.Producer): void {
    if (this.#closed || producer.closed || this.#consuming.has(producer.id)) return;
    this.#consuming.add(producer.id);
    const entry = new ProducerTap(producer);
    this.#producers.set(producer.id, entry);
    void this.#transport
      .consume({
        producerId: producer.id,
        rtpCapabilities: this.#router.rtpCapabilities,
        // A pipe consumer forwards every simulcast layer, not the one a client would choose.
        pipe: true,
        enableRtx: false,
        paused: false,
      })
      .then((consumer) => {
        if (this.#closed) {
          consumer.close();
          return;
        }
        entry.useConsumer(consumer);
        consumer.on('rtp', (bytes: Buffer) => this.#onRtp(entry, bytes));
      })
      .catch(() => {
        // The producer (or the router) closed before the consumer was made: nothing to tap.
      });
  }

  #onRtp(entry: ProducerTap, bytes: Buffer): void {
    const { maxFramesPerProducer = 10_000, keepFrameData = false } = this.#options;
    for (const frame of entry.takePacket(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))) {
      const inspection = inspectSFrameFrame(frame.data, frame.codec, {
        suite: this.#options.suite,
        kidPolicy: this.#options.kidPolicy,
        indexBits: this.#options.indexBits,
      });
      const vp9Picture = inspection.ok && frame.codec === 'vp9' ? vp9PlaintextPicture(frame.data) : undefined;
      entry.countFrame(inspection.ok && vp9Picture === undefined);
      entry.frames.push({
        producerId: entry.producerId,
        ssrc: frame.ssrc,
        layer: entry.layerOf(frame.ssrc),
        codec: frame.codec,
        timestamp: frame.timestamp,
        size: frame.data.length,
        inspection,
        ...(keepFrameData ? { data: frame.data.slice() } : {}),
      });
      if (entry.frames.length > maxFramesPerProducer) entry.frames.shift();
      const where = { producerId: entry.producerId, ssrc: frame.ssrc, timestamp: frame.timestamp };
      if (!inspection.ok) {
        const { code, message, kid, ctr } = inspection.violation;
        entry.violations.push({ ...where, code, message, ...(kid === undefined ? {} : { kid, ctr }) });
        continue;
      }
      if (vp9Picture !== undefined) {
        const message = `reads as a plaintext ${describeVp9Picture(vp9Picture)}`;
        entry.violations.push({
          ...where,
          code: 'vp9-plaintext',
          message,
          kid: inspection.kid,
          ctr: inspection.ctr,
        });
        continue;
      }
      entry.tracker.record(inspection);
      const reuse = this.#roomTracker.record(inspection);
      if (reuse !== undefined) {
        entry.violations.push({
          ...where,
          code: reuse.code,
          message: reuse.message,
          kid: reuse.kid,
          ctr: reuse.ctr,
        });
      }
    }
  }
}
