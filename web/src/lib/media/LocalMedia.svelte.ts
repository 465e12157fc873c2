// The local camera and microphone: device lists, the chosen devices, the preview stream, and
// plain-language errors when the browser refuses them.
//
// The pre-join page's Microphone and Camera toggles live here too. A microphone turned off keeps its
// track (disabled: it carries silence), so unmuting in the meeting is instant. A camera turned off
// is released (its light goes off) and its ended track stays in the stream: it tells the meeting
// that there is a camera, off, which opens again on "Turn camera on" (MeetingSession.toggleCamera).

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
  /** Whether to join with the microphone on (the pre-join page's Microphone toggle). */
  micOn = $state(true);
  /** Whether to join with the camera on (the pre-join page's Camera toggle). */
  cameraOn = $state(true);

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
    // A camera turned off stays off (and released) when the microphone is changed.
    const released = this.cameraOn ? null : this.videoTrack;
    this.stop();
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: this.microphoneId ? { deviceId: { exact: this.microphoneId } } : true,
        video: !this.cameraOn
          ? false
          : this.cameraId
            ? { deviceId: { exact: this.cameraId }, width: { ideal: 1280 }, height: { ideal: 720 } }
            : { width: { ideal: 1280 }, height: { ideal: 720 } },
      });
      for (const track of stream.getAudioTracks()) track.enabled = this.micOn;
      // Turned off while the devices were opening: release it at once.
      if (!this.cameraOn) for (const track of stream.getVideoTracks()) track.stop();
      this.stream = released === null ? stream : new MediaStream([...stream.getTracks(), released]);
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

  /** The pre-join Microphone toggle: off keeps the track but sends silence until unmuted. */
  setMicOn(on: boolean): void {
    this.micOn = on;
    for (const track of this.stream?.getAudioTracks() ?? []) track.enabled = on;
  }

  /** The pre-join Camera toggle: off releases the camera; on opens it again (join waits for it). */
  setCameraOn(on: boolean): Promise<void> {
    this.cameraOn = on;
    if (!on) {
      for (const track of this.stream?.getVideoTracks() ?? []) track.stop();
      return Promise.resolve();
    }
    this.#started = this.#started.then(() => this.#reopenCamera());
    return this.#started;
  }

  async #reopenCamera(): Promise<void> {
    if (!this.cameraOn || this.videoTrack?.readyState === 'live') return;
    try {
      const track = await this.openCamera();
      if (!this.cameraOn) {
        track.stop(); // turned off again while it opened
        return;
      }
      this.stream = new MediaStream([...(this.stream?.getAudioTracks() ?? []), track]);
    } catch (error) {
      this.cameraOn = false;
      this.problem = describeMediaError(error);
    }
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
