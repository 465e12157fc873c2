// Speaker view: when it switches on by itself, and who is shown large.
import { describe, expect, it } from 'vitest';
import {
  AUTO_SPEAKER_VIEW_ABOVE,
  featuredPeer,
  usesSpeakerView,
} from '../../../web/src/lib/meeting/speakerView.ts';

const p = (peerId: string, more: { isLocal?: boolean; isSpeaking?: boolean; speaking?: boolean } = {}) => ({
  peerId,
  isLocal: false,
  isSpeaking: false,
  speaking: false,
  ...more,
});

describe('usesSpeakerView', () => {
  it('follows an explicit choice, and switches on by itself above the threshold', () => {
    expect(usesSpeakerView('speaker', 2)).toBe(true);
    expect(usesSpeakerView('grid', 40)).toBe(false);
    expect(usesSpeakerView('auto', AUTO_SPEAKER_VIEW_ABOVE)).toBe(false);
    expect(usesSpeakerView('auto', AUTO_SPEAKER_VIEW_ABOVE + 1)).toBe(true);
  });
});

describe('featuredPeer', () => {
  const me = p('me', { isLocal: true });

  it('shows another person who speaks, preferring the SFU’s dominant speaker among them', () => {
    expect(featuredPeer([me, p('a'), p('b', { isSpeaking: true })], null)).toBe('b');
    const both = [me, p('a', { isSpeaking: true }), p('b', { isSpeaking: true, speaking: true })];
    expect(featuredPeer(both, null)).toBe('b');
  });

  it('ignores the SFU’s pick when that person makes no sound (e.g. muted)', () => {
    expect(featuredPeer([me, p('a', { speaking: true }), p('b', { isSpeaking: true })], null)).toBe('b');
  });

  it('keeps the last speaker through a pause, and never features you for your own voice', () => {
    const quiet = [p('me', { isLocal: true, isSpeaking: true }), p('a'), p('b')];
    expect(featuredPeer(quiet, 'b')).toBe('b');
    expect(featuredPeer(quiet, null)).toBe('a');
    expect(featuredPeer(quiet, 'gone')).toBe('a');
  });

  it('shows you only when you are alone', () => {
    expect(featuredPeer([me], null)).toBe('me');
    expect(featuredPeer([], null)).toBeUndefined();
  });
});
