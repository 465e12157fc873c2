// The meeting-wide encryption badge in the header: "End-to-end encrypted · 4 hold the keys", the
// number being the MLS group's members (leaves), which is what every member's browser holds and the
// server cannot fake. Its tone says whether anything needs a look, in words as well as colour:
//
// - danger (red): this browser refused a commit that broke the membership policy, or the roster
//   check found keys held by someone unlisted, twice by one name, or a listed person outside the
//   group (rosterCheck.ts);
// - warning (amber): a member's key changed since this browser last met them, or the keys are still
//   pending (starting, rejoining);
// - ok: none of that. A key seen for the first time is not a warning (keyTrust.ts 'new').
import type { RosterFindings } from './rosterCheck.ts';
import type { EncryptionStatus } from './MeetingEncryption.svelte.ts';

export type BadgeTone = 'ok' | 'warning' | 'danger';

export interface BadgeInput {
  status: EncryptionStatus;
  memberCount: number;
  refused: boolean;
  findings: RosterFindings;
  keyChanged: boolean;
}

export interface BadgeLook {
  /** The badge's text and accessible name. */
  text: string;
  tone: BadgeTone;
  /** A longer explanation (its tooltip). */
  detail: string;
}

export function holdersText(count: number): string {
  return `${count} ${count === 1 ? 'holds' : 'hold'} the keys`;
}

export function meetingBadge(input: BadgeInput): BadgeLook {
  const base = `End-to-end encrypted · ${holdersText(input.memberCount)}`;
  const { findings } = input;
  if (input.status === 'failed')
    return {
      text: 'Encryption failed',
      tone: 'danger',
      detail: 'Nothing is sent or shown without the meeting keys.',
    };
  if (input.refused || findings.duplicates.length > 0 || findings.unlisted.length > 0)
    return {
      text: `${base} · check who holds them`,
      tone: 'danger',
      detail: 'The membership check found a problem. Compare the security code.',
    };
  if (findings.notInGroup.length > 0)
    return {
      text: `${base} · someone is outside`,
      tone: 'danger',
      detail: 'Someone listed in the room is not in the encryption group.',
    };
  if (input.status !== 'ready')
    return {
      text: 'End-to-end encrypted · keys pending',
      tone: 'warning',
      detail: 'Nothing is sent until the meeting keys arrive.',
    };
  if (input.keyChanged)
    return {
      text: `${base} · a key changed`,
      tone: 'warning',
      detail: "Someone's security key changed since this browser last met them. Compare the security code.",
    };
  return { text: base, tone: 'ok', detail: 'Show the security code and who holds the keys.' };
}
