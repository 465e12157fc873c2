// The names the meeting shows for user ids (web/src/lib/meeting/knownNames.ts).
import { describe, expect, it } from 'vitest';
import { KnownNames } from '../../../web/src/lib/meeting/knownNames.ts';

describe('KnownNames', () => {
  it('names someone as listed now, and keeps the name once they are gone', () => {
    const names = new KnownNames();
    names.remember([{ userId: 'bob-0001', displayName: 'Bob' }]);
    expect(names.nameOf('bob-0001', [{ userId: 'bob-0001', displayName: 'Bob' }])).toBe('Bob');
    expect(names.nameOf('bob-0001', [])).toBe('Bob');
  });

  it('takes the current listing over an older name', () => {
    const names = new KnownNames();
    names.remember([{ userId: 'bob-0001', displayName: 'Bob' }]);
    expect(names.nameOf('bob-0001', [{ userId: 'bob-0001', displayName: 'Robert' }])).toBe('Robert');
    expect(names.nameOf('bob-0001', [])).toBe('Robert');
  });

  it('never shows a user id nobody named as a name', () => {
    const names = new KnownNames();
    names.remember([{ userId: 'alice-01', displayName: 'Alice' }]);
    expect(names.nameOf('OSAWjsBRxyz', [])).toBe('Unknown member (OSAWjsBR)');
  });
});
