// What makes a display name acceptable, as the pre-join form says it before the server is asked.
// The server's rule (server/src/auth/tokens.ts, normalizeDisplayName) is the one that counts; this is
// the same rule, so that a refused name is explained next to the field instead of after Join.
// Control (\p{Cc}) and format (\p{Cf}) characters are refused: a right-to-left override (U+202E)
// or a zero-width space (U+200B) can make one name pass for another.

export const MAX_DISPLAY_NAME_LENGTH = 64;

/** Why `raw` cannot be a display name, in words for the form; null when it can. */
export function displayNameProblem(raw: string): string | null {
  if (/[\p{Cc}\p{Cf}]/u.test(raw.replace(/^[ \t]+|[ \t]+$/g, ''))) {
    return 'Names cannot contain control characters or invisible formatting characters (such as a zero-width space or a right-to-left override).';
  }
  const name = raw.normalize('NFC').trim();
  if (name.length === 0) return 'Enter your name.';
  if (name.length > MAX_DISPLAY_NAME_LENGTH)
    return `Names have at most ${MAX_DISPLAY_NAME_LENGTH} characters.`;
  return null;
}
