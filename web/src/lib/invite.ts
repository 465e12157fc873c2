// Invite links look like /r/<room>#t=<token>. The token sits in the fragment, which browsers never
// send to servers, so it cannot end up in an access log.

export function roomFromPath(pathname: string): string | undefined {
  return /^\/r\/([a-z0-9][a-z0-9-]{2,63})\/?$/.exec(pathname)?.[1];
}

export function tokenFromHash(hash: string): string | undefined {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('t');
  return token === null || token === '' ? undefined : token;
}

export function inviteLink(origin: string, room: string, token: string): string {
  return `${origin}/r/${room}#t=${token}`;
}

/** Reads the claims of a JWT without verifying it (the server verifies); for display only. */
export function peekClaims(token: string): { exp?: number; name?: string; room?: string } {
  try {
    const payload = token.split('.')[1] ?? '';
    return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number; name?: string };
  } catch {
    return {};
  }
}
