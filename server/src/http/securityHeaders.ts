// Headers on every HTTP response: a strict Content-Security-Policy (scripts and workers only from
// this origin, no framing), no referrer (invite tokens live in URL fragments, but be sure), and the
// usual hardening.
import type { ServerResponse } from 'node:http';

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // The crypto worker is a file of the build (no blob: or data: workers).
  "worker-src 'self'",
  // Svelte sets inline style attributes (transitions, dynamic sizes).
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  // 'self' covers same-origin ws: and wss: (CSP Level 3): socket.io and nothing else.
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function setSecurityHeaders(res: ServerResponse, tls: boolean): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader(
    'Permissions-Policy',
    'camera=(self), microphone=(self), display-capture=(self), geolocation=()',
  );
  if (tls) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
}
