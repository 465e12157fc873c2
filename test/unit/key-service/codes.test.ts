import { describe, expect, it } from 'vitest';
import { fingerprint, securityCode } from '@conclave/key-service/client';

describe('security code', () => {
  it('is six groups of five digits, deterministic, and sensitive to every input byte it uses', () => {
    const auth = new Uint8Array(32).map((_, i) => i * 7);
    const code = securityCode(auth);
    expect(code).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(securityCode(auth.slice())).toBe(code);
    for (let i = 0; i < 30; i++) {
      const changed = auth.slice();
      changed[i] = (changed[i] ?? 0) ^ 0x01;
      expect(securityCode(changed)).not.toBe(code);
    }
  });

  it('matches a hand-computed value', () => {
    // bytes 0..4 = 00 00 00 00 01 → 1 → "00001"; the rest zero.
    const auth = new Uint8Array(32);
    auth[4] = 1;
    expect(securityCode(auth)).toBe('00001 00000 00000 00000 00000 00000');
  });

  it('refuses a too-short authenticator', () => {
    expect(() => securityCode(new Uint8Array(16))).toThrow(RangeError);
  });
});

describe('fingerprint', () => {
  it('is the first 16 bytes of SHA-256 in groups of four hex digits', () => {
    // SHA-256("") = e3b0c442 98fc1c14 9afbf4c8 996fb924 ...
    expect(fingerprint(new Uint8Array(0))).toBe('e3b0 c442 98fc 1c14 9afb f4c8 996f b924');
  });
});
