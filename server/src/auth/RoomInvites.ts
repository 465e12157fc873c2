// Who may get a session, and with which user id and name: the rules between an invite and a session.
//
// What must hold:
// - a room is entered only with an invite: a new meeting's creator gets a host invite, and the
//   people they share the link with a guest invite; nobody can mint an invite for an existing room
//   by naming it (only the operator can, with `npm run invite`);
// - a named invite fixes both the user id and the display name; whatever name is asked for is
//   ignored (the response says which name the session carries);
// - a renewal (`previous`) keeps the user id only of a session minted from this same invite, in this
//   same room: a guest link cannot take over a named user's id with that user's old session;
// - a revoked invite mints nothing, an exhausted one admits nobody new, and a room's former guest
//   links admit nobody new (InviteStore); the sessions a revoked invite minted open no more sockets
//   and are taken by no socket renewal (verifySession).
import { randomInt } from 'node:crypto';
import { ConclaveError } from '../errors.ts';
import type { InviteStore } from './InviteStore.ts';
import {
  INVITE_ID_PATTERN,
  ROOM_ID_PATTERN,
  newUserId,
  normalizeDisplayName,
  type InviteClaims,
  type SessionClaims,
  type SessionVerifier,
  type TokenAuthority,
} from './tokens.ts';

/** Longer than any invite lives: how long a revocation of an invite of unknown expiry is kept. */
const REVOCATION_SECONDS = 31 * 86400;

export interface NewMeeting {
  room: string;
  /** For the creator: makes them the meeting's first host. */
  hostInvite: string;
  /** For everyone else: the link the creator shares. */
  guestInvite: string;
  guestInviteUrl: string;
}

export interface GuestInvite {
  jti: string;
  invite: string;
  inviteUrl: string;
}

/** What a session is minted with, once its invite has been admitted. */
export interface SessionGrant {
  room: string;
  sub: string;
  name: string;
  host: boolean;
  inv: string;
}

export function inviteUrl(publicUrl: string, room: string, invite: string): string {
  return `${publicUrl}/r/${room}#t=${invite}`;
}

/** Meeting-style room ids ("abc-defg-hij"): easy to read aloud, 47 bits of randomness. */
export function newRoomId(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const part = (n: number) => Array.from({ length: n }, () => letters[randomInt(letters.length)]).join('');
  return `${part(3)}-${part(4)}-${part(3)}`;
}

export class RoomInvites implements SessionVerifier {
  readonly #tokens: TokenAuthority;
  readonly #store: InviteStore;
  readonly #publicUrl: () => string;

  constructor(options: { tokens: TokenAuthority; store: InviteStore; publicUrl: () => string }) {
    this.#tokens = options.tokens;
    this.#store = options.store;
    this.#publicUrl = options.publicUrl;
  }

  /** A fresh room (random id), with a host invite for its creator and a guest invite to share. */
  async createMeeting(): Promise<NewMeeting> {
    const room = newRoomId();
    const hostInvite = await this.#tokens.mintInvite({ room, host: true });
    const guestInvite = await this.#tokens.mintInvite({ room });
    return { room, hostInvite, guestInvite, guestInviteUrl: inviteUrl(this.#publicUrl(), room, guestInvite) };
  }

  /**
   * "Reset invite link": a new guest invite for `room`, recorded as the room's only one, so every
   * earlier guest link of the room admits nobody new. People already in the meeting through an old
   * link keep renewing their sessions (InviteStore's 'retired'). Call it only for an authenticated
   * host of `room`; it checks nothing about the caller.
   */
  async rotateGuestInvite(room: string): Promise<GuestInvite> {
    if (!ROOM_ID_PATTERN.test(room)) throw new TypeError('invalid room id');
    const { token, jti } = await this.#tokens.mintInviteWithId({ room });
    this.#store.setCurrentGuestInvite(room, jti);
    return { jti, invite: token, inviteUrl: inviteUrl(this.#publicUrl(), room, token) };
  }

  /** Revokes one invite by its id: no more sessions from it, nor renewals of sessions it minted. */
  revoke(jti: string): void {
    if (!INVITE_ID_PATTERN.test(jti)) throw new TypeError('invalid invite id');
    this.#store.revoke(jti, Math.floor(Date.now() / 1000) + REVOCATION_SECONDS);
  }

  /**
   * A session token's check for the sockets (handshake and `renew`): TokenAuthority's, and its
   * invite must not have been revoked. A room's retired guest links still count (people already in
   * keep their sockets); only a revocation ends them, at the next handshake or renewal.
   */
  async verifySession(token: unknown, room?: string): Promise<SessionClaims> {
    const session = await this.#tokens.verifySession(token, room);
    if (session.inv !== undefined && this.#store.isRevoked(session.inv)) {
      throw new ConclaveError('invite-revoked', 'the invite of this session has been revoked', 403);
    }
    return session;
  }

  /**
   * Checks an invite (and the session it renews, if any) and says what session it may have.
   * Throws ConclaveError: 401 for a bad or expired token, 403 for a refused one.
   */
  async admit(request: {
    invite: string;
    name: string;
    previous?: string | undefined;
  }): Promise<SessionGrant> {
    const invite = await this.#tokens.verifyInvite(request.invite);
    // Checked even when a named invite's own name wins: every input is validated.
    const askedName = normalizeDisplayName(request.name);
    const renewed =
      request.previous === undefined ? undefined : await this.#renewedSession(invite, request.previous);
    this.#store.admit(invite, renewed !== undefined);
    return {
      room: invite.room,
      sub: invite.sub ?? renewed?.sub ?? newUserId(),
      name: invite.name ?? askedName,
      host: invite.host === true,
      inv: invite.jti,
    };
  }

  /** The session a renewal continues: one this same invite minted, for its room (and its named user). */
  async #renewedSession(invite: InviteClaims, previous: string): Promise<SessionClaims> {
    const session = await this.#tokens.verifySession(previous, invite.room);
    const sameInvite = session.inv === invite.jti;
    const sameUser = invite.sub === undefined || session.sub === invite.sub;
    if (!sameInvite || !sameUser) {
      throw new ConclaveError('forbidden', 'a session is renewed only with the invite it was made from', 403);
    }
    return session;
  }
}
