// Which `Origin` may open a socket.io connection: the server's own (its public URL's origin), or
// none at all. Browsers always send Origin on a WebSocket handshake, so a page of another site,
// open in a participant's browser, cannot reach signaling or the key service. A request without
// Origin comes from a non-browser client (the CLI, tests, a native app); that is safe to let on,
// because such a client cannot borrow a victim's credentials: every socket still needs a valid
// session token in its handshake, and no cookie or ambient authority exists to abuse.
export function originAllowed(origin: string | undefined, ownOrigin: string): boolean {
  if (origin === undefined) return true;
  try {
    return new URL(origin).origin === ownOrigin;
  } catch {
    return false; // "null" (sandboxed frames, file://) and garbage are foreign
  }
}
