// The speaker every remote participant's sound plays on, chosen during the meeting. Shared through
// Svelte context so each <audio> follows the choice without the tiles passing it down.
import { getContext, setContext } from 'svelte';

const CONTEXT_KEY = Symbol('conclave:audio-output');

export class AudioOutput {
  /** An `audiooutput` device id; '' is the system default. */
  deviceId = $state('');

  /** Whether this browser lets a page choose where an element plays (HTMLMediaElement.setSinkId). */
  static isSupported(): boolean {
    return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
  }
}

/** Call during a component's initialisation: its descendants' audio plays on `output`. */
export function provideAudioOutput(output: AudioOutput): void {
  setContext(CONTEXT_KEY, output);
}

/** The speaker chosen above this component, if any. */
export function chosenAudioOutput(): AudioOutput | undefined {
  return getContext<AudioOutput | undefined>(CONTEXT_KEY);
}
