// Time-limited TURN credentials in coturn's REST-API scheme (`use-auth-secret` with
// `static-auth-secret`): the server and coturn share a secret, and each client gets
//   username   = "<unix expiry>:<user id>"
//   credential = base64(HMAC-SHA1(secret, username))
// coturn recomputes the HMAC and refuses an expired username, so a credential that leaks is good
// only for its user and until its expiry. What must hold: the secret never leaves this module's
// caller (not in responses, logs or errors); only the derived credential does.
import { createHmac } from 'node:crypto';

export interface TurnSettings {
  /** turn: / turns: URLs of the relay. */
  urls: string[];
  secret: string;
  ttlSeconds: number;
}

export interface TurnIceServer {
  urls: string[];
  username: string;
  credential: string;
}

/** A credential for `userId` valid for `ttlSeconds` from `nowMs`. */
export function mintTurnCredential(
  settings: TurnSettings,
  userId: string,
  nowMs = Date.now(),
): TurnIceServer {
  const expiry = Math.floor(nowMs / 1000) + settings.ttlSeconds;
  const username = `${expiry}:${userId}`;
  return { urls: [...settings.urls], username, credential: turnPassword(settings.secret, username) };
}

/** coturn's REST-API password for a username: base64 of HMAC-SHA1 keyed with the shared secret. */
export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}
