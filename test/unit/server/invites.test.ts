// The invite store and the invite → session rules (server/src/auth/InviteStore.ts, RoomInvites.ts),
// on a real data directory: use limits, revocation, guest-link rotation, what survives reopening the
// store, and what a damaged store file does.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INVITE_STORE_FILE, InviteStore, InviteStoreError } from '../../../server/src/auth/InviteStore.ts';
import { RoomInvites } from '../../../server/src/auth/RoomInvites.ts';
import { TokenAuthority } from '../../../server/src/auth/tokens.ts';
import { ConclaveError } from '../../../server/src/errors.ts';

const PUBLIC_URL = 'https://meet.example.org';
const ROOM = 'team-standup';
const tokens = new TokenAuthority(randomBytes(32), { inviteSeconds: 3600, sessionSeconds: 600 });

let dataDir: string;
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-invites-'));
});
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function roomInvites(store = InviteStore.open(dataDir)): RoomInvites {
  return new RoomInvites({ tokens, store, publicUrl: () => PUBLIC_URL });
}

/** Awaits a rejection and returns the ConclaveError it carries. */
async function refusal(promise: Promise<unknown>): Promise<ConclaveError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConclaveError);
  return error as ConclaveError;
}

/** One person's join, then their renewal: a session token from each grant, as the API mints it. */
async function join(invites: RoomInvites, invite: string, previous?: string) {
  const grant = await invites.admit({ invite, name: 'Someone', previous });
  return { ...grant, session: await tokens.mintSession(grant) };
}

describe('use-limited invites', () => {
  it('admit as many distinct people as they allow; renewals take no use; then 403 invite-exhausted', async () => {
    const invites = roomInvites();
    const invite = await tokens.mintInvite({ room: ROOM, uses: 2 });
    const first = await join(invites, invite);
    const renewed = await join(invites, invite, first.session);
    await join(invites, invite, renewed.session);
    expect(renewed.sub).toBe(first.sub);
    const second = await join(invites, invite);
    expect(second.sub).not.toBe(first.sub);
    const third = await refusal(join(invites, invite));
    expect(third).toMatchObject({ code: 'invite-exhausted', status: 403 });
    expect(third.message).toMatch(/used by as many people as it allows \(2\)/);
    // Those already in go on renewing.
    await expect(join(invites, invite, second.session)).resolves.toMatchObject({ sub: second.sub });
  });

  it('count a named single-use invite once, however often its holder renews', async () => {
    const invites = roomInvites();
    const invite = await tokens.mintInvite({ room: ROOM, sub: 'alice-0001', name: 'Alice', uses: 1 });
    const alice = await join(invites, invite);
    expect(alice).toMatchObject({ sub: 'alice-0001', name: 'Alice' });
    for (let i = 0; i < 3; i++) await join(invites, invite, alice.session);
    // Someone else with the same link (no session from it) is a second person.
    expect((await refusal(join(invites, invite))).code).toBe('invite-exhausted');
  });

  it('keep their count when the store is opened again (a server restart)', async () => {
    const invite = await tokens.mintInvite({ room: ROOM, uses: 1 });
    await join(roomInvites(), invite);
    expect((await refusal(join(roomInvites(), invite))).code).toBe('invite-exhausted');
  });

  it('do not count a refused join', async () => {
    const invites = roomInvites();
    const invite = await tokens.mintInvite({ room: ROOM, uses: 1 });
    await refusal(invites.admit({ invite, name: 'bad\u202Ename' }));
    await expect(join(invites, invite)).resolves.toBeDefined();
  });
});

describe('revocation', () => {
  it('stops new sessions and renewals alike, with 403 invite-revoked, and survives reopening', async () => {
    const invites = roomInvites();
    const invite = await tokens.mintInvite({ room: ROOM });
    const inside = await join(invites, invite);
    invites.revoke((await tokens.verifyInvite(invite)).jti);
    for (const attempt of [join(invites, invite), join(invites, invite, inside.session)]) {
      expect(await refusal(attempt)).toMatchObject({ code: 'invite-revoked', status: 403 });
    }
    expect((await refusal(join(roomInvites(), invite, inside.session))).code).toBe('invite-revoked');
  });

  it('touches no other invite', async () => {
    const invites = roomInvites();
    const revoked = await tokens.mintInvite({ room: ROOM });
    const other = await tokens.mintInvite({ room: ROOM });
    invites.revoke((await tokens.verifyInvite(revoked)).jti);
    await expect(join(invites, other)).resolves.toBeDefined();
  });

  it('refuses an id that is not an invite id', () => {
    expect(() => roomInvites().revoke('../../etc')).toThrow(TypeError);
  });
});

describe('rotateGuestInvite ("Reset invite link")', () => {
  it('gives a new guest link; the old ones admit nobody new, those already in keep renewing', async () => {
    const invites = roomInvites();
    const meeting = await invites.createMeeting();
    const room = meeting.room;
    const guest = await join(invites, meeting.guestInvite);
    const rotated = await invites.rotateGuestInvite(room);
    expect(rotated.inviteUrl).toBe(`${PUBLIC_URL}/r/${room}#t=${rotated.invite}`);
    expect(await tokens.verifyInvite(rotated.invite)).toMatchObject({ room, jti: rotated.jti });

    const late = await refusal(join(invites, meeting.guestInvite));
    expect(late).toMatchObject({ code: 'invite-revoked', status: 403 });
    expect(late.message).toMatch(/replaced by a new one/);
    await expect(join(invites, meeting.guestInvite, guest.session)).resolves.toMatchObject({
      sub: guest.sub,
    });
    await expect(join(invites, rotated.invite)).resolves.toMatchObject({ room });

    // Rotated again: the first rotation's link goes the same way.
    const again = await invites.rotateGuestInvite(room);
    expect((await refusal(join(invites, rotated.invite))).code).toBe('invite-revoked');
    await expect(join(invites, again.invite)).resolves.toBeDefined();
  });

  it('leaves host and named invites, and other rooms, alone; and survives reopening', async () => {
    const invites = roomInvites();
    const meeting = await invites.createMeeting();
    const named = await tokens.mintInvite({ room: meeting.room, sub: 'alice-0001', name: 'Alice' });
    const elsewhere = await invites.createMeeting();
    const rotated = await invites.rotateGuestInvite(meeting.room);
    const reopened = roomInvites();
    await expect(join(reopened, meeting.hostInvite)).resolves.toMatchObject({ host: true });
    await expect(join(reopened, named)).resolves.toMatchObject({ sub: 'alice-0001' });
    await expect(join(reopened, elsewhere.guestInvite)).resolves.toBeDefined();
    await expect(join(reopened, rotated.invite)).resolves.toBeDefined();
    expect((await refusal(join(reopened, meeting.guestInvite))).code).toBe('invite-revoked');
  });
});

describe('renewals keep the user only for a session of the same invite', () => {
  it("refuses a guest link presented with a named user's session (no takeover of the id)", async () => {
    const invites = roomInvites();
    const named = await tokens.mintInvite({ room: ROOM, sub: 'alice-0001', name: 'Alice' });
    const guestLink = await tokens.mintInvite({ room: ROOM });
    const alice = await join(invites, named);
    const takeover = await refusal(join(invites, guestLink, alice.session));
    expect(takeover).toMatchObject({ code: 'forbidden', status: 403 });
  });

  it("refuses a named invite presented with another user's session, and a session from another room", async () => {
    const invites = roomInvites();
    const named = await tokens.mintInvite({ room: ROOM, sub: 'alice-0001', name: 'Alice' });
    const guestLink = await tokens.mintInvite({ room: ROOM });
    const guest = await join(invites, guestLink);
    expect((await refusal(join(invites, named, guest.session))).code).toBe('forbidden');
    const otherRoom = await join(invites, await tokens.mintInvite({ room: 'other-room' }));
    expect((await refusal(join(invites, guestLink, otherRoom.session))).code).toBe('wrong-room');
  });

  it('gives a named invite its own name whatever is asked, but still refuses a bad asked name', async () => {
    const invites = roomInvites();
    const named = await tokens.mintInvite({ room: ROOM, sub: 'alice-0001', name: 'Alice' });
    await expect(invites.admit({ invite: named, name: 'Bob' })).resolves.toMatchObject({ name: 'Alice' });
    expect((await refusal(invites.admit({ invite: named, name: 'Al\u200Bice' }))).code).toBe('bad-request');
  });
});

describe('the store file', () => {
  const file = () => path.join(dataDir, INVITE_STORE_FILE);

  it('is written only once something needs keeping, readable by the server alone, with no temporary left', async () => {
    const invites = roomInvites();
    await join(invites, await tokens.mintInvite({ room: ROOM }));
    await invites.createMeeting();
    expect(fs.existsSync(file())).toBe(false);
    await join(invites, await tokens.mintInvite({ room: ROOM, uses: 5 }));
    expect(fs.statSync(file()).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dataDir)).toEqual([INVITE_STORE_FILE]);
    expect(JSON.parse(fs.readFileSync(file(), 'utf8'))).toMatchObject({ version: 1 });
  });

  it('forgets invites once they have expired', async () => {
    const past = Math.floor(Date.now() / 1000) - 10;
    const stale = { exp: past, used: 1, revoked: true };
    fs.writeFileSync(
      file(),
      JSON.stringify({ version: 1, invites: { abcdefghijklmnop: stale }, guestInvites: {} }),
    );
    const store = InviteStore.open(dataDir);
    expect(store.usesOf('abcdefghijklmnop')).toBe(0);
    store.revoke('qrstuvwxyzabcdef', past + 3600);
    expect(Object.keys(JSON.parse(fs.readFileSync(file(), 'utf8')).invites)).toEqual(['qrstuvwxyzabcdef']);
  });

  it.each([
    ['not JSON', '{"version":1,'],
    ['another version', JSON.stringify({ version: 2, invites: {}, guestInvites: {} })],
    [
      'a negative use count',
      JSON.stringify({
        version: 1,
        invites: { abcdefghijklmnop: { exp: 1, used: -1, revoked: false } },
        guestInvites: {},
      }),
    ],
    [
      'a bad invite id',
      JSON.stringify({
        version: 1,
        invites: { 'no good': { exp: 1, used: 0, revoked: false } },
        guestInvites: {},
      }),
    ],
    [
      'a bad room id',
      JSON.stringify({
        version: 1,
        invites: {},
        guestInvites: { 'Bad Room': { jti: 'abcdefghijklmnop', keepUntil: 1 } },
      }),
    ],
    ['an unknown field', JSON.stringify({ version: 1, invites: {}, guestInvites: {}, extra: true })],
    ['an array', '[]'],
  ])('refuses to start from a damaged file (%s), naming it', (_label, text) => {
    fs.writeFileSync(file(), text);
    const attempt = () => InviteStore.open(dataDir);
    expect(attempt).toThrow(InviteStoreError);
    expect(attempt).toThrow(file());
    expect(attempt).toThrow(/damaged/);
    // Nothing was overwritten: the operator can still look at (or restore) what was there.
    expect(fs.readFileSync(file(), 'utf8')).toBe(text);
  });

  it('grants nothing it could not record', async () => {
    const invites = roomInvites();
    const invite = await tokens.mintInvite({ room: ROOM, uses: 1 });
    // The data directory vanished under the running server (as root, permissions would not stop a write).
    fs.rmSync(dataDir, { recursive: true });
    expect(await refusal(join(invites, invite))).toMatchObject({ code: 'unavailable', status: 503 });
    fs.mkdirSync(dataDir);
    await expect(join(invites, invite)).resolves.toBeDefined();
    expect((await refusal(join(invites, invite))).code).toBe('invite-exhausted');
  });
});
