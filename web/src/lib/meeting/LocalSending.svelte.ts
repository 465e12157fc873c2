// What this person sends: their microphone, camera and screen, the producers that carry them on
// the current connection (MediaTransports), and the controls that change them. The tracks outlive a
// connection: after a rejoin they go out again as the person left them (a muted microphone muted,
// a released camera not at all).
//
// What must hold: nothing is produced before the meeting keys are in the crypto worker (the key
// gate: `encryption.ready`), and work started for one connection stops when another replaces it
// (the meeting's connection generation).
import type { MediaSource } from '@conclave/server/protocol';
import type { types } from 'mediasoup-client';
import type { MeetingEncryption } from '../e2ee/MeetingEncryption.svelte.ts';
import type { SignalingClient } from '../signaling/SignalingClient.ts';
import { need, type MediaTransports } from './MediaTransports.ts';
import type { Participant } from './Participant.svelte.ts';
import { captureScreen } from './screenShare.ts';

/** What sending needs to know of the meeting at each moment. */
export interface SendingContext {
  /** The meeting is joined on the current connection (not connecting, reconnecting or over). */
  joined(): boolean;
  /** Counts connections: work started under one generation is stale under the next. */
  generation(): number;
  media(): MediaTransports | undefined;
  signaling(): SignalingClient | undefined;
  encryption(): MeetingEncryption | undefined;
  /** Our own participant, whose tile shows what we send. */
  self(): Participant | undefined;
  /** Sending failed on this connection: it is dropped and a rejoin follows. */
  onSendingFailed(reason: string): void;
}

export class LocalSending {
  micOn = $state(false);
  cameraOn = $state(false);
  /** We are sending a screen (from "Share screen" until "Stop sharing" or the browser's own stop). */
  sharingScreen = $state(false);

  readonly #context: SendingContext;
  readonly #openCamera: () => Promise<MediaStreamTrack>;
  /** Joining muted (the pre-join page's Microphone toggle): the microphone is sent paused. */
  readonly #startMuted: boolean;
  #localTracks: Partial<Record<MediaSource, MediaStreamTrack>> = {};
  /** Whether media went out before: a rejoin then restores the person's mute and camera choices. */
  #everProduced = false;

  constructor(options: {
    context: SendingContext;
    tracks: { mic?: MediaStreamTrack | null; camera?: MediaStreamTrack | null };
    startMuted: boolean;
    openCamera: () => Promise<MediaStreamTrack>;
  }) {
    this.#context = options.context;
    this.#startMuted = options.startMuted;
    this.#openCamera = options.openCamera;
    if (options.tracks.mic) this.#localTracks.mic = options.tracks.mic;
    if (options.tracks.camera) this.#localTracks.camera = options.tracks.camera;
  }

  async toggleMic(): Promise<void> {
    const producer = this.#context.media()?.producer('mic');
    const signaling = this.#context.signaling();
    if (producer === undefined || signaling === undefined) return;
    if (producer.paused) {
      producer.resume();
      await signaling.request('resumeProducer', { producerId: producer.id });
    } else {
      producer.pause();
      await signaling.request('pauseProducer', { producerId: producer.id });
    }
    this.micOn = !producer.paused;
    this.#updateSelf('mic', producer);
  }

  /**
   * Pauses the microphone here and at the server. Not a toggle: a producer made from a disabled
   * track already counts as paused in mediasoup-client, though the server's producer is not.
   */
  async #pauseMic(): Promise<void> {
    const producer = this.#context.media()?.producer('mic');
    const signaling = this.#context.signaling();
    if (producer === undefined || signaling === undefined) return;
    producer.pause();
    await signaling.request('pauseProducer', { producerId: producer.id });
    this.micOn = false;
    this.#updateSelf('mic', producer);
  }

  /** Camera off releases the camera (its light goes off); on opens it again on the same producer. */
  async toggleCamera(): Promise<void> {
    const producer = this.#context.media()?.producer('camera');
    const signaling = this.#context.signaling();
    if (signaling === undefined) return;
    if (producer === undefined) {
      // Joined or rejoined with the camera off (its track was released): open it and send it afresh.
      if (!this.#context.joined() || this.#localTracks.camera === undefined) return;
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
      await signaling.request('resumeProducer', { producerId: producer.id });
    } else {
      producer.pause();
      await signaling.request('pauseProducer', { producerId: producer.id });
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
    if (this.sharingScreen || !this.#context.joined()) return;
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
    const self = this.#context.self();
    if (self !== undefined) {
      const { screen: _removed, ...rest } = self.tracks;
      self.tracks = rest;
    }
    const media = this.#context.media();
    const producer = media?.producer('screen');
    if (producer !== undefined) await media?.closeProducer('screen', producer);
  }

  /**
   * Sends `track` (another camera or microphone) on the existing producer: the RTCRtpSender, and
   * the encrypting transform on it, stay; only the source of its frames changes. The old track stops.
   * A camera that is off keeps its state: the chosen device opens when it is turned on.
   */
  async switchDevice(source: 'mic' | 'camera', track: MediaStreamTrack): Promise<void> {
    const producer = this.#context.media()?.producer(source);
    if (producer === undefined) {
      // Joined without this device: send it now, through the same keyed path as at join.
      this.#localTracks[source] = track;
      if (this.#context.joined()) await this.#produceWhenReady(source, track);
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

  /** Stops every track (leaving the meeting); nothing is sent again. */
  stopTracks(): void {
    for (const track of Object.values(this.#localTracks)) track.stop();
  }

  /**
   * Media goes out only once the meeting keys are in the crypto worker. After a rejoin the tracks
   * go out as the person left them: a muted microphone muted, a released camera not at all.
   */
  async produceWhenKeyed(generation: number): Promise<void> {
    const current = () => generation === this.#context.generation() && this.#context.joined();
    try {
      await need(this.#context.encryption(), 'encryption').ready;
      for (const source of ['mic', 'camera'] as const) {
        const track = this.#localTracks[source];
        if (!current()) return;
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
      if (!current()) return;
      if (this.#localTracks.screen?.readyState === 'live')
        await this.#produce('screen', this.#localTracks.screen);
    } catch (error) {
      if (generation === this.#context.generation())
        this.#context.onSendingFailed(`sending failed: ${(error as Error).message}`);
    }
  }

  /** Produces one more stream after joining, behind the same key gate as produceWhenKeyed. */
  async #produceWhenReady(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    const generation = this.#context.generation();
    await need(this.#context.encryption(), 'encryption').ready;
    // A reconnection meanwhile produces it itself (produceWhenKeyed reads #localTracks).
    if (
      generation !== this.#context.generation() ||
      !this.#context.joined() ||
      this.#context.media()?.producer(source) !== undefined
    )
      return;
    await this.#produce(source, track);
  }

  async #produce(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    const media = need(this.#context.media(), 'send transport');
    const producer = await media.produce(source, track, (state) => {
      const self = this.#context.self();
      if (self !== undefined && self.crypto[source] !== state) {
        self.crypto = { ...self.crypto, [source]: state };
      }
    });
    // Sent already, or being sent: the join's path and a button raced to send it.
    if (producer === undefined) return;
    // "Stop sharing" pressed while this producer was being negotiated.
    if (source === 'screen' && this.#localTracks.screen !== track) {
      await media.closeProducer('screen', producer);
      return;
    }
    if (source === 'mic') this.micOn = true;
    if (source === 'camera') this.cameraOn = true;
    this.#updateSelf(source, producer);
  }

  #updateSelf(source: MediaSource, producer: types.Producer): void {
    const self = this.#context.self();
    if (self === undefined) return;
    if (producer.track) self.tracks = { ...self.tracks, [source]: producer.track };
    self.paused = { ...self.paused, [source]: producer.paused };
  }
}
