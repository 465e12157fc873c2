// Who is making sound, judged from the audio itself: an analyser on each participant's microphone
// track (decrypted, for others; our own track, for us) measures its loudness several times a second.
//
// Why not only the SFU's dominant-speaker events: those come from the RTP audio-level header
// extension, which the sender writes in the clear and the server could alter, while the decoded
// audio has passed SFrame's authentication. And the SFU's speech detector (mediasoup's
// ActiveSpeakerObserver) treats steady sound as background noise, whereas a person expects any
// sound they hear to light up its source, as Meet's level bars do.
import type { Participant } from './Participant.svelte.ts';

/** Louder than this (RMS, dB below full scale) counts as sound: speech is about -30 to -15 dBFS. */
export const AUDIBLE_DBFS = -45;
/** Sound marks someone as audible at once, and silence clears it only after this long (pauses). */
export const HANG_MS = 800;
const SAMPLE_MS = 150;

interface Watched {
  track: MediaStreamTrack;
  source: MediaStreamAudioSourceNode;
  analyser: AnalyserNode;
  lastSound: number;
}

export class VoiceActivity {
  readonly #participants: () => readonly Participant[];
  // Audio graph bookkeeping, never rendered from.
  readonly #watched = new Map<string, Watched>();
  readonly #samples = new Float32Array(1024);
  #context: AudioContext | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(participants: () => readonly Participant[]) {
    this.#participants = participants;
  }

  start(): void {
    this.#timer = setInterval(() => this.#sample(), SAMPLE_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    for (const peerId of [...this.#watched.keys()]) this.#unwatch(peerId);
    void this.#context?.close();
    this.#context = undefined;
  }

  #sample(): void {
    const now = performance.now();
    const participants = this.#participants();
    const present = new Set(participants.map((p) => p.peerId));
    for (const peerId of this.#watched.keys()) if (!present.has(peerId)) this.#unwatch(peerId);
    for (const participant of participants) {
      const watched = this.#watch(participant);
      if (watched !== undefined && loudness(watched.analyser, this.#samples) > AUDIBLE_DBFS)
        watched.lastSound = now;
      const audible = watched !== undefined && now - watched.lastSound < HANG_MS;
      if (participant.audible !== audible) participant.audible = audible;
    }
  }

  /** The analyser for the participant's current microphone track (a new one if it changed). */
  #watch(participant: Participant): Watched | undefined {
    const track = participant.tracks.mic;
    const current = this.#watched.get(participant.peerId);
    if (current?.track === track) return current;
    this.#unwatch(participant.peerId);
    if (track === undefined || track.readyState === 'ended') return undefined;
    this.#context ??= new AudioContext();
    if (this.#context.state === 'suspended') void this.#context.resume();
    const source = this.#context.createMediaStreamSource(new MediaStream([track]));
    const analyser = this.#context.createAnalyser();
    analyser.fftSize = this.#samples.length;
    source.connect(analyser);
    const watched = { track, source, analyser, lastSound: -Infinity };
    this.#watched.set(participant.peerId, watched);
    return watched;
  }

  #unwatch(peerId: string): void {
    const watched = this.#watched.get(peerId);
    if (watched === undefined) return;
    watched.source.disconnect();
    this.#watched.delete(peerId);
  }
}

/** RMS level of the analyser's latest samples, in dBFS (-Infinity for digital silence). */
function loudness(analyser: AnalyserNode, samples: Float32Array<ArrayBuffer>): number {
  analyser.getFloatTimeDomainData(samples);
  let sum = 0;
  for (const s of samples) sum += s * s;
  return 10 * Math.log10(sum / samples.length);
}
