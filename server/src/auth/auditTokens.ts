// Audit tokens: what `npm run audit -- capture` presents to the server's capture endpoint. Signed
// with the server's token secret (so only someone holding it, the operator, can make one), scoped
// to one room, and short-lived. A separate audience from invites and sessions: an audit token opens
// no socket, and a session or invite token starts no capture.
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { ConclaveError } from '../errors.ts';
import { ROOM_ID_PATTERN } from './tokens.ts';

const ISSUER = 'conclave';
const AUDIT_AUDIENCE = 'conclave:audit';
/** Long enough to reach the server, short enough that a token copied out of a terminal is useless. */
export const AUDIT_TOKEN_SECONDS = 60;
/** Refuse tokens minted to live longer than this, whoever minted them. */
export const MAX_AUDIT_TOKEN_SECONDS = 15 * 60;

export interface AuditClaims {
  room: string;
  exp: number;
}

export class AuditTokenAuthority {
  readonly #key: Uint8Array;

  constructor(secret: Uint8Array) {
    if (secret.length < 32) throw new TypeError('the token secret must be at least 32 bytes');
    this.#key = secret;
  }

  async mint(room: string, ttlSeconds = AUDIT_TOKEN_SECONDS): Promise<string> {
    if (!ROOM_ID_PATTERN.test(room)) {
      throw new ConclaveError('bad-request', 'a room id has 3 to 64 lowercase letters, digits and dashes');
    }
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_AUDIT_TOKEN_SECONDS) {
      throw new TypeError(`an audit token lives 1 to ${MAX_AUDIT_TOKEN_SECONDS} seconds`);
    }
    return new SignJWT({ room })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(this.#key);
  }

  /** Verifies an audit token for `room`; throws ConclaveError (401 or 403) saying what is wrong. */
  async verify(token: unknown, room: string): Promise<AuditClaims> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
      throw invalid('no audit token was given');
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        issuer: ISSUER,
        audience: AUDIT_AUDIENCE,
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'iat'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw new ConclaveError('token-expired', 'this audit token has expired; mint a new one', 401);
      }
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud') {
        throw invalid('this is not an audit token (invites and sessions cannot start a capture)');
      }
      throw invalid('this audit token is not valid (is the CLI using the server’s token secret?)');
    }
    const tokenRoom = payload['room'];
    if (typeof tokenRoom !== 'string' || !ROOM_ID_PATTERN.test(tokenRoom)) {
      throw invalid('the audit token names no valid room');
    }
    if ((payload.exp as number) - (payload.iat as number) > MAX_AUDIT_TOKEN_SECONDS) {
      throw invalid(`an audit token may live at most ${MAX_AUDIT_TOKEN_SECONDS} seconds`);
    }
    if (tokenRoom !== room)
      throw new ConclaveError('wrong-room', 'this audit token is for another room', 403);
    return { room: tokenRoom, exp: payload.exp as number };
  }
}

function invalid(message: string): ConclaveError {
  return new ConclaveError('token-invalid', message, 401);
}
