// What people read when their browser refused a change of the meeting's membership: who tried what,
// in names, from the policy's violation (membership-policy.ts). The committer and subjects are MLS
// user ids, authenticated by the committer's signature; names come from the participant list.
import type { Violation } from '@conclave/key-service/client';

export interface RefusalText {
  headline: string;
  detail: string;
}

export function refusalText(violation: Violation, nameOf: (userId: string) => string): RefusalText {
  const who = violation.committer === undefined ? 'Someone' : nameOf(violation.committer);
  const subject = violation.subjects[0] === undefined ? 'someone' : nameOf(violation.subjects[0]);
  switch (violation.code) {
    case 'add':
      return {
        headline: `${who} tried to add ${subject} to the meeting keys.`,
        detail: `Only a joiner's own browser can bring them into a meeting; an added "${subject}" would hold keys that ${who} made.`,
      };
    case 'remove-present':
      return {
        headline: `${who} tried to remove ${subject}, who is still in the meeting.`,
        detail: 'Nobody can take the keys away from someone who is still here.',
      };
    case 'remove-foreign':
      return {
        headline: `${who} tried to remove ${subject} while joining.`,
        detail: 'A joiner may replace only their own earlier connection.',
      };
    case 'identity-change':
      return {
        headline: `${who} tried to change their identity in the meeting keys.`,
        detail: 'A member keeps the name and signature key they joined with.',
      };
    default:
      return {
        headline: `${who} tried to make a change to the meeting keys that a meeting never needs.`,
        detail: `(${violation.message}.)`,
      };
  }
}
