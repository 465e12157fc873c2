// A joined meeting: the signaling connection, mediasoup-client's device and transports, the local
// producers and the consumers of everyone else's media, and the meeting's end-to-end encryption.
//
// Joining: authenticate, enter the room (consumers start arriving, each with a decrypting transform
// attached before negotiation, so nothing undecrypted reaches a decoder), join the MLS group and
// install its keys in the crypto worker, and only then produce, each producer's encrypting
// transform attached before negotiation (mediasoup-client's onRtpSender), so no frame ever leaves
// unencrypted.
import type {
  ConsumerInfo,
  MediaSource,
  Notification,
  PeerInfo,
  RequestData,
} from '@conclave/server/protocol';
import { Device, type types } from 'mediasoup-client';
import { api, type Session } from '../api.ts';
import { MeetingEncryption } from '../e2ee/MeetingEncryption.svelte.ts';
import { SignalingClient } from '../signaling/SignalingClient.ts';
import { Participant } from './Participant.svelte.ts';
import { CAMERA_ENCODINGS, spatialLayerForHeight } from './simulcast.ts';

export type MeetingStatus = 'connecting' | 'joined' | 'reconnecting' | 'left' | 'failed';

const RECONNECT_DELAYS_MS = [1000, 2000, 4000, 8000, 8000, 8000];
/** Renew the session token this long before it expires, so a reconnect never holds a dead one. */
const RENEW_MARGIN_MS = 60_000;

export class MeetingSession {
  status = $state<MeetingStatus>('connecting');
  error = $state<string | null>(null);
  participants = $state<Participant[]>([]);
  activeSpeakerId = $state<string | null>(null);
  micOn = $state(false);
  cameraOn = $state(false);
  /** Created with the first session; lives across reconnections, closed on leave. */
  encryption = $state<MeetingEncryption | null>(null);

  readonly #invite: string;
  readonly #name: string;
  readonly #openCamera: () => Promise<MediaStreamTrack>;
  #session: Session | undefined;
  #signaling: SignalingClient | undefined;
  #device: Device | undefined;
  #sendTransport: types.Transport | undefined;
  #recvTransport: types.Transport | undefined;
  // Bookkeeping only; the UI reads `participants`, so these maps need no reactivity.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #producers = new Map<MediaSource, types.Producer>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #consumers = new Map<
    string,
    { consumer: types.Consumer; peerId: string; source: MediaSource; layer?: number }
  >();
  #localTracks: Partial<Record<MediaSource, MediaStreamTrack>> = {};
  /**
   * Notifications run one at a time, in order, and only once the join result is in: the server
   * creates consumers for existing media while it handles `join`, before its answer arrives.
   */
  #notifications: Promise<void> = Promise.resolve();
  #releaseNotifications: () => void = () => {};
  #attempt = 0;
  /** Counts joins, so work left over from an earlier attempt can tell it is stale. */
  #generation = 0;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: {
    invite: string;
    name: string;
    tracks: { mic?: MediaStreamTrack | null; camera?: MediaStreamTrack | null };
    openCamera: () => Promise<MediaStreamTrack>;
  }) {
    this.#invite = options.invite;
    this.#name = options.name;
    this.#openCamera = options.openCamera;
    if (options.tracks.mic) this.#localTracks.mic = options.tracks.mic;
    if (options.tracks.camera) this.#localTracks.camera = options.tracks.camera;
  }

  get self(): Participant | undefined {
    return this.participants.find((p) => p.isLocal);
  }

  async join(): Promise<void> {
    this.status = this.#attempt === 0 ? 'connecting' : 'reconnecting';
    this.error = null;
    try {
      this.#session = await api.createSession(this.#invite, this.#name, this.#session?.session);
      this.#scheduleRenewal();
      this.#startEncryption(this.#session.userId);
      const generation = ++this.#generation;
      await this.#connect();
      this.#attempt = 0;
      this.status = 'joined';
      void this.#produceWhenKeyed(generation);
    } catch (error) {
      this.#teardownMedia();
      this.#signaling?.close();
      const message = (error as Error).message;
      console.warn(`joining failed: ${message}`);
      const code = (error as { code?: string }).code;
      if (
        code === 'token-expired' ||
        code === 'token-invalid' ||
        code === 'wrong-room' ||
        code === 'room-full'
      ) {
        this.fail(message);
      } else {
        this.#scheduleReconnect(message);
      }
    }
  }

  async toggleMic(): Promise<void> {
    const producer = this.#producers.get('mic');
    if (producer === undefined || this.#signaling === undefined) return;
    if (producer.paused) {
      producer.resume();
      await this.#signaling.request('resumeProducer', { producerId: producer.id });
    } else {
      producer.pause();
      await this.#signaling.request('pauseProducer', { producerId: producer.id });
    }
    this.micOn = !producer.paused;
    this.#updateSelf('mic', producer);
  }

  /** Camera off releases the camera (its light goes off); on opens it again on the same producer. */
  async toggleCamera(): Promise<void> {
    const producer = this.#producers.get('camera');
    if (producer === undefined || this.#signaling === undefined) return;
    if (producer.paused) {
      const track = await this.#openCamera();
      this.#localTracks.camera = track;
      await producer.replaceTrack({ track });
      producer.resume();
      await this.#signaling.request('resumeProducer', { producerId: producer.id });
    } else {
      producer.pause();
      await this.#signaling.request('pauseProducer', { producerId: producer.id });
      producer.track?.stop();
    }
    this.cameraOn = !producer.paused;
    this.#updateSelf('camera', producer);
  }

  /** Asks for the simulcast layer that suits a tile of this many device pixels in height. */
  setTileHeight(peerId: string, devicePixels: number): void {
    const layer = spatialLayerForHeight(devicePixels);
    for (const [consumerId, entry] of this.#consumers) {
      if (entry.peerId !== peerId || entry.source !== 'camera' || entry.layer === layer) continue;
      entry.layer = layer;
      void this.#signaling
        ?.request('setConsumerPreferredLayers', { consumerId, spatialLayer: layer })
        .catch(() => {});
    }
  }

  /**
   * Each participant's WebRTC statistics, by peer id: our receivers' for everyone else, our
   * senders' for ourselves (what connectionQuality.ts reads). Streams that fail to report are left out.
   */
  async streamStats(): Promise<Map<string, RTCStatsReport[]>> {
    // A result handed over once, never rendered from.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const byPeer = new Map<string, RTCStatsReport[]>();
    const add = (peerId: string | undefined, report: RTCStatsReport) => {
      if (peerId !== undefined) byPeer.set(peerId, [...(byPeer.get(peerId) ?? []), report]);
    };
    const selfId = this.self?.peerId;
    const reading = [
      ...[...this.#consumers.values()].map(({ consumer, peerId }) =>
        consumer.getStats().then((report) => add(peerId, report)),
      ),
      ...[...this.#producers.values()].map((producer) =>
        producer.getStats().then((report) => add(selfId, report)),
      ),
    ];
    await Promise.allSettled(reading);
    return byPeer;
  }

  leave(): void {
    this.status = 'left';
    clearTimeout(this.#renewTimer);
    this.#signaling?.close();
    this.#teardownMedia();
    this.encryption?.close();
    for (const track of Object.values(this.#localTracks)) track.stop();
  }

  fail(message: string): void {
    this.status = 'failed';
    this.error = message;
    clearTimeout(this.#renewTimer);
    this.#signaling?.close();
    this.#teardownMedia();
    this.encryption?.close();
  }

  #startEncryption(userId: string): void {
    if (this.encryption !== null) return;
    const encryption = new MeetingEncryption({ userId, token: () => this.#session?.session ?? '' });
    this.encryption = encryption;
    encryption.start().catch((error: unknown) => {
      this.fail(`End-to-end encryption could not start: ${(error as Error).message}`);
    });
  }

  /** Media goes out only once the meeting keys are in the crypto worker. */
  async #produceWhenKeyed(generation: number): Promise<void> {
    try {
      await need(this.encryption ?? undefined, 'encryption').ready;
      if (generation !== this.#generation || this.status !== 'joined') return;
      if (this.#localTracks.mic) await this.#produce('mic', this.#localTracks.mic);
      if (this.#localTracks.camera) await this.#produce('camera', this.#localTracks.camera);
    } catch (error) {
      if (generation === this.#generation) this.#onDisconnect(`sending failed: ${(error as Error).message}`);
    }
  }

  async #connect(): Promise<void> {
    this.#notifications = new Promise<void>((resolve) => (this.#releaseNotifications = resolve));
    const connected = new Promise<void>((resolve, reject) => {
      this.#signaling = new SignalingClient(() => this.#session?.session ?? '', {
        onConnect: resolve,
        onFatal: (e) => reject(Object.assign(new Error(e.message), { code: e.code })),
        onNotification: (n) => this.#enqueue(n),
        onDisconnect: (reason) => this.#onDisconnect(reason),
      });
    });
    await connected;
    const signaling = need(this.#signaling, 'signaling');
    const { rtpCapabilities } = await signaling.request('getRouterRtpCapabilities', {});
    this.#device = new Device();
    await this.#device.load({ routerRtpCapabilities: rtpCapabilities as types.RtpCapabilities });
    this.#sendTransport = await this.#createTransport('send');
    this.#recvTransport = await this.#createTransport('recv');
    // Consumers arrive as soon as we join, and each needs its decrypting transform at once.
    await need(this.encryption ?? undefined, 'encryption').workerReady;
    const { self, peers } = await signaling.request('join', {
      rtpCapabilities: this.#device.rtpCapabilities as RequestData<'join'>['rtpCapabilities'],
    });
    this.participants = [new Participant(self, true), ...peers.map((p) => new Participant(p, false))];
    this.#releaseNotifications();
  }

  async #createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    const signaling = need(this.#signaling, 'signaling');
    const info = await signaling.request('createTransport', { direction });
    const options = {
      id: info.id,
      iceParameters: info.iceParameters as types.IceParameters,
      iceCandidates: info.iceCandidates as types.IceCandidate[],
      dtlsParameters: info.dtlsParameters as types.DtlsParameters,
      iceServers: info.iceServers,
    };
    // Browsers with only the legacy encoded-streams API need it switched on per connection.
    const additionalSettings = MeetingEncryption.needsEncodedInsertableStreams()
      ? ({ encodedInsertableStreams: true } as Partial<RTCConfiguration>)
      : undefined;
    const transport =
      direction === 'send'
        ? need(this.#device, 'device').createSendTransport({ ...options, additionalSettings })
        : need(this.#device, 'device').createRecvTransport({ ...options, additionalSettings });
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      signaling
        .request('connectTransport', {
          transportId: transport.id,
          dtlsParameters: dtlsParameters as RequestData<'connectTransport'>['dtlsParameters'],
        })
        .then(() => callback(), errback);
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const source = appData['source'] as MediaSource;
      signaling
        .request('produce', {
          transportId: transport.id,
          kind,
          rtpParameters: rtpParameters as RequestData<'produce'>['rtpParameters'],
          source,
        })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });
    transport.on('connectionstatechange', (state) => {
      if (state === 'failed' && this.status === 'joined') this.#onDisconnect('media connection failed');
    });
    return transport;
  }

  async #produce(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    const encryption = need(this.encryption ?? undefined, 'encryption');
    const producer = await need(this.#sendTransport, 'send transport').produce({
      track,
      appData: { source },
      // Runs before negotiation, so the encrypting transform is in place before the first frame.
      onRtpSender: (sender) =>
        encryption.attachSender(sender, source, (state) => this.#setCrypto(this.self, source, state)),
      ...(source === 'camera'
        ? { encodings: CAMERA_ENCODINGS, codecOptions: { videoGoogleStartBitrate: 1000 } }
        : { codecOptions: { opusStereo: false, opusDtx: true, opusFec: true } }),
    });
    this.#producers.set(source, producer);
    if (source === 'mic') this.micOn = true;
    if (source === 'camera') this.cameraOn = true;
    this.#updateSelf(source, producer);
  }

  #enqueue(notification: Notification): void {
    this.#notifications = this.#notifications
      .then(() => this.#onNotification(notification))
      .catch((error: unknown) =>
        console.warn(`handling ${notification.type} failed: ${(error as Error).message}`),
      );
  }

  async #onNotification(notification: Notification): Promise<void> {
    switch (notification.type) {
      case 'peerJoined':
        this.#addParticipant(notification.data);
        break;
      case 'peerLeft':
        this.participants = this.participants.filter((p) => p.peerId !== notification.data.peerId);
        break;
      case 'newConsumer':
        await this.#consume(notification.data);
        break;
      case 'consumerClosed':
        this.#dropConsumer(notification.data.consumerId);
        break;
      case 'consumerPaused':
      case 'consumerResumed':
        this.#setRemotePaused(notification.data.consumerId, notification.type === 'consumerPaused');
        break;
      case 'activeSpeaker':
        this.activeSpeakerId = notification.data.peerId;
        for (const p of this.participants) p.speaking = p.peerId === notification.data.peerId;
        break;
      case 'roomClosed':
        // The media server went away; the disconnect that follows starts a rejoin.
        break;
    }
  }

  async #consume(info: ConsumerInfo): Promise<void> {
    const participant = this.participants.find((p) => p.peerId === info.peerId);
    // Frames must authenticate under the sender's own key, so the sender must be known.
    if (participant === undefined) throw new Error(`media from unknown peer ${info.peerId}`);
    const encryption = need(this.encryption ?? undefined, 'encryption');
    const consumer = await need(this.#recvTransport, 'receive transport').consume({
      id: info.consumerId,
      producerId: info.producerId,
      kind: info.kind,
      rtpParameters: info.rtpParameters as types.RtpParameters,
      // Runs before negotiation: no frame reaches the decoder without passing the decrypting transform.
      onRtpReceiver: (receiver) =>
        encryption.attachReceiver(receiver, { userId: participant.userId, source: info.source }, (state) =>
          this.#setCrypto(participant, info.source, state),
        ),
    });
    this.#consumers.set(consumer.id, { consumer, peerId: info.peerId, source: info.source });
    await need(this.#signaling, 'signaling').request('resumeConsumer', { consumerId: consumer.id });
    participant.tracks = { ...participant.tracks, [info.source]: consumer.track };
    participant.paused = { ...participant.paused, [info.source]: info.producerPaused };
  }

  #dropConsumer(consumerId: string): void {
    const entry = this.#consumers.get(consumerId);
    if (entry === undefined) return;
    entry.consumer.close();
    this.#consumers.delete(consumerId);
    const participant = this.participants.find((p) => p.peerId === entry.peerId);
    if (participant !== undefined) {
      const { [entry.source]: _removed, ...rest } = participant.tracks;
      participant.tracks = rest;
    }
  }

  #setRemotePaused(consumerId: string, paused: boolean): void {
    const entry = this.#consumers.get(consumerId);
    const participant = this.participants.find((p) => p.peerId === entry?.peerId);
    if (entry !== undefined && participant !== undefined) {
      participant.paused = { ...participant.paused, [entry.source]: paused };
    }
  }

  #setCrypto(
    participant: Participant | undefined,
    source: MediaSource,
    state: Participant['crypto'][MediaSource],
  ): void {
    if (participant !== undefined && participant.crypto[source] !== state) {
      participant.crypto = { ...participant.crypto, [source]: state };
    }
  }

  #addParticipant(info: PeerInfo): void {
    if (this.participants.some((p) => p.peerId === info.peerId)) return;
    this.participants = [...this.participants, new Participant(info, false)];
  }

  #updateSelf(source: MediaSource, producer: types.Producer): void {
    const self = this.self;
    if (self === undefined) return;
    if (producer.track) self.tracks = { ...self.tracks, [source]: producer.track };
    self.paused = { ...self.paused, [source]: producer.paused };
  }

  #onDisconnect(reason: string): void {
    if (this.status !== 'joined') return;
    this.#teardownMedia();
    this.#signaling?.close();
    this.#scheduleReconnect(`Connection lost (${reason}).`);
  }

  #scheduleReconnect(message: string): void {
    const delay = RECONNECT_DELAYS_MS[this.#attempt];
    if (delay === undefined) {
      this.fail(`${message} Could not reconnect.`);
      return;
    }
    this.#attempt += 1;
    this.status = 'reconnecting';
    this.error = `${message} Reconnecting in ${delay / 1000} s…`;
    setTimeout(() => {
      if (this.status === 'reconnecting') void this.join();
    }, delay);
  }

  #scheduleRenewal(): void {
    clearTimeout(this.#renewTimer);
    const session = this.#session;
    if (session === undefined) return;
    const due = Math.max(5_000, session.expiresAt - Date.now() - RENEW_MARGIN_MS);
    this.#renewTimer = setTimeout(() => {
      api.createSession(this.#invite, this.#name, session.session).then(
        (renewed) => {
          this.#session = renewed;
          this.#scheduleRenewal();
        },
        () => this.#scheduleRenewal(),
      );
    }, due);
  }

  #teardownMedia(): void {
    for (const { consumer } of this.#consumers.values()) consumer.close();
    this.#consumers.clear();
    this.#producers.clear();
    this.#sendTransport?.close();
    this.#recvTransport?.close();
    this.#sendTransport = undefined;
    this.#recvTransport = undefined;
    this.participants = [];
  }
}

/** A part that must exist by this point of the join sequence. */
function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the ${what} is not ready`);
  return value;
}
