// Invite links look like /r/<room>#t=<token>. The token sits in the fragment, which browsers never
// send to servers, so it cannot end up in an access log.

export function roomFromPath(pathname: string): string | undefined {
  return /^\/r\/([a-z0-9][a-z0-9-]{2,63})\/?$/.exec(pathname)?.[1];
}

export function tokenFromHash(hash: string): string | undefined {
  return hashParameter(hash, 't');
}

/**
 * The guest invite a new meeting's creator shares (`g`): their own `t` is a host invite, which is
 * theirs alone. Home puts it there (`/r/<room>#t=<host invite>&g=<guest invite>`).
 */
export function guestTokenFromHash(hash: string): string | undefined {
  return hashParameter(hash, 'g');
}

function hashParameter(hash: string, name: string): string | undefined {
  const value = new URLSearchParams(hash.replace(/^#/, '')).get(name);
  return value === null || value === '' ? undefined : value;
}

export function inviteLink(origin: string, room: string, token: string): string {
  return `${origin}/r/${room}#t=${token}`;
}

export interface PeekedClaims {
  exp?: number;
  name?: string;
  room?: string;
  sub?: string;
  host?: boolean;
}

/** Reads the claims of a JWT without verifying it (the server verifies); for display only. */
export function peekClaims(token: string): PeekedClaims {
  try {
    const payload = token.split('.')[1] ?? '';
    return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as PeekedClaims;
  } catch {
    return {};
  }
}

/** A guest invite names nobody and makes no host: the one kind of invite meant to be passed on. */
export function isShareable(claims: PeekedClaims): boolean {
  return claims.sub === undefined && claims.host !== true;
}
