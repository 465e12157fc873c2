// The invite store: what must outlive a server restart about invites. How many people each
// use-limited invite has admitted, which invites are revoked, and each room's current guest invite.
//
// One small JSON file in the data directory (`invites.json`, mode 0600), loaded at start and
// rewritten whole after every change, atomically: a temporary file is written, flushed and renamed
// over the old one, so a crash leaves the old file or the new one, never half of one. Every change
// is on disk before the request that made it is answered.
//
// What must hold:
// - what the file says is validated; a damaged file stops the server with a message naming it
//   (starting empty instead would un-revoke every revoked invite and refill every used-up one);
// - one server process owns the file (the CLI only mints tokens and never writes it);
// - an entry is dropped once its invite has expired, since an expired invite admits nobody anyway,
//   so the file holds at most the invites of the last invite lifetime that were limited or revoked.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConclaveError } from '../errors.ts';
import { INVITE_ID_PATTERN, ROOM_ID_PATTERN, type InviteClaims } from './tokens.ts';

export const INVITE_STORE_FILE = 'invites.json';
/** Longer than any invite may live (CONCLAVE_INVITE_TTL_SECONDS is at most 30 days). */
const GUEST_RECORD_SECONDS = 31 * 86400;

/**
 * 'revoked': the invite mints no session at all, renewals included.
 * A room's former guest invites (see `currentGuestInvite`) are "retired" instead: they admit nobody
 * new, while the people already in the meeting through them keep renewing their sessions.
 */
export type InviteStatus = 'usable' | 'revoked' | 'retired';

const inviteId = z.string().regex(INVITE_ID_PATTERN);
const seconds = z.number().int().nonnegative();
const storeSchema = z
  .object({
    version: z.literal(1),
    invites: z.record(
      inviteId,
      z.object({ exp: seconds, used: z.number().int().nonnegative(), revoked: z.boolean() }).strict(),
    ),
    guestInvites: z.record(
      z.string().regex(ROOM_ID_PATTERN),
      z.object({ jti: inviteId, keepUntil: seconds }).strict(),
    ),
  })
  .strict();
type InviteEntry = z.infer<typeof storeSchema>['invites'][string];
type GuestEntry = z.infer<typeof storeSchema>['guestInvites'][string];

/** In memory, Maps: keys come from requests, and no key can reach Object.prototype. */
interface StoreContents {
  invites: Map<string, InviteEntry>;
  guestInvites: Map<string, GuestEntry>;
}

export class InviteStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InviteStoreError';
  }
}

/** A guest invite names nobody and makes no host: the room's shareable link. */
export function isGuestInvite(invite: Pick<InviteClaims, 'sub' | 'host'>): boolean {
  return invite.sub === undefined && invite.host !== true;
}

export class InviteStore {
  readonly #file: string;
  readonly #contents: StoreContents;

  private constructor(file: string, contents: StoreContents) {
    this.#file = file;
    this.#contents = contents;
  }

  /** Loads the store of `dataDir` (an empty one if it has none yet). Throws InviteStoreError if damaged. */
  static open(dataDir: string): InviteStore {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(dataDir, INVITE_STORE_FILE);
    const store = new InviteStore(file, readContents(file));
    store.#prune(nowSeconds());
    return store;
  }

  /** Where the store lives (for messages and docs). */
  get file(): string {
    return this.#file;
  }

  status(invite: Pick<InviteClaims, 'jti' | 'room' | 'sub' | 'host'>): InviteStatus {
    if (this.isRevoked(invite.jti)) return 'revoked';
    const current = this.#contents.guestInvites.get(invite.room);
    if (isGuestInvite(invite) && current !== undefined && current.jti !== invite.jti) return 'retired';
    return 'usable';
  }

  isRevoked(jti: string): boolean {
    return this.#contents.invites.get(jti)?.revoked === true;
  }

  /** How many people a use-limited invite has admitted so far. */
  usesOf(jti: string): number {
    return this.#contents.invites.get(jti)?.used ?? 0;
  }

  /**
   * Lets `invite` mint a session, or throws a 403 saying why not. `renewal`: the holder already has
   * a session from this very invite, which takes no use and passes a retired invite.
   * A first session takes one of a limited invite's uses, and is on disk before this returns.
   */
  admit(invite: InviteClaims, renewal: boolean): void {
    const status = this.status(invite);
    if (status === 'revoked' || (status === 'retired' && !renewal)) {
      throw new ConclaveError(
        'invite-revoked',
        status === 'revoked'
          ? 'this invite has been revoked; ask the organiser for a new one'
          : 'this invite link has been replaced by a new one; ask the organiser for the new link',
        403,
      );
    }
    if (renewal || invite.uses === undefined) return;
    const used = this.usesOf(invite.jti);
    if (used >= invite.uses) {
      throw new ConclaveError(
        'invite-exhausted',
        `this invite has been used by as many people as it allows (${invite.uses}); ask the organiser for a new one`,
        403,
      );
    }
    this.#change(() => {
      this.#contents.invites.set(invite.jti, { exp: invite.exp, used: used + 1, revoked: false });
    });
  }

  /** Revokes an invite for good: it mints no session, renewal or not. */
  revoke(jti: string, exp: number): void {
    if (!INVITE_ID_PATTERN.test(jti)) throw new TypeError('invalid invite id');
    this.#change(() => {
      const entry = this.#contents.invites.get(jti);
      this.#contents.invites.set(jti, {
        exp: Math.max(exp, entry?.exp ?? 0),
        used: entry?.used ?? 0,
        revoked: true,
      });
    });
  }

  /** Makes `jti` the room's one guest invite: every other guest invite of the room is retired. */
  setCurrentGuestInvite(room: string, jti: string): void {
    if (!ROOM_ID_PATTERN.test(room) || !INVITE_ID_PATTERN.test(jti))
      throw new TypeError('invalid room or invite id');
    this.#change(() => {
      this.#contents.guestInvites.set(room, { jti, keepUntil: nowSeconds() + GUEST_RECORD_SECONDS });
    });
  }

  /** The room's current guest invite id, once a guest invite has been rotated in. */
  currentGuestInvite(room: string): string | undefined {
    return this.#contents.guestInvites.get(room)?.jti;
  }

  /** Applies a change in memory and on disk; if writing fails, memory is put back as it was. */
  #change(apply: () => void): void {
    const before = structuredClone(this.#contents);
    apply();
    this.#prune(nowSeconds());
    try {
      writeAtomically(this.#file, serialize(this.#contents));
    } catch {
      // Nothing is granted that was not recorded: a use not on disk would come back after a restart.
      this.#contents.invites = before.invites;
      this.#contents.guestInvites = before.guestInvites;
      throw new ConclaveError('unavailable', 'the server could not record this invite; try again', 503);
    }
  }

  #prune(now: number): void {
    const { invites, guestInvites } = this.#contents;
    for (const [jti, entry] of invites) if (entry.exp < now) invites.delete(jti);
    for (const [room, entry] of guestInvites) if (entry.keepUntil < now) guestInvites.delete(room);
  }
}

function readContents(file: string): StoreContents {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { invites: new Map(), guestInvites: new Map() };
    throw new InviteStoreError(`cannot read the invite store ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw damaged(file, 'it is not valid JSON');
  }
  const parsed = storeSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw damaged(file, `${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'}`);
  }
  return {
    invites: new Map(Object.entries(parsed.data.invites)),
    guestInvites: new Map(Object.entries(parsed.data.guestInvites)),
  };
}

function serialize(contents: StoreContents): string {
  return JSON.stringify({
    version: 1,
    invites: Object.fromEntries(contents.invites),
    guestInvites: Object.fromEntries(contents.guestInvites),
  });
}

function damaged(file: string, why: string): InviteStoreError {
  return new InviteStoreError(
    `the invite store ${file} is damaged (${why}). Restore it from a backup, or delete it to start ` +
      'afresh (which forgets every revocation and use count).',
  );
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = fs.openSync(temporary, 'wx', 0o600);
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
