// The local camera and microphone: device lists, the chosen devices, the preview stream, and
// plain-language errors when the browser refuses them.

export type MediaProblem = { kind: 'denied' | 'missing' | 'busy' | 'other'; message: string };

export function describeMediaError(error: unknown): MediaProblem {
  const name = error instanceof DOMException ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return {
        kind: 'denied',
        message:
          'Permission to use your camera and microphone was denied. Allow them in the browser’s site settings (the icon left of the address), then reload. You can still join without them.',
      };
    case 'NotFoundError':
    case 'OverconstrainedError':
      return {
        kind: 'missing',
        message: 'No camera or microphone was found. You can still join and listen.',
      };
    case 'NotReadableError':
    case 'AbortError':
      return {
        kind: 'busy',
        message: 'Your camera or microphone is in use by another application. Close it and try again.',
      };
    default:
      return {
        kind: 'other',
        message: `Your camera or microphone could not be started (${name || 'unknown error'}).`,
      };
  }
}

export class LocalMedia {
  cameras = $state<MediaDeviceInfo[]>([]);
  microphones = $state<MediaDeviceInfo[]>([]);
  /** Where sound can play; empty where the browser does not list outputs. */
  speakers = $state<MediaDeviceInfo[]>([]);
  cameraId = $state<string>('');
  microphoneId = $state<string>('');
  stream = $state<MediaStream | null>(null);
  problem = $state<MediaProblem | null>(null);
  starting = $state(false);

  get videoTrack(): MediaStreamTrack | null {
    return this.stream?.getVideoTracks()[0] ?? null;
  }

  get audioTrack(): MediaStreamTrack | null {
    return this.stream?.getAudioTracks()[0] ?? null;
  }

  #started: Promise<void> = Promise.resolve();

  /** Opens the chosen (or default) camera and microphone; keeps what works when one of them fails. */
  start(): Promise<void> {
    this.#started = this.#start();
    return this.#started;
  }

  /** Resolves when the latest start has finished, whether or not the devices opened. */
  settled(): Promise<void> {
    return this.#started;
  }

  async #start(): Promise<void> {
    this.starting = true;
    this.problem = null;
    this.stop();
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: this.microphoneId ? { deviceId: { exact: this.microphoneId } } : true,
        video: this.cameraId
          ? { deviceId: { exact: this.cameraId }, width: { ideal: 1280 }, height: { ideal: 720 } }
          : { width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (error) {
      this.problem = describeMediaError(error);
    } finally {
      this.starting = false;
    }
    await this.refreshDevices();
  }

  async refreshDevices(): Promise<void> {
    const devices = await navigator.mediaDevices.enumerateDevices();
    this.cameras = devices.filter((d) => d.kind === 'videoinput' && d.deviceId !== '');
    this.microphones = devices.filter((d) => d.kind === 'audioinput' && d.deviceId !== '');
    this.speakers = devices.filter((d) => d.kind === 'audiooutput' && d.deviceId !== '');
    this.cameraId ||= this.videoTrack?.getSettings().deviceId ?? '';
    this.microphoneId ||= this.audioTrack?.getSettings().deviceId ?? '';
  }

  /** A fresh camera track, e.g. to turn the camera back on after it was released. */
  async openCamera(): Promise<MediaStreamTrack> {
    const size = { width: { ideal: 1280 }, height: { ideal: 720 } };
    const stream = await navigator.mediaDevices.getUserMedia({
      video: this.cameraId ? { deviceId: { exact: this.cameraId }, ...size } : size,
    });
    const track = stream.getVideoTracks()[0];
    if (track === undefined) throw new DOMException('no video track', 'NotFoundError');
    return track;
  }

  /** A fresh microphone track from the chosen microphone, e.g. to switch microphones in a call. */
  async openMicrophone(): Promise<MediaStreamTrack> {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: this.microphoneId ? { deviceId: { exact: this.microphoneId } } : true,
    });
    const track = stream.getAudioTracks()[0];
    if (track === undefined) throw new DOMException('no audio track', 'NotFoundError');
    return track;
  }

  stop(): void {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
  }
}
