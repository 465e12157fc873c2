// Which Origin may open a socket (server/src/http/originPolicy.ts).
import { describe, expect, it } from 'vitest';
import { originAllowed } from '../../../server/src/http/originPolicy.ts';

describe('originAllowed', () => {
  const own = 'https://meet.example.org';

  it('lets the own origin and no Origin at all (non-browser clients, which still need a token) in', () => {
    expect(originAllowed('https://meet.example.org', own)).toBe(true);
    expect(originAllowed(undefined, own)).toBe(true);
  });

  it('refuses other sites, other schemes and ports, look-alikes, "null" and garbage', () => {
    for (const origin of [
      'https://evil.example',
      'http://meet.example.org',
      'https://meet.example.org:8443',
      'https://meet.example.org.evil.example',
      'null',
      '',
      'not a url',
    ]) {
      expect(originAllowed(origin, own), origin).toBe(false);
    }
  });
});
