// The header's encryption badge (web/src/lib/e2ee/meetingBadge.ts): the count of key holders, and a
// tone, said in words too: red for a membership problem, amber for a changed key or keys pending,
// and neutral (ok) for everything else, including keys seen for the first time.
import { describe, expect, it } from 'vitest';
import { meetingBadge, type BadgeInput } from '../../../web/src/lib/e2ee/meetingBadge.ts';
import { NO_FINDINGS } from '../../../web/src/lib/e2ee/rosterCheck.ts';

const ready: BadgeInput = {
  status: 'ready',
  memberCount: 4,
  refused: false,
  findings: NO_FINDINGS,
  keyChanged: false,
};
const leaf = { leafIndex: 3, userId: 'mallory', fingerprint: 'ab:cd' };

describe('meetingBadge', () => {
  it('says how many hold the keys', () => {
    expect(meetingBadge(ready)).toMatchObject({ text: 'End-to-end encrypted · 4 hold the keys', tone: 'ok' });
    expect(meetingBadge({ ...ready, memberCount: 1 }).text).toBe('End-to-end encrypted · 1 holds the keys');
  });

  it('is amber while the keys are pending', () => {
    for (const status of ['starting', 'rejoining'] as const)
      expect(meetingBadge({ ...ready, status })).toMatchObject({
        text: 'End-to-end encrypted · keys pending',
        tone: 'warning',
      });
  });

  it('is amber when a key changed', () => {
    expect(meetingBadge({ ...ready, keyChanged: true })).toMatchObject({
      text: 'End-to-end encrypted · 4 hold the keys · a key changed',
      tone: 'warning',
    });
  });

  it('is red when this browser refused a commit, or the roster check found a problem', () => {
    const red = [
      { ...ready, refused: true },
      { ...ready, findings: { ...NO_FINDINGS, unlisted: [leaf] } },
      { ...ready, findings: { ...NO_FINDINGS, duplicates: [{ userId: 'bob', leaves: [leaf, leaf] }] } },
      { ...ready, findings: { ...NO_FINDINGS, notInGroup: ['carol'] } },
    ];
    for (const input of red) expect(meetingBadge(input).tone).toBe('danger');
    expect(meetingBadge(red[0]!).text).toBe('End-to-end encrypted · 4 hold the keys · check who holds them');
  });

  it('puts red above amber: a refusal while a key changed and keys are pending', () => {
    expect(meetingBadge({ ...ready, status: 'rejoining', keyChanged: true, refused: true }).tone).toBe(
      'danger',
    );
  });

  it('says so when encryption failed', () => {
    expect(meetingBadge({ ...ready, status: 'failed' })).toMatchObject({
      text: 'Encryption failed',
      tone: 'danger',
    });
  });
});
