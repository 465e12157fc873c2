// Speaker view: who is shown large, and when the meeting switches to speaker view by itself.

/** Above this many people, tiles in a grid get too small to see faces: speaker view by default. */
export const AUTO_SPEAKER_VIEW_ABOVE = 6;

export type LayoutChoice = 'auto' | 'grid' | 'speaker';

export function usesSpeakerView(choice: LayoutChoice, people: number): boolean {
  return choice === 'speaker' || (choice === 'auto' && people > AUTO_SPEAKER_VIEW_ABOVE);
}

interface Candidate {
  peerId: string;
  isLocal: boolean;
  /** Making sound, microphone on. */
  isSpeaking: boolean;
  /** The SFU's dominant speaker (its speech detector tells a voice from noise). */
  speaking: boolean;
}

/**
 * The participant shown large: among the others who are speaking now, the SFU's dominant speaker,
 * else the first; when nobody else speaks, the last other person who did, so the view does not
 * jump at every pause; else the first other person; and you only when you are alone. Your own voice
 * never puts you there, as in Meet or Jitsi.
 */
export function featuredPeer(
  participants: readonly Candidate[],
  lastSpeaker: string | null,
): string | undefined {
  const others = participants.filter((p) => !p.isLocal);
  const speaking = others.filter((p) => p.isSpeaking);
  return (
    (speaking.find((p) => p.speaking) ?? speaking[0])?.peerId ??
    others.find((p) => p.peerId === lastSpeaker)?.peerId ??
    others[0]?.peerId ??
    participants[0]?.peerId
  );
}
