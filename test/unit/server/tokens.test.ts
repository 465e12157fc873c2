// Invite and session tokens (server/src/auth/tokens.ts): round trips, expiry, forgery and misuse.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_DISPLAY_NAME_LENGTH,
  TokenAuthority,
  USER_ID_PATTERN,
  newUserId,
  normalizeDisplayName,
} from '../../../server/src/auth/tokens.ts';
import { ConclaveError } from '../../../server/src/errors.ts';

const LIFETIMES = { inviteSeconds: 3600, sessionSeconds: 600 };
const ROOM = 'abc-defg-hij';
const USER = 'user-id-0001';

function authority(secret: Uint8Array = randomBytes(32)): TokenAuthority {
  return new TokenAuthority(secret, LIFETIMES);
}

/** Awaits a rejection and returns the ConclaveError it carries. */
async function rejection(promise: Promise<unknown>): Promise<ConclaveError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConclaveError);
  return error as ConclaveError;
}

/** Replaces one character in the middle of a JWT's signature (never the last, whose low bits are padding). */
function tamperSignature(jwt: string): string {
  const dot = jwt.lastIndexOf('.');
  const i = dot + 10;
  const flipped = jwt[i] === 'A' ? 'B' : 'A';
  return jwt.slice(0, i) + flipped + jwt.slice(i + 1);
}

afterEach(() => vi.useRealTimers());

describe('TokenAuthority', () => {
  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => new TokenAuthority(new Uint8Array(31), LIFETIMES)).toThrow(TypeError);
    expect(() => new TokenAuthority(new Uint8Array(32), LIFETIMES)).not.toThrow();
  });

  it('round-trips a guest invite with its room and expiry', async () => {
    const tokens = authority();
    const before = Math.floor(Date.now() / 1000);
    const claims = await tokens.verifyInvite(await tokens.mintInvite({ room: ROOM }));
    expect(claims.room).toBe(ROOM);
    expect(claims.sub).toBeUndefined();
    expect(claims.name).toBeUndefined();
    expect(claims.exp).toBeGreaterThanOrEqual(before + LIFETIMES.inviteSeconds);
    expect(claims.exp).toBeLessThanOrEqual(before + LIFETIMES.inviteSeconds + 2);
  });

  it('round-trips a named invite with a normalised name and an explicit lifetime', async () => {
    const tokens = authority();
    const before = Math.floor(Date.now() / 1000);
    const invite = await tokens.mintInvite({ room: ROOM, sub: USER, name: '  Ada Lovelace ' }, 120);
    const claims = await tokens.verifyInvite(invite);
    expect(claims).toMatchObject({ room: ROOM, sub: USER, name: 'Ada Lovelace' });
    expect(claims.exp - before).toBeGreaterThanOrEqual(120);
    expect(claims.exp - before).toBeLessThanOrEqual(122);
  });

  it('round-trips a session and checks its room when asked', async () => {
    const tokens = authority();
    const session = await tokens.mintSession({ room: ROOM, sub: USER, name: 'Grace' });
    const claims = await tokens.verifySession(session, ROOM);
    expect(claims).toMatchObject({ room: ROOM, sub: USER, name: 'Grace' });
    expect(claims.exp - Date.now() / 1000).toBeGreaterThan(LIFETIMES.sessionSeconds - 5);
    expect(claims.exp - Date.now() / 1000).toBeLessThanOrEqual(LIFETIMES.sessionSeconds + 1);
    await expect(tokens.verifySession(session)).resolves.toMatchObject({ sub: USER });
  });

  it('refuses a session for another room with wrong-room (403)', async () => {
    const tokens = authority();
    const session = await tokens.mintSession({ room: ROOM, sub: USER, name: 'Grace' });
    const error = await rejection(tokens.verifySession(session, 'other-room'));
    expect(error.code).toBe('wrong-room');
    expect(error.status).toBe(403);
  });

  it('reports an expired invite and an expired session as token-expired (401)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const tokens = authority();
    const invite = await tokens.mintInvite({ room: ROOM }, 60);
    const session = await tokens.mintSession({ room: ROOM, sub: USER, name: 'Grace' });
    vi.setSystemTime(Date.now() + 59_000);
    await expect(tokens.verifyInvite(invite)).resolves.toMatchObject({ room: ROOM });
    vi.setSystemTime(Date.now() + 2_000);
    const inviteError = await rejection(tokens.verifyInvite(invite));
    expect(inviteError.code).toBe('token-expired');
    expect(inviteError.status).toBe(401);
    await expect(tokens.verifySession(session)).resolves.toMatchObject({ sub: USER });
    vi.setSystemTime(Date.now() + LIFETIMES.sessionSeconds * 1000);
    expect((await rejection(tokens.verifySession(session))).code).toBe('token-expired');
  });

  describe('refuses as token-invalid (401)', () => {
    const tokens = authority();

    async function expectInvalid(promise: Promise<unknown>): Promise<void> {
      const error = await rejection(promise);
      expect(error.code).toBe('token-invalid');
      expect(error.status).toBe(401);
    }

    it('a tampered signature', async () => {
      const invite = await tokens.mintInvite({ room: ROOM });
      const session = await tokens.mintSession({ room: ROOM, sub: USER, name: 'Grace' });
      await expectInvalid(tokens.verifyInvite(tamperSignature(invite)));
      await expectInvalid(tokens.verifySession(tamperSignature(session)));
    });

    it('a payload changed after signing (another room)', async () => {
      const invite = await tokens.mintInvite({ room: ROOM });
      const [header, payload, signature] = invite.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      claims['room'] = 'other-room';
      const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
      await expectInvalid(tokens.verifyInvite(forged));
    });

    it('a token signed with another secret', async () => {
      const other = authority();
      await expectInvalid(tokens.verifyInvite(await other.mintInvite({ room: ROOM })));
      await expectInvalid(
        tokens.verifySession(await other.mintSession({ room: ROOM, sub: USER, name: 'Grace' })),
      );
    });

    it('an invite used as a session and a session used as an invite', async () => {
      const invite = await tokens.mintInvite({ room: ROOM, sub: USER, name: 'Grace' });
      const session = await tokens.mintSession({ room: ROOM, sub: USER, name: 'Grace' });
      await expectInvalid(tokens.verifySession(invite));
      await expectInvalid(tokens.verifySession(invite, ROOM));
      await expectInvalid(tokens.verifyInvite(session));
    });

    it('an unsigned (alg none) token', async () => {
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
        room: ROOM,
        iss: 'conclave',
        aud: 'conclave:invite',
        iat: now,
        exp: now + 60,
      })}.`;
      await expectInvalid(tokens.verifyInvite(unsigned));
    });

    it('garbage, empty and oversized strings', async () => {
      for (const garbage of ['', 'not-a-jwt', 'a.b.c', 'x'.repeat(5000)]) {
        await expectInvalid(tokens.verifyInvite(garbage));
        await expectInvalid(tokens.verifySession(garbage));
      }
    });

    it('non-strings', async () => {
      for (const value of [undefined, null, 42, {}, ['a.b.c'], new Uint8Array(8)]) {
        await expectInvalid(tokens.verifyInvite(value));
        await expectInvalid(tokens.verifySession(value));
      }
    });

    it('a correctly signed session whose user id does not match the pattern', async () => {
      const secret = randomBytes(32);
      const strict = authority(secret);
      const token = await new SignJWT({ room: ROOM, name: 'Grace' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer('conclave')
        .setAudience('conclave:session')
        .setSubject('short')
        .setIssuedAt()
        .setExpirationTime('60s')
        .sign(secret);
      await expectInvalid(strict.verifySession(token));
    });
  });

  it('gives every invite its own id, and carries a use limit', async () => {
    const tokens = authority();
    const a = await tokens.verifyInvite(await tokens.mintInvite({ room: ROOM }));
    const minted = await tokens.mintInviteWithId({ room: ROOM, uses: 3 });
    const b = await tokens.verifyInvite(minted.token);
    expect(a.jti).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    expect(b.jti).toBe(minted.jti);
    expect(b.jti).not.toBe(a.jti);
    expect(b.exp).toBe(minted.exp);
    expect(a.uses).toBeUndefined();
    expect(b.uses).toBe(3);
    for (const uses of [0, -1, 1.5, Number.NaN, 2_000_000]) {
      await expect(tokens.mintInvite({ room: ROOM, uses })).rejects.toThrow(TypeError);
    }
  });

  it('refuses a signed invite without an id, or with a bad use count', async () => {
    const secret = randomBytes(32);
    const tokens = authority(secret);
    const sign = (claims: Record<string, unknown>, jti?: string) => {
      const jwt = new SignJWT({ room: ROOM, ...claims })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer('conclave')
        .setAudience('conclave:invite')
        .setIssuedAt()
        .setExpirationTime('60s');
      if (jti !== undefined) jwt.setJti(jti);
      return jwt.sign(secret);
    };
    const id = 'abcdefghijklmnop';
    await expect(tokens.verifyInvite(await sign({ uses: 2 }, id))).resolves.toMatchObject({ uses: 2 });
    for (const token of [
      await sign({}),
      await sign({}, 'short'),
      await sign({ uses: 0 }, id),
      await sign({ uses: '2' }, id),
      await sign({ uses: 1.5 }, id),
    ]) {
      expect((await rejection(tokens.verifyInvite(token))).code).toBe('token-invalid');
    }
  });

  it('carries the invite id a session was minted from', async () => {
    const tokens = authority();
    const inv = 'abcdefghijklmnop';
    expect(
      (await tokens.verifySession(await tokens.mintSession({ room: ROOM, sub: USER, name: 'G', inv }))).inv,
    ).toBe(inv);
    expect(
      (await tokens.verifySession(await tokens.mintSession({ room: ROOM, sub: USER, name: 'G' }))).inv,
    ).toBeUndefined();
    await expect(tokens.mintSession({ room: ROOM, sub: USER, name: 'G', inv: 'bad id' })).rejects.toThrow(
      TypeError,
    );
  });

  it('refuses to mint for an invalid room id or user id', async () => {
    const tokens = authority();
    for (const room of ['ab', 'Upper-case', '-leading-dash', 'has space', 'x'.repeat(65)]) {
      expect((await rejection(tokens.mintInvite({ room }))).code).toBe('bad-request');
    }
    await expect(tokens.mintSession({ room: ROOM, sub: 'short', name: 'Grace' })).rejects.toThrow(TypeError);
  });

  it('refuses to mint a session for an invalid display name', async () => {
    const tokens = authority();
    for (const name of ['', '   ', 'x'.repeat(MAX_DISPLAY_NAME_LENGTH + 1), 'bell\u0007', 'two\nlines']) {
      expect((await rejection(tokens.mintSession({ room: ROOM, sub: USER, name }))).code).toBe('bad-request');
    }
  });
});

describe('normalizeDisplayName', () => {
  it('trims and NFC-normalises', () => {
    expect(normalizeDisplayName('  Ada  ')).toBe('Ada');
    expect(normalizeDisplayName('Jose\u0301')).toBe('Jos\u00e9');
  });

  it('accepts exactly the maximum length and non-Latin scripts', () => {
    expect(normalizeDisplayName('x'.repeat(MAX_DISPLAY_NAME_LENGTH))).toHaveLength(MAX_DISPLAY_NAME_LENGTH);
    expect(normalizeDisplayName('李小龍 🎥')).toBe('李小龍 🎥');
  });

  it.each([
    ['empty', ''],
    ['whitespace only', ' \t '],
    ['too long', 'x'.repeat(MAX_DISPLAY_NAME_LENGTH + 1)],
    ['a newline', 'Ada\nLovelace'],
    ['a NUL', 'Ada\u0000'],
    ['an escape sequence', '\u001b[31mred'],
    ['a C1 control', 'Ada\u0085'],
    ['a right-to-left override (U+202E)', 'Ada\u202Egpj.exe'],
    ['a zero-width space (U+200B)', 'Ad\u200Ba'],
    ['a zero-width joiner (U+200D)', 'Ada\u200D'],
    ['a byte order mark (U+FEFF)', '\uFEFFAda'],
    ['a soft hyphen (U+00AD)', 'A\u00ADda'],
    ['a left-to-right isolate (U+2066)', '\u2066Ada'],
  ])('rejects %s', (_label, raw) => {
    expect(() => normalizeDisplayName(raw)).toThrow(expect.objectContaining({ code: 'bad-request' }));
  });

  it('says what is wrong with an invisible formatting character', () => {
    expect(() => normalizeDisplayName('Ad\u200Ba')).toThrow(/control or invisible formatting characters/);
  });
});

describe('newUserId', () => {
  it('gives distinct ids that sessions accept', () => {
    const ids = new Set(Array.from({ length: 50 }, newUserId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(USER_ID_PATTERN);
  });
});
