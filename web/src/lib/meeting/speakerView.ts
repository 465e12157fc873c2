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
  isSpeaking: boolean;
}

/**
 * The participant shown large: whoever else is speaking now; when nobody is (or only you are), the
 * last other person who spoke, so the view does not jump at every pause; else the first other
 * person; and you only when you are alone. Your own voice never puts you there, as in Meet or Jitsi.
 */
export function featuredPeer(
  participants: readonly Candidate[],
  lastSpeaker: string | null,
): string | undefined {
  const others = participants.filter((p) => !p.isLocal);
  return (
    others.find((p) => p.isSpeaking)?.peerId ??
    others.find((p) => p.peerId === lastSpeaker)?.peerId ??
    others[0]?.peerId ??
    participants[0]?.peerId
  );
}
