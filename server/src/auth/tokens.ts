// Signed tokens (HMAC-SHA256 JWTs) that bind a holder to one room.
//
// Two kinds, so that an invite link can be shared while sockets stay short-lived and per-user:
// - an invite token travels in an invite link's URL fragment (never sent to the server in a URL);
//   it may be used by several people until it expires (or by at most `uses`), may name one person
//   (`sub`, `name`), and has an id (`jti`) that the invite store counts uses of and revokes;
// - a session token is minted from an invite for one user id and authenticates sockets (signaling
//   and key service). It names the invite it came from (`inv`), lives minutes, and a client renews
//   it from that same invite to reconnect.
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { randomBytes } from 'node:crypto';
import { ConclaveError } from '../errors.ts';

const ISSUER = 'conclave';
const INVITE_AUDIENCE = 'conclave:invite';
const SESSION_AUDIENCE = 'conclave:session';

export const ROOM_ID_PATTERN = /^[a-z0-9][a-z0-9-]{2,63}$/;
export const USER_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
export const INVITE_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
export const MAX_DISPLAY_NAME_LENGTH = 64;
/** The most people one use-limited invite may admit (`npm run invite -- --uses N`). */
export const MAX_INVITE_USES = 1_000_000;

export interface InviteClaims {
  /** The invite's id: what the invite store counts uses of and revokes. */
  jti: string;
  room: string;
  /** Present when the invite is for one named person; that person keeps the same user id. */
  sub?: string;
  name?: string;
  /** A host invite: its holder may create the meeting's group and so become its first host. */
  host?: true;
  /** At most this many people may get a session from it (renewals do not count). */
  uses?: number;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/** What an invite is minted with; `jti` is new and random unless given. */
export interface InviteRequest {
  room: string;
  sub?: string;
  name?: string;
  host?: boolean;
  uses?: number;
}

export interface SessionClaims {
  room: string;
  sub: string;
  name: string;
  /**
   * Minted from a host invite. The server's word only: it lets the key service accept this user's new
   * group, and nothing else. Who is host in an existing meeting is read from the MLS group.
   */
  host: boolean;
  /** The id of the invite it was minted from; absent for sessions minted without one (tests, tools). */
  inv?: string;
  exp: number;
}

/** What checks a session token: TokenAuthority alone, or RoomInvites (which also refuses revoked invites' sessions). */
export interface SessionVerifier {
  verifySession(token: unknown, room?: string): Promise<SessionClaims>;
}

export interface TokenLifetimes {
  inviteSeconds: number;
  sessionSeconds: number;
}

export function newUserId(): string {
  return randomBytes(16).toString('base64url');
}

export function newInviteId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Trims and bounds a display name. Control characters (\p{Cc}) could forge lines in logs and UI;
 * format characters (\p{Cf}: U+202E right-to-left override, U+200B zero-width space, ...) could make
 * one name look like another or reverse what follows it. Both are refused, not stripped: a name that
 * needs them is not the one its holder typed.
 */
export function normalizeDisplayName(raw: string): string {
  // Checked before trimming: trim() would quietly drop a leading U+FEFF, which is \p{Cf} too.
  if (/[\p{Cc}\p{Cf}]/u.test(raw.replace(/^[ \t]+|[ \t]+$/g, ''))) {
    throw new ConclaveError(
      'bad-request',
      'a display name may not contain control or invisible formatting characters',
    );
  }
  const name = raw.normalize('NFC').trim();
  if (name.length === 0 || name.length > MAX_DISPLAY_NAME_LENGTH) {
    throw new ConclaveError(
      'bad-request',
      `a display name has 1 to ${MAX_DISPLAY_NAME_LENGTH} printable characters`,
    );
  }
  return name;
}

export class TokenAuthority {
  readonly #key: Uint8Array;
  readonly #lifetimes: TokenLifetimes;

  constructor(secret: Uint8Array, lifetimes: TokenLifetimes) {
    if (secret.length < 32) throw new TypeError('the token secret must be at least 32 bytes');
    this.#key = secret;
    this.#lifetimes = lifetimes;
  }

  async mintInvite(claims: InviteRequest, ttlSeconds?: number): Promise<string> {
    return (await this.mintInviteWithId(claims, ttlSeconds)).token;
  }

  /** Mints an invite and returns its id too (to record it, or print it for a later revocation). */
  async mintInviteWithId(
    claims: InviteRequest,
    ttlSeconds?: number,
  ): Promise<{ token: string; jti: string; exp: number }> {
    assertRoomId(claims.room);
    const payload: Record<string, string | boolean | number> = { room: claims.room };
    if (claims.name !== undefined) payload['name'] = normalizeDisplayName(claims.name);
    if (claims.host === true) payload['host'] = true;
    if (claims.uses !== undefined) {
      if (!validUses(claims.uses)) throw new TypeError(`uses is an integer from 1 to ${MAX_INVITE_USES}`);
      payload['uses'] = claims.uses;
    }
    const jti = newInviteId();
    const seconds = ttlSeconds ?? this.#lifetimes.inviteSeconds;
    const exp = Math.floor(Date.now() / 1000) + seconds;
    const jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(INVITE_AUDIENCE)
      .setJti(jti)
      .setIssuedAt()
      .setExpirationTime(exp);
    if (claims.sub !== undefined) {
      if (!USER_ID_PATTERN.test(claims.sub)) throw new TypeError('invalid user id');
      jwt.setSubject(claims.sub);
    }
    return { token: await jwt.sign(this.#key), jti, exp };
  }

  async verifyInvite(token: unknown): Promise<InviteClaims> {
    const payload = await this.#verify(token, INVITE_AUDIENCE);
    const room = payload['room'];
    if (typeof room !== 'string' || !ROOM_ID_PATTERN.test(room))
      throw invalid('the invite names no valid room');
    // Every invite has an id: one without could be neither counted nor revoked.
    if (typeof payload.jti !== 'string' || !INVITE_ID_PATTERN.test(payload.jti))
      throw invalid('the invite has no valid id');
    const claims: InviteClaims = { jti: payload.jti, room, exp: payload.exp as number };
    if (typeof payload.sub === 'string') claims.sub = payload.sub;
    if (typeof payload['name'] === 'string') claims.name = payload['name'];
    if (payload['host'] === true) claims.host = true;
    if (payload['uses'] !== undefined) {
      if (!validUses(payload['uses'])) throw invalid('the invite has an invalid use count');
      claims.uses = payload['uses'];
    }
    return claims;
  }

  async mintSession(claims: {
    room: string;
    sub: string;
    name: string;
    host?: boolean;
    /** The id of the invite the session is minted from. */
    inv?: string;
  }): Promise<string> {
    assertRoomId(claims.room);
    if (!USER_ID_PATTERN.test(claims.sub)) throw new TypeError('invalid user id');
    if (claims.inv !== undefined && !INVITE_ID_PATTERN.test(claims.inv))
      throw new TypeError('invalid invite id');
    return new SignJWT({
      room: claims.room,
      name: normalizeDisplayName(claims.name),
      host: claims.host === true,
      ...(claims.inv === undefined ? {} : { inv: claims.inv }),
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(SESSION_AUDIENCE)
      .setSubject(claims.sub)
      .setIssuedAt()
      .setExpirationTime(`${this.#lifetimes.sessionSeconds}s`)
      .sign(this.#key);
  }

  /** Verifies a session token; with `room`, also that the token is for that room. */
  async verifySession(token: unknown, room?: string): Promise<SessionClaims> {
    const payload = await this.#verify(token, SESSION_AUDIENCE);
    const { sub } = payload;
    const tokenRoom = payload['room'];
    const name = payload['name'];
    if (typeof tokenRoom !== 'string' || !ROOM_ID_PATTERN.test(tokenRoom))
      throw invalid('the token names no valid room');
    if (typeof sub !== 'string' || !USER_ID_PATTERN.test(sub)) throw invalid('the token names no valid user');
    if (typeof name !== 'string') throw invalid('the token carries no display name');
    if (room !== undefined && room !== tokenRoom) {
      throw new ConclaveError('wrong-room', 'this token is for another room', 403);
    }
    const claims: SessionClaims = {
      room: tokenRoom,
      sub,
      name,
      host: payload['host'] === true,
      exp: payload.exp as number,
    };
    const inv = payload['inv'];
    if (inv !== undefined) {
      if (typeof inv !== 'string' || !INVITE_ID_PATTERN.test(inv))
        throw invalid('the token names no valid invite');
      claims.inv = inv;
    }
    return claims;
  }

  async #verify(token: unknown, audience: string) {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096)
      throw invalid('no token was given');
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        issuer: ISSUER,
        audience,
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'iat'],
      });
      return payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw new ConclaveError(
          'token-expired',
          'this invite or session has expired; ask for a new invite link',
          401,
        );
      }
      throw invalid('this invite or session token is not valid');
    }
  }
}

function assertRoomId(room: string): void {
  if (!ROOM_ID_PATTERN.test(room)) {
    throw new ConclaveError(
      'bad-request',
      'a room id has 3 to 64 characters: lowercase letters, digits and dashes',
    );
  }
}

function validUses(uses: unknown): uses is number {
  return typeof uses === 'number' && Number.isSafeInteger(uses) && uses >= 1 && uses <= MAX_INVITE_USES;
}

function invalid(message: string): ConclaveError {
  return new ConclaveError('token-invalid', message, 401);
}
