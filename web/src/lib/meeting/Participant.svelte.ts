// One person in the meeting as this client sees them: their tracks and what they are doing.
import type { MediaSource } from '@conclave/server/protocol';

export class Participant {
  readonly peerId: string;
  readonly userId: string;
  readonly displayName: string;
  readonly isLocal: boolean;
  tracks = $state<Partial<Record<MediaSource, MediaStreamTrack>>>({});
  paused = $state<Partial<Record<MediaSource, boolean>>>({});
  speaking = $state(false);

  constructor(info: { peerId: string; userId: string; displayName: string }, isLocal: boolean) {
    this.peerId = info.peerId;
    this.userId = info.userId;
    this.displayName = info.displayName;
    this.isLocal = isLocal;
  }

  get label(): string {
    return this.isLocal ? `${this.displayName} (you)` : this.displayName;
  }

  get cameraOn(): boolean {
    return this.tracks.camera !== undefined && this.paused.camera !== true;
  }

  get micOn(): boolean {
    return this.tracks.mic !== undefined && this.paused.mic !== true;
  }
}
