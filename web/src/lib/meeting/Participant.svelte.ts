// One person in the meeting as this client sees them: their tracks, what they are doing, and the
// state of the end-to-end encryption of each of their streams.
import type { MediaSource } from '@conclave/server/protocol';
import type { CryptoState } from '@conclave/crypto-worker/client';
import type { ConnectionQuality } from './connectionQuality.ts';

export class Participant {
  readonly peerId: string;
  readonly userId: string;
  readonly displayName: string;
  readonly isLocal: boolean;
  /** What we play of theirs: a camera only while it flows to us (its tile on screen, issue #17). */
  tracks = $state<Partial<Record<MediaSource, MediaStreamTrack>>>({});
  /** Paused by its sender (muted, camera off), as the SFU says, whether we receive it or not. */
  paused = $state<Partial<Record<MediaSource, boolean>>>({});
  /**
   * The server announced their camera (producerAvailable) and it has not gone: they send one,
   * whether we receive it (tile on screen) or not. Never set for ourselves.
   */
  cameraAnnounced = $state(false);
  /** Per stream: our sender's state for the local participant, our receiver's for the others. */
  crypto = $state<Partial<Record<MediaSource, CryptoState>>>({});
  /** The SFU names them the dominant speaker (it keeps doing so after they mute). */
  speaking = $state(false);
  /** Their microphone track carries sound right now (VoiceActivity, from the decoded audio). */
  audible = $state(false);
  /**
   * Their media cannot reach us (our receiving connection failed) or they said theirs failed: the
   * tile says so, rather than blaming the keys. Cleared once their media decrypts.
   */
  mediaFailed = $state(false);
  /** From getStats(), refreshed every few seconds (ConnectionMonitor); null until measured. */
  connection = $state<ConnectionQuality | null>(null);

  constructor(info: { peerId: string; userId: string; displayName: string }, isLocal: boolean) {
    this.peerId = info.peerId;
    this.userId = info.userId;
    this.displayName = info.displayName;
    this.isLocal = isLocal;
  }

  get label(): string {
    return this.isLocal ? `${this.displayName} (you)` : this.displayName;
  }

  /** Their camera is on: sent and not paused (for someone else: announced, received or not). */
  get cameraOn(): boolean {
    return (this.tracks.camera !== undefined || this.cameraAnnounced) && this.paused.camera !== true;
  }

  /** A screen share is a stream of its own; it is never paused, only started and stopped. */
  get sharingScreen(): boolean {
    return this.tracks.screen !== undefined;
  }

  get micOn(): boolean {
    return this.tracks.mic !== undefined && this.paused.mic !== true;
  }

  /** Speaking now: sound on their microphone, which is on; someone muted never is. */
  get isSpeaking(): boolean {
    return this.audible && this.micOn;
  }

  /**
   * The worst state among the streams that are flowing (a paused stream sends no frames, so it
   * says nothing about keys; nor does a camera we do not receive because its tile is off screen,
   * which has no track here); `undefined` when nothing flows.
   */
  get encryption(): CryptoState | undefined {
    const states = (Object.keys(this.crypto) as MediaSource[])
      .filter((source) => this.tracks[source] !== undefined && this.paused[source] !== true)
      .map((source) => this.crypto[source]);
    if (states.length === 0) return undefined;
    if (states.includes('failing')) return 'failing';
    if (states.includes('missing-key')) return 'missing-key';
    return 'ok';
  }
}
