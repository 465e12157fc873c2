// A joined meeting: the signaling connection, mediasoup-client's device and transports, the local
// producers and the consumers of everyone else's media, and the meeting's end-to-end encryption.
//
// Joining: authenticate, enter the room (consumers start arriving, each with a decrypting transform
// attached before negotiation, so nothing undecrypted reaches a decoder), join the MLS group and
// install its keys in the crypto worker, and only then produce, each producer's encrypting
// transform attached before negotiation (mediasoup-client's onRtpSender), so no frame ever leaves
// unencrypted.
//
// Losing the connection (a network drop, a server restart, the room's media worker dying) tears
// down every transport and rejoins on a backoff of 1, 2, 4, 8, 8… s (@conclave/common/backoff) until it
// works or the person leaves; `reconnect` says what is happening for the UI. The encryption
// (MeetingEncryption) outlives the connection: its crypto worker keeps each stream's SFrame counter,
// and its MLS client catches up with the group by itself.
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
import { backoffDelayMs } from '@conclave/common/backoff';
import { SCREEN_ENCODINGS, captureScreen } from './screenShare.ts';
import { cameraEncodings, spatialLayerForHeight } from './simulcast.ts';
import { type VideoCodecName, chooseVideoCodec, encodingsForCodec } from './videoCodec.ts';

export type MeetingStatus = 'connecting' | 'joined' | 'reconnecting' | 'left' | 'failed';

/** While reconnecting: why, which attempt comes next, and when. */
export interface ReconnectState {
  reason: string;
  /** What went wrong with the last attempt, if one failed. */
  lastError: string | null;
  attempt: number;
  /** When the next attempt starts, in ms since the epoch; null while one is under way. */
  nextTryAt: number | null;
}

/** The disconnect reason of a failed media transport (ICE or DTLS), as the banner shows it. */
const MEDIA_FAILED = 'media connection failed';

/** Errors after which trying again cannot help: the invite or room says no. */
const FATAL_JOIN_CODES = new Set([
  'token-expired',
  'token-invalid',
  'wrong-room',
  'room-full',
  // Turned away by the lobby or the lock, or removed by a host: final.
  'locked',
  'denied',
  'removed',
  // A revoked, replaced or used-up invite stays so: trying again would only ask again.
  'invite-revoked',
  'invite-exhausted',
]);
/** How long joining waits for the key service to say whether we may enter (see join()). */
const ENTRY_WAIT_MS = 3_000;
/** Renew the session token this long before it expires, so a reconnect never holds a dead one. */
const RENEW_MARGIN_MS = 60_000;

export class MeetingSession {
  status = $state<MeetingStatus>('connecting');
  error = $state<string | null>(null);
  /** Who muted us, when a host did ("Alice muted you"). */
  mutedBy = $state<string | null>(null);
  /** Who ended the meeting for everyone ("Alice ended the meeting"). */
  endedBy = $state<string | null>(null);
  participants = $state<Participant[]>([]);
  reconnect = $state<ReconnectState | null>(null);
  micOn = $state(false);
  cameraOn = $state(false);
  /** We are sending a screen (from "Share screen" until "Stop sharing" or the browser's own stop). */
  sharingScreen = $state(false);
  /** Created with the first session; lives across reconnections, closed on leave. */
  encryption = $state<MeetingEncryption | null>(null);
  /**
   * Our media connection to the SFU failed (ICE or DTLS), from the failure until a transport of a
   * later attempt connects: the banner and the tiles say "Media connection failed".
   */
  mediaFailed = $state(false);

  readonly #invite: string;
  readonly #name: string;
  readonly #openCamera: () => Promise<MediaStreamTrack>;
  /** The video codec the meeting link asked for (videoCodec.ts); used when the browser shares it. */
  readonly #videoCodec: VideoCodecName | undefined;
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
  /** Sources being produced, with the connection generation producing them (#produce). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #producing = new Map<MediaSource, number>();
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
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether media went out before: a rejoin then restores the person's mute and camera choices. */
  #everProduced = false;
  /** Joining muted (the pre-join page's Microphone toggle): the microphone is sent paused. */
  readonly #startMuted: boolean;
  /** Users who said their media failed (peerMediaFailed), until their media decrypts here. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #mediaFailedUsers = new Set<string>();
  /** The connection generation whose media failure was reported (one report per connection). */
  #mediaFailureReported = -1;
  /** Why the server closed the room, when it said so before the connection went. */
  #roomClosedReason: string | undefined;
  /** The browser saying the network is back is a good moment to try at once. */
  readonly #onOnline = () => this.retryNow();

  constructor(options: {
    invite: string;
    name: string;
    /**
     * The tracks to send. A camera track that has ended stands for a camera turned off before
     * joining: nothing is sent until "Turn camera on" opens it afresh.
     */
    tracks: { mic?: MediaStreamTrack | null; camera?: MediaStreamTrack | null };
    /** Join with the microphone muted (its producer starts paused, its track disabled). */
    startMuted?: boolean;
    openCamera: () => Promise<MediaStreamTrack>;
    videoCodec?: VideoCodecName;
  }) {
    this.#startMuted = options.startMuted ?? false;
    this.#invite = options.invite;
    this.#name = options.name;
    this.#openCamera = options.openCamera;
    this.#videoCodec = options.videoCodec;
    if (options.tracks.mic) this.#localTracks.mic = options.tracks.mic;
    if (options.tracks.camera) this.#localTracks.camera = options.tracks.camera;
  }

  get self(): Participant | undefined {
    return this.participants.find((p) => p.isLocal);
  }

  async join(): Promise<void> {
    if (this.#ended) return;
    clearTimeout(this.#retryTimer);
    if (this.#attempt === 0) globalThis.addEventListener?.('online', this.#onOnline);
    this.status = this.#attempt === 0 ? 'connecting' : 'reconnecting';
    if (this.reconnect !== null) this.reconnect = { ...this.reconnect, nextTryAt: null };
    const generation = ++this.#generation;
    try {
      this.#session = await api.createSession(this.#invite, this.#name, this.#session?.session);
      if (generation !== this.#generation) return;
      this.#scheduleRenewal();
      const encryption = this.#startEncryption(this.#session.userId);
      // Behind the lobby, the meeting's media waits until a host admits us (the server would refuse);
      // meanwhile `encryption.waiting` says so. Otherwise this resolves as soon as the keys know, or
      // after ENTRY_WAIT_MS when the key service does not answer: then the meeting opens without keys
      // (every tile "Waiting for key", nothing sent), as it did before the lobby.
      const entered = await Promise.race([
        encryption.entry.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), ENTRY_WAIT_MS)),
      ]);
      if (!entered && encryption.waiting !== null) await encryption.entry;
      if (generation !== this.#generation) return;
      performance.mark('conclave:entered'); // for `npm run bench`: past the lobby (carries no data)
      await this.#connect(generation);
      if (generation !== this.#generation) return;
      performance.mark('conclave:media-joined'); // for `npm run bench`: in the SFU room
      this.#attempt = 0;
      this.#roomClosedReason = undefined;
      this.reconnect = null;
      this.error = null;
      this.status = 'joined';
      void this.#produceWhenKeyed(generation);
    } catch (error) {
      if (generation !== this.#generation || this.#ended) return;
      this.#closeConnection();
      const message = (error as Error).message;
      console.warn(`joining failed: ${message}`);
      const code = (error as { code?: string }).code;
      if (code !== undefined && FATAL_JOIN_CODES.has(code)) this.fail(message);
      else this.#scheduleReconnect(this.reconnect?.reason ?? message, message);
      // Removed as gone while cut off, we knock again (the same key, which a host's browser admits
      // by itself): the next try goes the moment the keys are ours again, not at the next back-off.
      if (code === 'not-admitted') void this.encryption?.nextKeys().then(() => this.retryNow());
    }
  }

  /** Skips the wait before the next rejoin attempt (a "Try now" button, the network coming back). */
  retryNow(): void {
    if (this.status === 'reconnecting' && typeof this.reconnect?.nextTryAt === 'number') void this.join();
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

  /**
   * Pauses the microphone here and at the server. Not a toggle: a producer made from a disabled
   * track already counts as paused in mediasoup-client, though the server's producer is not.
   */
  async #pauseMic(): Promise<void> {
    const producer = this.#producers.get('mic');
    if (producer === undefined || this.#signaling === undefined) return;
    producer.pause();
    await this.#signaling.request('pauseProducer', { producerId: producer.id });
    this.micOn = false;
    this.#updateSelf('mic', producer);
  }

  /** Camera off releases the camera (its light goes off); on opens it again on the same producer. */
  async toggleCamera(): Promise<void> {
    const producer = this.#producers.get('camera');
    if (this.#signaling === undefined) return;
    if (producer === undefined) {
      // Joined or rejoined with the camera off (its track was released): open it and send it afresh.
      if (this.status !== 'joined' || this.#localTracks.camera === undefined) return;
      const track = await this.#openCamera();
      this.#localTracks.camera = track;
      // Behind the key gate: pressed before the meeting keys arrived, it waits for them.
      await this.#produceWhenReady('camera', track);
      return;
    }
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

  /**
   * Shares a screen, window or tab, encrypted like the camera: its producer gets its encrypting
   * transform before negotiation, and only once the meeting keys are in the crypto worker.
   */
  async shareScreen(): Promise<void> {
    if (this.sharingScreen || this.status !== 'joined') return;
    const track = await captureScreen();
    // The browser's own "Stop sharing" ends the track (track.stop() does not fire this).
    track.addEventListener('ended', () => {
      if (this.#localTracks.screen === track) void this.stopSharingScreen();
    });
    this.sharingScreen = true;
    this.#localTracks.screen = track;
    try {
      await this.#produceWhenReady('screen', track);
    } catch (error) {
      await this.stopSharingScreen();
      throw error;
    }
  }

  /** Stops the screen share for everyone: the producer closes, and with it every consumer of it. */
  async stopSharingScreen(): Promise<void> {
    this.#localTracks.screen?.stop();
    delete this.#localTracks.screen;
    this.sharingScreen = false;
    const self = this.self;
    if (self !== undefined) {
      const { screen: _removed, ...rest } = self.tracks;
      self.tracks = rest;
    }
    const producer = this.#producers.get('screen');
    if (producer !== undefined) await this.#closeProducer('screen', producer);
  }

  /**
   * Sends `track` (another camera or microphone) on the existing producer: the RTCRtpSender, and
   * the encrypting transform on it, stay; only the source of its frames changes. The old track stops.
   * A camera that is off keeps its state: the chosen device opens when it is turned on.
   */
  async switchDevice(source: 'mic' | 'camera', track: MediaStreamTrack): Promise<void> {
    const producer = this.#producers.get(source);
    if (producer === undefined) {
      // Joined without this device: send it now, through the same keyed path as at join.
      this.#localTracks[source] = track;
      if (this.status === 'joined') await this.#produceWhenReady(source, track);
      return;
    }
    if (source === 'camera' && producer.paused) {
      track.stop();
      return;
    }
    await producer.replaceTrack({ track });
    this.#localTracks[source] = track;
    this.#updateSelf(source, producer);
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

  /** A host ends the meeting for everyone (the server checks the group says we are a host). */
  async endMeeting(): Promise<void> {
    await need(this.#signaling, 'signaling').request('endMeeting', {});
  }

  /** A host replaces the guest link; resolves with the new one (the old admits nobody new). */
  async resetInviteLink(): Promise<string> {
    return (await need(this.#signaling, 'signaling').request('resetInvite', {})).inviteUrl;
  }

  /** A host pauses someone's microphone at the SFU ("Mute Bob"); they are told, and can unmute. */
  async muteParticipant(peerId: string): Promise<void> {
    await need(this.#signaling, 'signaling').request('muteParticipant', { peerId });
  }

  /** Leaves; the last host here first passes the role on, so the meeting keeps one (bounded wait). */
  async leaveHandingOver(): Promise<void> {
    const handOver = this.encryption?.handOver() ?? Promise.resolve();
    await Promise.race([handOver, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    this.leave();
  }

  leave(): void {
    this.status = 'left';
    this.#end();
    for (const track of Object.values(this.#localTracks)) track.stop();
  }

  fail(message: string): void {
    this.status = 'failed';
    this.error = message;
    this.#end();
  }

  get #ended(): boolean {
    return this.status === 'left' || this.status === 'failed';
  }

  #end(): void {
    this.#generation++;
    this.reconnect = null;
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#retryTimer);
    globalThis.removeEventListener?.('online', this.#onOnline);
    this.#closeConnection();
    this.encryption?.close();
  }

  #startEncryption(userId: string): MeetingEncryption {
    if (this.encryption !== null) return this.encryption;
    const encryption = new MeetingEncryption({
      userId,
      token: () => this.#session?.session ?? '',
      onRemovedByHost: (by) => this.fail(`You were removed from the meeting by ${this.#nameOf(by)}`),
    });
    this.encryption = encryption;
    encryption.start().catch((error: unknown) => {
      this.fail(`End-to-end encryption could not start: ${(error as Error).message}`);
    });
    return encryption;
  }

  #nameOf(userId: string): string {
    return this.participants.find((p) => p.userId === userId)?.displayName ?? 'a host';
  }

  /**
   * Media goes out only once the meeting keys are in the crypto worker. After a rejoin the tracks
   * go out as the person left them: a muted microphone muted, a released camera not at all.
   */
  async #produceWhenKeyed(generation: number): Promise<void> {
    try {
      await need(this.encryption ?? undefined, 'encryption').ready;
      for (const source of ['mic', 'camera'] as const) {
        const track = this.#localTracks[source];
        if (generation !== this.#generation || this.status !== 'joined') return;
        if (track === undefined || track.readyState === 'ended') continue;
        const wasOff = this.#everProduced
          ? !(source === 'mic' ? this.micOn : this.cameraOn)
          : source === 'mic' && this.#startMuted;
        // Muted (from the start, or before the rejoin): the track carries silence from its first
        // frame, and the server is told to forward nothing.
        if (wasOff && source === 'mic') track.enabled = false;
        await this.#produce(source, track);
        if (wasOff && source === 'mic') await this.#pauseMic();
      }
      this.#everProduced = true;
      // A share that outlived a reconnection goes on; one the browser ended meanwhile does not.
      if (generation !== this.#generation || this.status !== 'joined') return;
      if (this.#localTracks.screen?.readyState === 'live')
        await this.#produce('screen', this.#localTracks.screen);
    } catch (error) {
      if (generation === this.#generation) this.#onDisconnect(`sending failed: ${(error as Error).message}`);
    }
  }

  /** Produces one more stream after joining, behind the same key gate as #produceWhenKeyed. */
  async #produceWhenReady(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    const generation = this.#generation;
    await need(this.encryption ?? undefined, 'encryption').ready;
    // A reconnection meanwhile produces it itself (#produceWhenKeyed reads #localTracks).
    if (generation !== this.#generation || this.status !== 'joined' || this.#producers.has(source)) return;
    await this.#produce(source, track);
  }

  async #connect(generation: number): Promise<void> {
    this.#notifications = new Promise<void>((resolve) => (this.#releaseNotifications = resolve));
    // A refusal or a drop while joining ends the attempt at once, with its reason and code, rather
    // than leaving the request in flight to time out ("the server did not answer").
    let lose: (error: Error) => void = () => {};
    const lost = new Promise<never>((_, reject) => (lose = reject));
    lost.catch(() => undefined);
    const during = <T>(step: Promise<T>): Promise<T> => Promise.race([step, lost]);
    const connected = new Promise<void>((resolve, reject) => {
      // Events of a connection an earlier attempt left behind are ignored.
      const current = () => generation === this.#generation;
      this.#signaling = new SignalingClient(() => this.#session?.session ?? '', {
        onConnect: resolve,
        onFatal: (e) => {
          const error = Object.assign(new Error(e.message), { code: e.code });
          reject(error);
          lose(error);
          // After joining: the server closes this meeting for us for good (a host removed us).
          if (current() && this.status === 'joined' && FATAL_JOIN_CODES.has(e.code)) this.fail(e.message);
        },
        onNotification: (n) => {
          if (current()) this.#enqueue(n);
        },
        onDisconnect: (reason) => {
          const error = new Error(`the connection closed while joining (${reason})`);
          reject(error);
          lose(error);
          if (current()) this.#onDisconnect(reason);
        },
      });
    });
    await connected;
    const signaling = need(this.#signaling, 'signaling');
    const { rtpCapabilities } = await during(signaling.request('getRouterRtpCapabilities', {}));
    this.#device = new Device();
    await this.#device.load({ routerRtpCapabilities: rtpCapabilities as types.RtpCapabilities });
    this.#sendTransport = await during(this.#createTransport('send', generation));
    this.#recvTransport = await during(this.#createTransport('recv', generation));
    // Consumers arrive as soon as we join, and each needs its decrypting transform at once.
    await need(this.encryption ?? undefined, 'encryption').workerReady;
    const { self, peers } = await during(
      signaling.request('join', {
        rtpCapabilities: this.#device.rtpCapabilities as RequestData<'join'>['rtpCapabilities'],
      }),
    );
    this.participants = [self, ...peers].map((p, i) => this.#newParticipant(p, i === 0));
    this.#releaseNotifications();
  }

  async #createTransport(direction: 'send' | 'recv', generation: number): Promise<types.Transport> {
    const signaling = need(this.#signaling, 'signaling');
    const info = await signaling.request('createTransport', { direction });
    const session = need(this.#session, 'session');
    const options = {
      id: info.id,
      iceParameters: info.iceParameters as types.IceParameters,
      iceCandidates: info.iceCandidates as types.IceCandidate[],
      dtlsParameters: info.dtlsParameters as types.DtlsParameters,
      // The session's list carries this user's own TURN credential (renewed with the session).
      iceServers: session.iceServers,
      iceTransportPolicy: session.iceTransportPolicy,
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
      if (generation !== this.#generation) return;
      if (state === 'connected') this.#onMediaConnected(direction);
      if (state === 'failed') void this.#onMediaFailed(direction);
    });
    return transport;
  }

  async #produce(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    // One producer per source and connection, even when the join's path and a button race to send it.
    const generation = this.#generation;
    if (this.#producers.has(source) || this.#producing.get(source) === generation) return;
    this.#producing.set(source, generation);
    try {
      await this.#produceNow(source, track);
    } finally {
      if (this.#producing.get(source) === generation) this.#producing.delete(source);
    }
  }

  async #produceNow(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    const encryption = need(this.encryption ?? undefined, 'encryption');
    const codec =
      source === 'mic'
        ? undefined
        : chooseVideoCodec(need(this.#device, 'device').rtpCapabilities.codecs ?? [], this.#videoCodec);
    const encoding = encodingOptions(source, track);
    if (encoding.encodings !== undefined) encoding.encodings = encodingsForCodec(encoding.encodings, codec);
    const producer = await need(this.#sendTransport, 'send transport').produce({
      track,
      appData: { source },
      ...(codec === undefined ? {} : { codec }),
      // The tracks outlive a connection: a rejoin sends them again. leave() stops them.
      stopTracks: false,
      // Runs before negotiation, so the encrypting transform is in place before the first frame.
      onRtpSender: (sender) =>
        encryption.attachSender(sender, source, (state) => this.#setCrypto(this.self, source, state)),
      ...encoding,
    });
    this.#producers.set(source, producer);
    // "Stop sharing" pressed while this producer was being negotiated.
    if (source === 'screen' && this.#localTracks.screen !== track) {
      await this.#closeProducer('screen', producer);
      return;
    }
    if (source === 'mic') this.micOn = true;
    if (source === 'camera') this.cameraOn = true;
    this.#updateSelf(source, producer);
  }

  async #closeProducer(source: MediaSource, producer: types.Producer): Promise<void> {
    if (this.#producers.get(source) === producer) this.#producers.delete(source);
    producer.close();
    await this.#signaling?.request('closeProducer', { producerId: producer.id }).catch(() => {});
  }

  #enqueue(notification: Notification): void {
    if (notification.type === 'roomClosed') {
      // Noted at once: the disconnect that follows (and starts the rejoin) comes before queued work runs.
      this.#roomClosedReason =
        notification.data.reason === 'media-server-restarted'
          ? "The meeting's media server restarted."
          : 'The server is restarting.';
      return;
    }
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
        for (const p of this.participants) p.speaking = p.peerId === notification.data.peerId;
        break;
      case 'peerMediaFailed': {
        const participant = this.participants.find((p) => p.peerId === notification.data.peerId);
        if (participant === undefined) break;
        this.#mediaFailedUsers.add(participant.userId);
        participant.mediaFailed = true;
        break;
      }
      case 'roomClosed':
        break; // handled as it arrives (#enqueue)
      case 'mutedByHost':
        this.mutedBy = this.#nameOf(notification.data.by);
        // The SFU paused the microphone; our own producer follows, and the person may unmute again.
        if (this.micOn) await this.toggleMic();
        break;
      case 'meetingEnded':
        this.endedBy = this.#nameOf(notification.data.by);
        this.leave();
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
    // Their frames decrypt here: whatever failed before works now.
    if (participant !== undefined && !participant.isLocal && state === 'ok') {
      this.#mediaFailedUsers.delete(participant.userId);
      participant.mediaFailed = false;
    }
  }

  #addParticipant(info: PeerInfo): void {
    if (this.participants.some((p) => p.peerId === info.peerId)) return;
    this.participants = [...this.participants, this.#newParticipant(info, false)];
  }

  /** A participant as we know them; one whose media failed is still shown so after rejoining. */
  #newParticipant(info: PeerInfo, isLocal: boolean): Participant {
    const participant = new Participant(info, isLocal);
    participant.mediaFailed = this.mediaFailed || this.#mediaFailedUsers.has(info.userId);
    return participant;
  }

  #onMediaConnected(direction: 'send' | 'recv'): void {
    // Receiving works again: the tiles' pictures depend on the keys again. Sending: our own tile.
    if (direction === 'recv') this.mediaFailed = false;
    for (const p of this.participants) {
      if (p.isLocal === (direction === 'send') && !this.#mediaFailedUsers.has(p.userId))
        p.mediaFailed = false;
    }
  }

  /**
   * ICE or DTLS failed: say so (banner and tiles), tell the others (the server then keeps our MLS
   * membership while we rejoin, so our retries do not change everyone's keys), and rejoin.
   */
  async #onMediaFailed(direction: 'send' | 'recv'): Promise<void> {
    // Both transports usually fail together: one report and one rejoin are enough.
    if (this.status !== 'joined' || this.#mediaFailureReported === this.#generation) return;
    this.#mediaFailureReported = this.#generation;
    this.mediaFailed = true;
    for (const p of this.participants) p.mediaFailed = true;
    console.warn(`the media connection failed (${direction})`);
    const generation = this.#generation;
    await this.#signaling
      ?.request('reportMediaFailure', { direction })
      .catch((error: unknown) =>
        console.warn(`reporting the media failure failed: ${(error as Error).message}`),
      );
    if (generation === this.#generation) this.#onDisconnect(MEDIA_FAILED);
  }

  #updateSelf(source: MediaSource, producer: types.Producer): void {
    const self = this.self;
    if (self === undefined) return;
    if (producer.track) self.tracks = { ...self.tracks, [source]: producer.track };
    self.paused = { ...self.paused, [source]: producer.paused };
  }

  #onDisconnect(reason: string): void {
    if (this.status !== 'joined') return;
    this.#closeConnection();
    this.#scheduleReconnect(
      this.#roomClosedReason ??
        (reason === MEDIA_FAILED ? 'Media connection failed.' : `Connection lost (${reason}).`),
    );
  }

  #scheduleReconnect(reason: string, lastError: string | null = null): void {
    this.#attempt += 1;
    const delay = backoffDelayMs(this.#attempt);
    this.status = 'reconnecting';
    this.error = reason;
    this.reconnect = { reason, lastError, attempt: this.#attempt, nextTryAt: Date.now() + delay };
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
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
          // Both sockets are closed when the token they hold expires, unless they hand over the
          // fresh one: a failure here only means a reconnection at expiry, as after any drop.
          this.#signaling?.request('renew', { token: renewed.session }).catch((e: unknown) => {
            console.warn(`renewing the meeting connection failed: ${(e as Error).message}`);
          });
          this.encryption?.renewConnection();
          void this.#renewIceServers(session.iceServers, renewed.iceServers);
        },
        () => this.#scheduleRenewal(),
      );
    }, due);
  }

  /**
   * Hands the renewed TURN credential to the open transports, then restarts ICE on them: coturn
   * checks the credential on every allocation refresh, so an allocation must move to the new one
   * before the old one expires. Static servers (the same list again) need nothing.
   */
  async #renewIceServers(previous: RTCIceServer[], iceServers: RTCIceServer[]): Promise<void> {
    if (JSON.stringify(previous) === JSON.stringify(iceServers)) return;
    const signaling = this.#signaling;
    for (const transport of [this.#sendTransport, this.#recvTransport]) {
      if (transport === undefined || transport.closed || signaling === undefined) continue;
      try {
        await transport.updateIceServers({ iceServers });
        const { iceParameters } = await signaling.request('restartIce', { transportId: transport.id });
        await transport.restartIce({ iceParameters: iceParameters as types.IceParameters });
      } catch (error) {
        console.warn(`renewing the TURN credential failed: ${(error as Error).message}`);
      }
    }
  }

  /** Closes the signaling connection and every transport (their consumers and producers with them). */
  #closeConnection(): void {
    const signaling = this.#signaling;
    this.#signaling = undefined;
    this.#generation++;
    signaling?.close();
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
function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the ${what} is not ready`);
  return value;
}
