// A participant's media on the SFU: its transports, producers and consumers. A Peer never holds
// its Room; it sends notifications to its own client through the `notify` callback it is given.
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { ConclaveError, InvalidStateError } from '../errors.ts';
import { WEBRTC_TRANSPORT_LIMITS } from '../media/mediasoupConfig.ts';
import {
  isLoopbackIpv4,
  openPlainTransport,
  plainTransportInfo,
  plainTransportsDisabled,
  type PlainTransportInfo,
} from '../media/plainTransport.ts';
import { isPortExhaustion, serverFull, type TransportBudget } from '../media/TransportBudget.ts';
import { dtlsParametersSchema } from '../signaling/mediasoupSchemas.ts';
import type {
  ConsumerInfo,
  MediaSource,
  Notification,
  PeerInfo,
  TransportInfo,
} from '../signaling/protocol.ts';

export interface PeerLimits {
  maxProducers: number;
  maxConsumers: number;
  /**
   * Cameras received at once (issue #17: a client consumes the cameras of the tiles on screen).
   * Defence in depth; default DEFAULT_MAX_CAMERA_CONSUMERS.
   */
  maxCameraConsumers?: number;
}

/** More camera tiles than any screen shows at once (25 at 1920 px), with room for paging. */
export const DEFAULT_MAX_CAMERA_CONSUMERS = 64;

export interface TransportSettings {
  /** Where transports listen, in candidate-priority order (rtcListenAddresses.ts). */
  listenIps: types.TransportListenIp[];
  iceServers: RTCIceServer[];
  /** Server-wide transport cap; absent, only the per-peer cap applies. */
  budget?: TransportBudget;
  /** SRTP PlainTransports for load tests (CONCLAVE_LOAD_PLAIN_TRANSPORTS=1); off by default. */
  plainTransports?: boolean;
}

type Direction = 'send' | 'recv';

interface PeerEvents {
  closed: [];
  /** A transport completed its DTLS handshake: media can flow (call-setup metrics time this). */
  transportConnected: [direction: Direction];
}

export class Peer extends EventEmitter<PeerEvents> {
  readonly id: string;
  readonly userId: string;
  readonly displayName: string;
  readonly #notify: (notification: Notification) => void;
  readonly #limits: PeerLimits;
  /** WebRTC transports, or SRTP PlainTransports on a load-test server (media/plainTransport.ts). */
  readonly #transports = new Map<string, types.WebRtcTransport | types.PlainTransport>();
  /** Transports whose connect() has been called: DTLS parameters are given once. */
  readonly #connecting = new Set<string>();
  readonly #producers = new Map<string, types.Producer>();
  readonly #consumers = new Map<string, types.Consumer>();
  /** Producers this peer consumes or is about to, with their source: a newcomer's join and a new
   *  producer may both offer the same microphone, and a client may ask twice for one camera; each
   *  producer gives this peer one consumer at a time, not two. */
  readonly #consumed = new Map<string, MediaSource>();
  #rtpCapabilities: types.RtpCapabilities | undefined;
  #rejoining = false;
  #closed = false;

  constructor(options: {
    id: string;
    userId: string;
    displayName: string;
    notify: (notification: Notification) => void;
    limits: PeerLimits;
  }) {
    super();
    this.id = options.id;
    this.userId = options.userId;
    this.displayName = options.displayName;
    this.#notify = options.notify;
    this.#limits = options.limits;
  }

  get info(): PeerInfo {
    return { peerId: this.id, userId: this.userId, displayName: this.displayName };
  }

  get joined(): boolean {
    return this.#rtpCapabilities !== undefined;
  }

  get rtpCapabilities(): types.RtpCapabilities | undefined {
    return this.#rtpCapabilities;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The client said its media failed and it will rejoin (reportMediaFailure). */
  get rejoining(): boolean {
    return this.#rejoining;
  }

  markRejoining(): void {
    this.#rejoining = true;
  }

  get producers(): ReadonlyMap<string, types.Producer> {
    return this.#producers;
  }

  get consumerCount(): number {
    return this.#consumers.size;
  }

  get consumers(): ReadonlyMap<string, types.Consumer> {
    return this.#consumers;
  }

  get transports(): ReadonlyMap<string, types.WebRtcTransport | types.PlainTransport> {
    return this.#transports;
  }

  notify(notification: Notification): void {
    if (!this.#closed) this.#notify(notification);
  }

  markJoined(rtpCapabilities: types.RtpCapabilities): void {
    if (this.joined) throw new InvalidStateError('already joined');
    this.#rtpCapabilities = rtpCapabilities;
  }

  async createTransport(
    router: types.Router,
    direction: Direction,
    settings: TransportSettings,
  ): Promise<TransportInfo> {
    this.#assertOpen();
    if (this.#transportFor(direction) !== undefined) {
      throw new InvalidStateError(`a ${direction} transport exists already`);
    }
    const release = settings.budget?.reserve() ?? (() => {});
    let transport: types.WebRtcTransport;
    try {
      transport = await router.createWebRtcTransport({
        listenIps: settings.listenIps,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: WEBRTC_TRANSPORT_LIMITS.initialAvailableOutgoingBitrate,
        appData: { direction },
      });
    } catch (error) {
      release();
      // Every port of the media range is taken: the server is full, not broken.
      throw isPortExhaustion(error) ? serverFull() : error;
    }
    transport.observer.once('close', release);
    if (this.#closed) {
      transport.close();
      throw new InvalidStateError('peer closed');
    }
    this.#transports.set(transport.id, transport);
    transport.observer.once('close', () => this.#transports.delete(transport.id));
    transport.on('dtlsstatechange', (state) => {
      if (state === 'connected') this.emit('transportConnected', direction);
    });
    if (direction === 'send') {
      await transport.setMaxIncomingBitrate(WEBRTC_TRANSPORT_LIMITS.maxIncomingBitrate);
    }
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      // mediasoup types the fingerprint algorithm as any string; the wire names the five it uses.
      dtlsParameters: dtlsParametersSchema.parse(transport.dtlsParameters),
      iceServers: settings.iceServers,
    };
  }

  async connectTransport(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    const transport = this.#webRtcTransport(transportId);
    // Refused here, before the worker would refuse it with an error that reads as internal.
    if (this.#connecting.has(transportId)) throw new InvalidStateError('the transport is connected already');
    this.#connecting.add(transportId);
    try {
      await transport.connect({ dtlsParameters });
    } catch (error) {
      // mediasoup found the parameters wrong (a TypeError, the client's error): it may try again.
      this.#connecting.delete(transportId);
      throw error;
    }
  }

  async restartIce(transportId: string): Promise<types.IceParameters> {
    return this.#webRtcTransport(transportId).restartIce();
  }

  /** A load-test SRTP PlainTransport in place of a WebRTC one (one per direction all the same). */
  async createPlainTransport(
    router: types.Router,
    direction: Direction,
    settings: TransportSettings,
  ): Promise<PlainTransportInfo> {
    this.#assertOpen();
    if (settings.plainTransports !== true) throw plainTransportsDisabled();
    if (this.#transportFor(direction) !== undefined) {
      throw new InvalidStateError(`a ${direction} transport exists already`);
    }
    const transport = await openPlainTransport(router, direction, settings.budget);
    if (this.#closed) {
      transport.close();
      throw new InvalidStateError('peer closed');
    }
    this.#transports.set(transport.id, transport);
    transport.observer.once('close', () => this.#transports.delete(transport.id));
    return plainTransportInfo(transport);
  }

  /** Where the SFU sends this plain transport's SRTP (loopback only), and the client's SRTP key. */
  async connectPlainTransport(
    transportId: string,
    remote: { ip: string; port: number; rtcpPort?: number | undefined; srtpParameters: types.SrtpParameters },
  ): Promise<void> {
    const transport = this.#transport(transportId);
    if (transport.appData['plain'] !== true) throw new InvalidStateError('not a plain transport');
    if (!isLoopbackIpv4(remote.ip)) throw new ConclaveError('bad-request', 'ip: must be a loopback address');
    if (this.#connecting.has(transportId)) throw new InvalidStateError('the transport is connected already');
    this.#connecting.add(transportId);
    try {
      const { ip, port, rtcpPort, srtpParameters } = remote;
      await (transport as types.PlainTransport).connect(
        rtcpPort === undefined ? { ip, port, srtpParameters } : { ip, port, rtcpPort, srtpParameters },
      );
      this.emit('transportConnected', transport.appData['direction'] as Direction);
    } catch (error) {
      this.#connecting.delete(transportId);
      throw error;
    }
  }

  async produce(
    transportId: string,
    kind: types.MediaKind,
    rtpParameters: types.RtpParameters,
    source: MediaSource,
  ): Promise<types.Producer> {
    this.#assertOpen();
    if (!this.joined) throw new InvalidStateError('join before producing');
    const transport = this.#transport(transportId);
    if (transport.appData['direction'] !== 'send')
      throw new InvalidStateError('produce needs the send transport');
    if (this.#producers.size >= this.#limits.maxProducers) {
      throw new ConclaveError(
        'forbidden',
        `at most ${this.#limits.maxProducers} producers per participant`,
        429,
      );
    }
    if ([...this.#producers.values()].some((p) => p.appData['source'] === source)) {
      throw new InvalidStateError(`a ${source} producer exists already`);
    }
    const expectedKind = source === 'mic' ? 'audio' : 'video';
    if (kind !== expectedKind) throw new ConclaveError('bad-request', `${source} must be ${expectedKind}`);
    const producer = await transport.produce({ kind, rtpParameters, appData: { source, peerId: this.id } });
    if (this.#closed) {
      // The peer left while mediasoup was creating it: its closed transport will not close it.
      producer.close();
      throw new InvalidStateError('peer closed');
    }
    this.#producers.set(producer.id, producer);
    producer.observer.once('close', () => this.#producers.delete(producer.id));
    return producer;
  }

  producer(producerId: string): types.Producer {
    const producer = this.#producers.get(producerId);
    if (producer === undefined) throw new ConclaveError('not-found', 'no such producer', 404);
    return producer;
  }

  /** Whether this peer consumes `producerId` now, or is about to. */
  consumes(producerId: string): boolean {
    return this.#consumed.has(producerId);
  }

  /**
   * Creates a paused consumer of another peer's producer; the client resumes it when ready.
   * @throws InvalidStateError before the join, without a receive transport, or when this peer
   *   consumes that producer already; ConclaveError 'bad-request' when its device cannot receive
   *   the stream, 'forbidden' (429) past a consumer cap.
   */
  async consume(
    router: types.Router,
    producer: types.Producer,
    producerPeerId: string,
  ): Promise<ConsumerInfo> {
    this.#assertOpen();
    const rtpCapabilities = this.#rtpCapabilities;
    if (rtpCapabilities === undefined) throw new InvalidStateError('join before consuming');
    const transport = this.#transportFor('recv');
    if (transport === undefined) throw new InvalidStateError('create a receive transport first');
    if (this.#consumed.has(producer.id)) throw new InvalidStateError('this stream is consumed already');
    const source = producer.appData['source'] as MediaSource;
    this.#assertBelowCaps(source);
    if (!router.canConsume({ producerId: producer.id, rtpCapabilities })) {
      throw new ConclaveError('bad-request', 'this device cannot receive that stream');
    }
    this.#consumed.set(producer.id, source);
    let consumer: types.Consumer;
    try {
      consumer = await transport.consume({
        producerId: producer.id,
        rtpCapabilities,
        paused: true,
        appData: { source, peerId: producerPeerId },
      });
    } catch (error) {
      this.#consumed.delete(producer.id);
      throw error;
    }
    if (this.#closed) {
      consumer.close();
      throw new InvalidStateError('peer closed');
    }
    this.#track(consumer, producer.id);
    return {
      consumerId: consumer.id,
      producerId: producer.id,
      peerId: producerPeerId,
      kind: consumer.kind,
      source,
      rtpParameters: consumer.rtpParameters,
      producerPaused: consumer.producerPaused,
    };
  }

  /** Pauses one of this peer's consumers at the SFU: no packet of it flows until resumed. */
  async pauseConsumer(consumerId: string): Promise<void> {
    await this.consumer(consumerId).pause();
  }

  /**
   * Closes a camera consumer at its client's request (a tile off screen for a while). Microphones
   * and screens are pushed, and end with their producer: a client cannot consume them again.
   */
  closeConsumer(consumerId: string): void {
    const consumer = this.consumer(consumerId);
    if (consumer.appData['source'] !== 'camera') {
      throw new ConclaveError(
        'bad-request',
        'only a camera consumer can be closed; it can be consumed again',
      );
    }
    this.#consumers.delete(consumerId);
    this.#consumed.delete(consumer.producerId);
    consumer.close();
  }

  #assertBelowCaps(source: MediaSource): void {
    if (this.#consumed.size >= this.#limits.maxConsumers) {
      throw new ConclaveError(
        'forbidden',
        `at most ${this.#limits.maxConsumers} consumers per participant`,
        429,
      );
    }
    const maxCameras = this.#limits.maxCameraConsumers ?? DEFAULT_MAX_CAMERA_CONSUMERS;
    const cameras = [...this.#consumed.values()].filter((s) => s === 'camera').length;
    if (source === 'camera' && cameras >= maxCameras) {
      throw new ConclaveError('forbidden', `at most ${maxCameras} cameras received at once`, 429);
    }
  }

  /** Keeps a consumer until it closes, telling the client when the SFU closes it. */
  #track(consumer: types.Consumer, producerId: string): void {
    this.#consumers.set(consumer.id, consumer);
    const forget = () => {
      this.#consumed.delete(producerId);
      if (this.#consumers.delete(consumer.id))
        this.notify({ type: 'consumerClosed', data: { consumerId: consumer.id } });
    };
    consumer.on('transportclose', forget);
    consumer.on('producerclose', forget);
    consumer.on('producerpause', () =>
      this.notify({ type: 'consumerPaused', data: { consumerId: consumer.id } }),
    );
    consumer.on('producerresume', () =>
      this.notify({ type: 'consumerResumed', data: { consumerId: consumer.id } }),
    );
  }

  consumer(consumerId: string): types.Consumer {
    const consumer = this.#consumers.get(consumerId);
    if (consumer === undefined) throw new ConclaveError('not-found', 'no such consumer', 404);
    return consumer;
  }

  /** Closes every transport (and with them every producer and consumer). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const transport of this.#transports.values()) transport.close();
    this.#transports.clear();
    this.#producers.clear();
    this.#consumers.clear();
    this.#consumed.clear();
    this.emit('closed');
  }

  #transport(transportId: string): types.WebRtcTransport | types.PlainTransport {
    const transport = this.#transports.get(transportId);
    if (transport === undefined) throw new ConclaveError('not-found', 'no such transport', 404);
    return transport;
  }

  #webRtcTransport(transportId: string): types.WebRtcTransport {
    const transport = this.#transport(transportId);
    if (transport.appData['plain'] === true)
      throw new InvalidStateError('a plain transport has no DTLS or ICE');
    return transport as types.WebRtcTransport;
  }

  #transportFor(direction: Direction): types.WebRtcTransport | types.PlainTransport | undefined {
    return [...this.#transports.values()].find((t) => t.appData['direction'] === direction);
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('peer closed');
  }
}
