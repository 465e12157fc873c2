// Response hardening headers (server/src/http/securityHeaders.ts).
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { setSecurityHeaders } from '../../../server/src/http/securityHeaders.ts';

function headersFor(tls: boolean): Map<string, string> {
  const headers = new Map<string, string>();
  const res = {
    setHeader(name: string, value: string) {
      headers.set(name.toLowerCase(), value);
      return res;
    },
  };
  setSecurityHeaders(res as unknown as ServerResponse, tls);
  return headers;
}

/** Splits a Content-Security-Policy into directive → sources. */
function parseCsp(csp: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name !== undefined && name !== '') directives.set(name, sources);
  }
  return directives;
}

describe('setSecurityHeaders', () => {
  it('sets a CSP that forbids framing, plugins and scripts from anywhere but this origin', () => {
    const csp = headersFor(false).get('content-security-policy');
    expect(csp).toBeDefined();
    const directives = parseCsp(csp ?? '');
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(csp).not.toMatch(/unsafe-eval/);
    expect(directives.get('worker-src')).toEqual(["'self'"]);
    // No inline or evaluated script anywhere: the script sources allow this origin's files only.
    for (const directive of ['script-src', 'worker-src', 'default-src']) {
      expect(directives.get(directive)?.join(' '), directive).not.toMatch(/unsafe|data:|blob:|\*/);
    }
  });

  it('sets the usual hardening headers', () => {
    const headers = headersFor(false);
    expect(headers.get('referrer-policy')).toBe('no-referrer');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(headers.get('permissions-policy')).toMatch(/camera=\(self\)/);
    expect(headers.get('permissions-policy')).toMatch(/geolocation=\(\)/);
  });

  it('sends Strict-Transport-Security only over TLS', () => {
    expect(headersFor(false).has('strict-transport-security')).toBe(false);
    expect(headersFor(true).get('strict-transport-security')).toMatch(/^max-age=\d{7,}/);
  });
});
