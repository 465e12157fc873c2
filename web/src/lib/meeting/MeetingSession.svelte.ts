// A joined meeting, as the components see it: its status, its participants and the person's own
// controls. It coordinates the parts: the signaling connection (SignalingClient), one connection's
// media path (MediaTransports: device, transports, producers, consumers), what this person sends
// and its controls (LocalSending), the rejoin back-off (RejoinSchedule), the session token's
// renewal (SessionRenewal) and the meeting's end-to-end encryption (MeetingEncryption).
//
// Joining: authenticate, enter the room (consumers of microphones and screens start arriving;
// cameras are announced, and consumed while their tiles are on screen (OnDemandCameras); each
// consumer has a decrypting transform attached before negotiation, so nothing undecrypted reaches
// a decoder), join the MLS group and install its keys in the crypto worker, and only then produce,
// each producer's encrypting transform attached before negotiation (mediasoup-client's
// onRtpSender), so no frame ever leaves unencrypted.
//
// Losing the connection (a network drop, a server restart, the room's media worker dying) tears
// down every transport and rejoins on a back-off (RejoinSchedule) until it works or the person
// leaves; `reconnect` says what is happening for the UI. The encryption (MeetingEncryption)
// outlives the connection: its crypto worker keeps each stream's SFrame counter, and its MLS client
// catches up with the group by itself.
import type { ConsumerInfo, MediaSource, Notification, PeerInfo } from '@conclave/server/protocol';
import { api, type Session } from '../api.ts';
import { MeetingEncryption } from '../e2ee/MeetingEncryption.svelte.ts';
import { SignalingClient } from '../signaling/SignalingClient.ts';
import { MediaTransports, need, type Direction } from './MediaTransports.ts';
import { OnDemandCameras, type CameraConnection } from './OnDemandCameras.ts';
import { Participant } from './Participant.svelte.ts';
import { NotificationQueue } from './NotificationQueue.ts';
import { RejoinSchedule, isFinalRefusal, type ReconnectState } from './RejoinSchedule.ts';
import { LocalSending } from './LocalSending.svelte.ts';
import { SessionRenewal } from './SessionRenewal.ts';
import { spatialLayerForHeight } from './simulcast.ts';
import type { VideoCodecName } from './videoCodec.ts';

export type { ReconnectState };

export type MeetingStatus = 'connecting' | 'joined' | 'reconnecting' | 'left' | 'failed';

/** The disconnect reason of a failed media transport (ICE or DTLS), as the banner shows it. */
const MEDIA_FAILED = 'media connection failed';

/** How long joining waits for the key service to say whether we may enter (see join()). */
const ENTRY_WAIT_MS = 3_000;

export class MeetingSession {
  status = $state<MeetingStatus>('connecting');
  error = $state<string | null>(null);
  /** Who muted us, when a host did ("Alice muted you"). */
  mutedBy = $state<string | null>(null);
  /** Who ended the meeting for everyone ("Alice ended the meeting"). */
  endedBy = $state<string | null>(null);
  participants = $state<Participant[]>([]);
  reconnect = $state<ReconnectState | null>(null);
  /** Created with the first session; lives across reconnections, closed on leave. */
  encryption = $state<MeetingEncryption | null>(null);
  /**
   * Our media connection to the SFU failed (ICE or DTLS), from the failure until a transport of a
   * later attempt connects: the banner and the tiles say "Media connection failed".
   */
  mediaFailed = $state(false);

  readonly #invite: string;
  readonly #name: string;
  /** The video codec the meeting link asked for (videoCodec.ts); used when the browser shares it. */
  readonly #videoCodec: VideoCodecName | undefined;
  #session: Session | undefined;
  #signaling: SignalingClient | undefined;
  /** The current connection's media path; undefined between connections. */
  #media: MediaTransports | undefined;
  readonly #sending: LocalSending;
  /** The current connection's notifications, in order, once the join's answer is in. */
  #notifications: NotificationQueue<Notification> | undefined;
  /** Counts joins, so work left over from an earlier attempt can tell it is stale. */
  #generation = 0;
  readonly #rejoin = new RejoinSchedule(
    () => {
      if (this.status === 'reconnecting') void this.join();
    },
    // The browser saying the network is back is a good moment to try at once.
    () => this.retryNow(),
  );
  readonly #renewal = new SessionRenewal({
    current: () => this.#session,
    renew: (current) => api.createSession(this.#invite, this.#name, current.session),
    onRenewed: (renewed, previous) => this.#onSessionRenewed(renewed, previous),
  });
  /** Users who said their media failed (peerMediaFailed), until their media decrypts here. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #mediaFailedUsers = new Set<string>();
  /** The connection generation whose media failure was reported (one report per connection). */
  #mediaFailureReported = -1;
  /** Why the server closed the room, when it said so before the connection went. */
  #roomClosedReason: string | undefined;
  /** Which cameras we receive: those of the tiles on screen. Outlives connections. */
  readonly #cameras = new OnDemandCameras({ onTrack: (peerId, track) => this.#showCamera(peerId, track) });

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
    this.#invite = options.invite;
    this.#name = options.name;
    this.#videoCodec = options.videoCodec;
    this.#sending = new LocalSending({
      context: {
        joined: () => this.status === 'joined',
        generation: () => this.#generation,
        media: () => this.#media,
        signaling: () => this.#signaling,
        encryption: () => this.encryption ?? undefined,
        self: () => this.self,
        onSendingFailed: (reason) => this.#onDisconnect(reason),
      },
      tracks: options.tracks,
      startMuted: options.startMuted ?? false,
      openCamera: options.openCamera,
    });
  }

  get self(): Participant | undefined {
    return this.participants.find((p) => p.isLocal);
  }

  get micOn(): boolean {
    return this.#sending.micOn;
  }

  get cameraOn(): boolean {
    return this.#sending.cameraOn;
  }

  /** We are sending a screen (from "Share screen" until "Stop sharing" or the browser's own stop). */
  get sharingScreen(): boolean {
    return this.#sending.sharingScreen;
  }

  async join(): Promise<void> {
    if (this.#ended) return;
    this.#rejoin.cancelPending();
    const first = this.#rejoin.firstAttempt;
    if (first) this.#rejoin.listen();
    this.status = first ? 'connecting' : 'reconnecting';
    if (this.reconnect !== null) this.reconnect = { ...this.reconnect, nextTryAt: null };
    const generation = ++this.#generation;
    try {
      this.#session = await api.createSession(this.#invite, this.#name, this.#session?.session);
      if (generation !== this.#generation) return;
      this.#renewal.schedule();
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
      this.#rejoin.succeeded();
      this.#roomClosedReason = undefined;
      this.reconnect = null;
      this.error = null;
      this.status = 'joined';
      void this.#sending.produceWhenKeyed(generation);
    } catch (error) {
      if (generation !== this.#generation || this.#ended) return;
      this.#closeConnection();
      const message = (error as Error).message;
      console.warn(`joining failed: ${message}`);
      const code = errorCode(error);
      if (isFinalRefusal(code)) this.fail(message);
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

  toggleMic(): Promise<void> {
    return this.#sending.toggleMic();
  }

  /** Camera off releases the camera (its light goes off); on opens it again on the same producer. */
  toggleCamera(): Promise<void> {
    return this.#sending.toggleCamera();
  }

  /**
   * Shares a screen, window or tab, encrypted like the camera: its producer gets its encrypting
   * transform before negotiation, and only once the meeting keys are in the crypto worker.
   */
  shareScreen(): Promise<void> {
    return this.#sending.shareScreen();
  }

  /** Stops the screen share for everyone: the producer closes, and with it every consumer of it. */
  stopSharingScreen(): Promise<void> {
    return this.#sending.stopSharingScreen();
  }

  /**
   * Sends `track` (another camera or microphone) on the existing producer: the RTCRtpSender, and
   * the encrypting transform on it, stay; only the source of its frames changes. The old track stops.
   * A camera that is off keeps its state: the chosen device opens when it is turned on.
   */
  switchDevice(source: 'mic' | 'camera', track: MediaStreamTrack): Promise<void> {
    return this.#sending.switchDevice(source, track);
  }

  /** Asks for the simulcast layer that suits a tile of this many device pixels in height. */
  setTileHeight(peerId: string, devicePixels: number): void {
    this.#cameras.setLayer(peerId, spatialLayerForHeight(devicePixels));
  }

  /**
   * `peerId`'s tile came on screen (true) or left it (false): only cameras on screen are received
   * (issue #17). Shown, their camera is consumed and resumed; hidden, it is paused at the SFU at
   * once and its consumer closed after HIDDEN_CLOSE_MS. Everyone is shown until said otherwise, so
   * a stage that reports nothing receives every camera. Idempotent; survives a rejoin.
   *
   * Deferred to a microtask: a tile reports its leaving from its effect's teardown, where Svelte
   * shows state as it was before the change being applied. Hiding a camera rewrites the person's
   * `tracks`; done there, it would write back the old value and lose a screen consumed meanwhile.
   */
  setVideoShown(peerId: string, shown: boolean): void {
    queueMicrotask(() => this.#cameras.setShown(peerId, shown));
  }

  /**
   * `peerId`'s tile is on the grid's next page (true) or no longer is: their camera is consumed
   * ahead and kept paused, so that turning the page costs one resume. Deferred as setVideoShown is.
   */
  setVideoSoon(peerId: string, soon: boolean): void {
    queueMicrotask(() => this.#cameras.setSoon(peerId, soon));
  }

  /**
   * Each participant's WebRTC statistics, by peer id: our receivers' for everyone else, our
   * senders' for ourselves (what connectionQuality.ts reads). Streams that fail to report are left out.
   */
  async streamStats(): Promise<Map<string, RTCStatsReport[]>> {
    // A result handed over once, never rendered from.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    return (await this.#media?.streamStats(this.self?.peerId)) ?? new Map();
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
    this.#sending.stopTracks();
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
    this.#renewal.stop();
    this.#rejoin.stop();
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

  async #connect(generation: number): Promise<void> {
    this.#notifications?.close(); // an earlier attempt's
    const notifications = new NotificationQueue<Notification>({
      handle: (n) => this.#onNotification(n),
      overlaps: (n) => n.type === 'newConsumer',
      onError: (n, error) => console.warn(`handling ${n.type} failed: ${(error as Error).message}`),
    });
    this.#notifications = notifications;
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
          if (current() && this.status === 'joined' && isFinalRefusal(e.code)) this.fail(e.message);
        },
        onNotification: (n) => {
          if (current()) this.#enqueue(notifications, n);
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
    const media = new MediaTransports({
      signaling,
      session: need(this.#session, 'session'),
      encryption: need(this.encryption ?? undefined, 'encryption'),
      videoCodec: this.#videoCodec,
      onConnectionState: (direction, state) => {
        if (generation !== this.#generation) return;
        if (state === 'connected') this.#onMediaConnected(direction);
        if (state === 'failed') void this.#onMediaFailed(direction);
      },
    });
    this.#media = media;
    await media.open(during);
    // Consumers arrive as soon as we join, and each needs its decrypting transform at once.
    await need(this.encryption ?? undefined, 'encryption').workerReady;
    const { self, peers } = await during(
      signaling.request('join', { rtpCapabilities: media.joinCapabilities() }),
    );
    this.participants = [self, ...peers].map((p, i) => this.#newParticipant(p, i === 0));
    this.#cameras.attach(this.#cameraConnection(media));
    notifications.release();
  }

  #enqueue(queue: NotificationQueue<Notification>, notification: Notification): void {
    if (notification.type === 'roomClosed') {
      // Noted at once: the disconnect that follows (and starts the rejoin) comes before queued work runs.
      this.#roomClosedReason =
        notification.data.reason === 'media-server-restarted'
          ? "The meeting's media server restarted."
          : 'The server is restarting.';
      return;
    }
    queue.push(notification);
  }

  async #onNotification(notification: Notification): Promise<void> {
    switch (notification.type) {
      case 'peerJoined':
        this.#addParticipant(notification.data);
        break;
      case 'peerLeft':
        this.participants = this.participants.filter((p) => p.peerId !== notification.data.peerId);
        this.#cameras.forget(notification.data.peerId);
        break;
      case 'newConsumer':
        await this.#consume(notification.data);
        break;
      case 'producerAvailable':
        this.#cameraAnnounced(
          notification.data.peerId,
          notification.data.producerId,
          notification.data.paused,
        );
        break;
      case 'producerGone': {
        const participant = this.#participant(this.#cameras.gone(notification.data.producerId));
        if (participant === undefined) break;
        participant.cameraAnnounced = false;
        const { camera: _removed, ...rest } = participant.paused;
        participant.paused = rest;
        break;
      }
      case 'producerPaused':
      case 'producerResumed': {
        const participant = this.#participant(this.#cameras.peerOf(notification.data.producerId));
        if (participant !== undefined) {
          participant.paused = { ...participant.paused, camera: notification.type === 'producerPaused' };
        }
        break;
      }
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
    // Cameras come on demand (OnDemandCameras): a camera pushed anyway is left paused at the server.
    if (info.source === 'camera') throw new Error('a camera consumer nobody asked for');
    const participant = this.participants.find((p) => p.peerId === info.peerId);
    // Frames must authenticate under the sender's own key, so the sender must be known.
    if (participant === undefined) throw new Error(`media from unknown peer ${info.peerId}`);
    const track = await need(this.#media, 'receive transport').consume(info, participant.userId, (state) =>
      this.#setCrypto(participant, info.source, state),
    );
    participant.tracks = { ...participant.tracks, [info.source]: track };
    participant.paused = { ...participant.paused, [info.source]: info.producerPaused };
  }

  /** Someone else's camera is on offer: known to be on (or off) at once, received if on screen. */
  #cameraAnnounced(peerId: string, producerId: string, paused: boolean): void {
    const participant = this.#participant(peerId);
    if (participant === undefined || participant.isLocal) {
      console.warn(`a camera announced for unknown peer ${peerId}`);
      return;
    }
    participant.cameraAnnounced = true;
    participant.paused = { ...participant.paused, camera: paused };
    this.#cameras.announce(peerId, producerId);
  }

  /** How OnDemandCameras reaches this connection's media path. */
  #cameraConnection(media: MediaTransports): CameraConnection {
    return {
      consume: async (peerId, producerId, layer) => {
        const participant = this.#participant(peerId);
        // Frames must authenticate under the sender's own key, so the sender must be known.
        if (participant === undefined) throw new Error(`a camera of unknown peer ${peerId}`);
        // A new receiver: its keys are judged afresh by its own frames, not by an earlier consumer's.
        const { camera: _previous, ...rest } = participant.crypto;
        participant.crypto = rest;
        return media.consumeCamera(
          producerId,
          participant.userId,
          (state) => this.#setCrypto(participant, 'camera', state),
          layer,
        );
      },
      resume: (consumerId) => media.resumeConsumer(consumerId),
      pause: (consumerId) => media.pauseConsumer(consumerId),
      close: (consumerId) => media.closeConsumer(consumerId),
      setLayer: (consumerId, layer) => media.setPreferredLayer(consumerId, layer),
    };
  }

  /** The camera track OnDemandCameras lets flow for `peerId`, or none. */
  #showCamera(peerId: string, track: MediaStreamTrack | undefined): void {
    const participant = this.#participant(peerId);
    if (participant === undefined || participant.tracks.camera === track) return;
    if (track !== undefined) {
      participant.tracks = { ...participant.tracks, camera: track };
      return;
    }
    const { camera: _removed, ...rest } = participant.tracks;
    participant.tracks = rest;
  }

  #participant(peerId: string | undefined): Participant | undefined {
    return peerId === undefined ? undefined : this.participants.find((p) => p.peerId === peerId);
  }

  #dropConsumer(consumerId: string): void {
    if (this.#cameras.consumerClosed(consumerId)) {
      this.#media?.dropConsumer(consumerId);
      return;
    }
    const entry = this.#media?.dropConsumer(consumerId);
    if (entry === undefined) return;
    const participant = this.participants.find((p) => p.peerId === entry.peerId);
    if (participant !== undefined) {
      const { [entry.source]: _removed, ...rest } = participant.tracks;
      participant.tracks = rest;
    }
  }

  #setRemotePaused(consumerId: string, paused: boolean): void {
    const entry = this.#media?.consumer(consumerId);
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

  #onMediaConnected(direction: Direction): void {
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
  async #onMediaFailed(direction: Direction): Promise<void> {
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

  #onDisconnect(reason: string): void {
    if (this.status !== 'joined') return;
    this.#closeConnection();
    this.#scheduleReconnect(
      this.#roomClosedReason ??
        (reason === MEDIA_FAILED ? 'Media connection failed.' : `Connection lost (${reason}).`),
    );
  }

  #scheduleReconnect(reason: string, lastError: string | null = null): void {
    const next = this.#rejoin.next(reason, lastError);
    this.status = 'reconnecting';
    this.error = reason;
    this.reconnect = next;
  }

  #onSessionRenewed(renewed: Session, previous: Session): void {
    this.#session = renewed;
    // Both sockets are closed when the token they hold expires, unless they hand over the
    // fresh one: a failure here only means a reconnection at expiry, as after any drop.
    this.#signaling?.request('renew', { token: renewed.session }).catch((e: unknown) => {
      console.warn(`renewing the meeting connection failed: ${(e as Error).message}`);
    });
    this.encryption?.renewConnection();
    void this.#media?.renewIceServers(previous.iceServers, renewed.iceServers);
  }

  /** Closes the signaling connection and every transport (their consumers and producers with them). */
  #closeConnection(): void {
    const signaling = this.#signaling;
    this.#signaling = undefined;
    this.#generation++;
    signaling?.close();
    // What the old connection's server said is moot now: its consumers go with it.
    this.#notifications?.close();
    this.#notifications = undefined;
    this.#cameras.detach();
    this.#media?.close();
    this.#media = undefined;
    this.participants = [];
  }
}

/** The code of a refused request or API call, or of a fatal event. */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
