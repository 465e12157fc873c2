// One connection's media path to the SFU: mediasoup-client's device, the send and receive
// transports, our producers and the consumers of everyone else's media. MeetingSession makes one
// per connection attempt and closes it when that connection goes; nothing here outlives it.
//
// What must hold: every consumer gets its decrypting transform before negotiation (onRtpReceiver)
// and every producer its encrypting one (onRtpSender), so no frame reaches a decoder or leaves this
// browser unencrypted; and there is at most one producer per source, even when the join's path and
// a button race to send it.
import type { ConsumerInfo, MediaSource } from '@conclave/server/protocol';
import { Device, type types } from 'mediasoup-client';
import type { Session } from '../api.ts';
import { MeetingEncryption } from '../e2ee/MeetingEncryption.svelte.ts';
import type { SignalingClient } from '../signaling/SignalingClient.ts';
import {
  connectDtlsParameters,
  consumerRtpParameters,
  joinCapabilities,
  produceRtpParameters,
  producerSource,
  routerCapabilities,
  transportParameters,
} from '../signaling/mediasoupWire.ts';
import { SCREEN_ENCODINGS } from './screenShare.ts';
import { cameraEncodings } from './simulcast.ts';
import type { Participant } from './Participant.svelte.ts';
import { type VideoCodecName, chooseVideoCodec, encodingsForCodec } from './videoCodec.ts';

/** A stream's encryption state, as its sender's or receiver's transform reports it. */
type CryptoState = NonNullable<Participant['crypto'][MediaSource]>;

export type Direction = 'send' | 'recv';

export interface MediaTransportsOptions {
  signaling: SignalingClient;
  /** The session whose ICE servers (with its own TURN credential) and policy the transports use. */
  session: Session;
  encryption: MeetingEncryption;
  /** The video codec the meeting link asked for (videoCodec.ts); used when the browser shares it. */
  videoCodec: VideoCodecName | undefined;
  /** A transport's connection state changed ('connected', 'failed', …). */
  onConnectionState: (direction: Direction, state: string) => void;
}

/** A consumer of one of another participant's streams. */
export interface ConsumerEntry {
  consumer: types.Consumer;
  peerId: string;
  source: MediaSource;
  /** The simulcast layer last asked for (setPreferredLayer). */
  layer?: number;
  /** Paused at the server by us: created so, or its tile left the screen. */
  pausedHere: boolean;
}

export class MediaTransports {
  readonly #options: MediaTransportsOptions;
  #device: Device | undefined;
  #sendTransport: types.Transport | undefined;
  #recvTransport: types.Transport | undefined;
  readonly #producers = new Map<MediaSource, types.Producer>();
  /** Sources whose producer is being negotiated (produce). */
  readonly #producing = new Set<MediaSource>();
  readonly #consumers = new Map<string, ConsumerEntry>();

  constructor(options: MediaTransportsOptions) {
    this.#options = options;
  }

  /**
   * Loads the device with the router's capabilities and creates both transports.
   * @param during - races each request with the connection being lost or refused.
   */
  async open(during: <T>(step: Promise<T>) => Promise<T>): Promise<void> {
    const { signaling } = this.#options;
    const { rtpCapabilities } = await during(signaling.request('getRouterRtpCapabilities', {}));
    this.#device = new Device();
    await this.#device.load({ routerRtpCapabilities: routerCapabilities(rtpCapabilities) });
    this.#sendTransport = await during(this.#createTransport('send'));
    this.#recvTransport = await during(this.#createTransport('recv'));
  }

  /** What `join` tells the server this device can receive. */
  joinCapabilities(): ReturnType<typeof joinCapabilities> {
    return joinCapabilities(need(this.#device, 'device').rtpCapabilities);
  }

  producer(source: MediaSource): types.Producer | undefined {
    return this.#producers.get(source);
  }

  /**
   * Sends `track` as `source`, its encrypting transform attached before negotiation.
   * @returns the producer, or undefined when this source is produced or being produced already.
   */
  async produce(
    source: MediaSource,
    track: MediaStreamTrack,
    onCrypto: (state: CryptoState) => void,
  ): Promise<types.Producer | undefined> {
    if (this.#producers.has(source) || this.#producing.has(source)) return undefined;
    this.#producing.add(source);
    try {
      return await this.#produceNow(source, track, onCrypto);
    } finally {
      this.#producing.delete(source);
    }
  }

  async #produceNow(
    source: MediaSource,
    track: MediaStreamTrack,
    onCrypto: (state: CryptoState) => void,
  ): Promise<types.Producer> {
    const { encryption } = this.#options;
    const codec =
      source === 'mic'
        ? undefined
        : chooseVideoCodec(
            need(this.#device, 'device').rtpCapabilities.codecs ?? [],
            this.#options.videoCodec,
          );
    const encoding = encodingOptions(source, track);
    if (encoding.encodings !== undefined) encoding.encodings = encodingsForCodec(encoding.encodings, codec);
    const producer = await need(this.#sendTransport, 'send transport').produce({
      track,
      appData: { source },
      ...(codec === undefined ? {} : { codec }),
      // The tracks outlive a connection: a rejoin sends them again. leave() stops them.
      stopTracks: false,
      // Runs before negotiation, so the encrypting transform is in place before the first frame.
      onRtpSender: (sender) => encryption.attachSender(sender, source, onCrypto),
      ...encoding,
    });
    this.#producers.set(source, producer);
    return producer;
  }

  async closeProducer(source: MediaSource, producer: types.Producer): Promise<void> {
    if (this.#producers.get(source) === producer) this.#producers.delete(source);
    producer.close();
    await this.#options.signaling.request('closeProducer', { producerId: producer.id }).catch(() => {});
  }

  /**
   * Receives one of `userId`'s pushed streams (a microphone or a screen), its decrypting transform
   * attached before negotiation, and resumes it at the server.
   * @returns the track it plays.
   */
  async consume(
    info: ConsumerInfo,
    userId: string,
    onCrypto: (state: CryptoState) => void,
  ): Promise<MediaStreamTrack> {
    const consumer = await this.#receive(info, userId, onCrypto);
    await this.resumeConsumer(consumer.id);
    return consumer.track;
  }

  /**
   * Asks for `userId`'s camera `producerId` (issue #17: cameras on demand) and receives it, its
   * decrypting transform attached before negotiation; it stays paused at the server until
   * `resumeConsumer`. `layer`: the simulcast layer to ask for at once, when the tile's size is known.
   */
  async consumeCamera(
    producerId: string,
    userId: string,
    onCrypto: (state: CryptoState) => void,
    layer: number | undefined,
  ): Promise<{ consumerId: string; track: MediaStreamTrack }> {
    const info = await this.#options.signaling.request('consume', { producerId });
    // The decrypting transform expects this user's camera KIDs whatever the server says; an answer
    // about another stream is refused before anything is negotiated.
    if (info.producerId !== producerId || info.source !== 'camera' || info.kind !== 'video') {
      await this.#closeAtServer(info.consumerId);
      throw new Error('the server answered with another stream');
    }
    let consumer: types.Consumer;
    try {
      consumer = await this.#receive(info, userId, onCrypto);
    } catch (error) {
      await this.#closeAtServer(info.consumerId);
      throw error;
    }
    if (layer !== undefined) this.setPreferredLayer(consumer.id, layer);
    return { consumerId: consumer.id, track: consumer.track };
  }

  async resumeConsumer(consumerId: string): Promise<void> {
    await this.#options.signaling.request('resumeConsumer', { consumerId });
    const entry = this.#consumers.get(consumerId);
    if (entry !== undefined) entry.pausedHere = false;
  }

  /** Stops a consumer's packets at the SFU (its tile left the screen). */
  async pauseConsumer(consumerId: string): Promise<void> {
    const entry = this.#consumers.get(consumerId);
    if (entry !== undefined) entry.pausedHere = true;
    await this.#options.signaling.request('pauseConsumer', { consumerId });
  }

  /** Closes a camera consumer here and at the server (one the server closed already is fine). */
  async closeConsumer(consumerId: string): Promise<void> {
    this.dropConsumer(consumerId);
    await this.#closeAtServer(consumerId);
  }

  /** The consumer with this id, if it is ours. */
  consumer(consumerId: string): ConsumerEntry | undefined {
    return this.#consumers.get(consumerId);
  }

  /** Closes a consumer the server closed; returns whose stream it was. */
  dropConsumer(consumerId: string): ConsumerEntry | undefined {
    const entry = this.#consumers.get(consumerId);
    if (entry === undefined) return undefined;
    entry.consumer.close();
    this.#consumers.delete(consumerId);
    return entry;
  }

  /** Asks for the simulcast layer `layer` of a camera consumer (unless it is the one asked for last). */
  setPreferredLayer(consumerId: string, layer: number): void {
    const entry = this.#consumers.get(consumerId);
    if (entry === undefined || entry.layer === layer) return;
    entry.layer = layer;
    void this.#options.signaling
      .request('setConsumerPreferredLayers', { consumerId, spatialLayer: layer })
      .catch(() => {});
  }

  async #receive(
    info: ConsumerInfo,
    userId: string,
    onCrypto: (state: CryptoState) => void,
  ): Promise<types.Consumer> {
    const { encryption } = this.#options;
    const consumer = await need(this.#recvTransport, 'receive transport').consume({
      id: info.consumerId,
      producerId: info.producerId,
      kind: info.kind,
      rtpParameters: consumerRtpParameters(info),
      // Runs before negotiation: no frame reaches the decoder without passing the decrypting transform.
      onRtpReceiver: (receiver) =>
        encryption.attachReceiver(receiver, { userId, source: info.source }, onCrypto),
    });
    this.#consumers.set(consumer.id, {
      consumer,
      peerId: info.peerId,
      source: info.source,
      pausedHere: true,
    });
    return consumer;
  }

  async #closeAtServer(consumerId: string): Promise<void> {
    await this.#options.signaling.request('closeConsumer', { consumerId }).catch(() => {});
  }

  /** Each consumer's and producer's statistics, by peer id (`selfId` for our producers). */
  async streamStats(selfId: string | undefined): Promise<Map<string, RTCStatsReport[]>> {
    const byPeer = new Map<string, RTCStatsReport[]>();
    const add = (peerId: string | undefined, report: RTCStatsReport) => {
      if (peerId !== undefined) byPeer.set(peerId, [...(byPeer.get(peerId) ?? []), report]);
    };
    const reading = [
      // A camera paused because its tile is off screen receives nothing: it says nothing of the link.
      ...[...this.#consumers.values()]
        .filter(({ pausedHere }) => !pausedHere)
        .map(({ consumer, peerId }) => consumer.getStats().then((report) => add(peerId, report))),
      ...[...this.#producers.values()].map((producer) =>
        producer.getStats().then((report) => add(selfId, report)),
      ),
    ];
    await Promise.allSettled(reading);
    return byPeer;
  }

  /**
   * Hands the renewed TURN credential to the open transports, then restarts ICE on them: coturn
   * checks the credential on every allocation refresh, so an allocation must move to the new one
   * before the old one expires. Static servers (the same list again) need nothing.
   */
  async renewIceServers(previous: RTCIceServer[], iceServers: RTCIceServer[]): Promise<void> {
    if (JSON.stringify(previous) === JSON.stringify(iceServers)) return;
    const { signaling } = this.#options;
    for (const transport of [this.#sendTransport, this.#recvTransport]) {
      if (transport === undefined || transport.closed) continue;
      try {
        await transport.updateIceServers({ iceServers });
        const { iceParameters } = await signaling.request('restartIce', { transportId: transport.id });
        await transport.restartIce({ iceParameters });
      } catch (error) {
        console.warn(`renewing the TURN credential failed: ${(error as Error).message}`);
      }
    }
  }

  /** Closes both transports, and with them every consumer and producer. */
  close(): void {
    for (const { consumer } of this.#consumers.values()) consumer.close();
    this.#consumers.clear();
    this.#producers.clear();
    this.#sendTransport?.close();
    this.#recvTransport?.close();
    this.#sendTransport = undefined;
    this.#recvTransport = undefined;
  }

  async #createTransport(direction: Direction): Promise<types.Transport> {
    const { signaling, session } = this.#options;
    const info = await signaling.request('createTransport', { direction });
    const options = {
      ...transportParameters(info),
      // The session's list carries this user's own TURN credential (renewed with the session).
      iceServers: session.iceServers,
      iceTransportPolicy: session.iceTransportPolicy,
    };
    // Browsers with only the legacy encoded-streams API need it switched on per connection.
    const additionalSettings = MeetingEncryption.needsEncodedInsertableStreams()
      ? ({ encodedInsertableStreams: true } as Partial<RTCConfiguration>)
      : undefined;
    const device = need(this.#device, 'device');
    const transport =
      direction === 'send'
        ? device.createSendTransport({ ...options, additionalSettings })
        : device.createRecvTransport({ ...options, additionalSettings });
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      Promise.resolve()
        .then(() =>
          signaling.request('connectTransport', {
            transportId: transport.id,
            dtlsParameters: connectDtlsParameters(dtlsParameters),
          }),
        )
        .then(() => callback(), errback);
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      Promise.resolve()
        .then(() =>
          signaling.request('produce', {
            transportId: transport.id,
            kind,
            rtpParameters: produceRtpParameters(rtpParameters),
            source: producerSource(appData),
          }),
        )
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });
    transport.on('connectionstatechange', (state) => this.#options.onConnectionState(direction, state));
    return transport;
  }
}

/** How each kind of stream is encoded: simulcast for the camera, one sharp layer for a screen. */
function encodingOptions(source: MediaSource, track: MediaStreamTrack): Partial<types.ProducerOptions> {
  switch (source) {
    case 'camera':
      return {
        encodings: cameraEncodings(track.getSettings()),
        codecOptions: { videoGoogleStartBitrate: 1000 },
      };
    case 'screen':
      return { encodings: SCREEN_ENCODINGS, codecOptions: { videoGoogleStartBitrate: 1000 } };
    case 'mic':
      return { codecOptions: { opusStereo: false, opusDtx: true, opusFec: true } };
  }
}

/** A part that must exist by this point of the join sequence. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the ${what} is not ready`);
  return value;
}
