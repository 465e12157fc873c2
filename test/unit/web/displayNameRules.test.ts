// The pre-join form's name check (web/src/lib/meeting/displayNameRules.ts), against the server's
// own rule: the form must never accept a name the server refuses, nor refuse one it accepts.
import { describe, expect, it } from 'vitest';
import { normalizeDisplayName } from '../../../server/src/auth/tokens.ts';
import { displayNameProblem } from '../../../web/src/lib/meeting/displayNameRules.ts';

const NAMES = [
  'Ada',
  '  Ada  ',
  '李小龍 🎥',
  'José',
  'x'.repeat(64),
  'x'.repeat(65),
  '',
  ' \t ',
  'Ada\nLovelace',
  'Ada\u0000',
  '\u001b[31mred',
  'Ada\u0085',
  'Ada\u202Egpj.exe',
  'Ad\u200Ba',
  '\uFEFFAda',
  'A\u00ADda',
  '\u2066Ada',
];

function serverAccepts(name: string): boolean {
  try {
    normalizeDisplayName(name);
    return true;
  } catch {
    return false;
  }
}

describe('displayNameProblem', () => {
  it.each(NAMES.map((n) => [JSON.stringify(n), n]))('agrees with the server on %s', (_label, name) => {
    expect(displayNameProblem(name) === null).toBe(serverAccepts(name));
  });

  it('explains control and invisible formatting characters', () => {
    expect(displayNameProblem('Ad\u200Ba')).toMatch(/invisible formatting characters/);
    expect(displayNameProblem('evil\u202Etxt')).toMatch(/right-to-left override/);
    expect(displayNameProblem('x'.repeat(65))).toMatch(/at most 64 characters/);
  });
});
