// The JSON API (server/src/http/api.ts) over a real HTTP server on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InviteStore } from '../../../server/src/auth/InviteStore.ts';
import { RoomInvites } from '../../../server/src/auth/RoomInvites.ts';
import { TokenAuthority, USER_ID_PATTERN } from '../../../server/src/auth/tokens.ts';
import { Api, inviteUrl, newRoomId } from '../../../server/src/http/api.ts';
import { iceConfigurationFor, type IceSettings } from '../../../server/src/media/iceConfiguration.ts';

const PUBLIC_URL = 'https://meet.example.org';
const secret = randomBytes(32);
const tokens = new TokenAuthority(secret, { inviteSeconds: 3600, sessionSeconds: 600 });

interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `api`; anything it declines is answered 418 so tests can tell. */
async function serve(api: Api): Promise<TestServer> {
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    void api.handle(req, res, pathname).then((handled) => {
      if (!handled) {
        res.writeHead(418);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

const TURN_SECRET = 'coturn-shared-secret-for-tests-only';
const STUN: RTCIceServer = { urls: 'stun:stun.example.org:3478' };
const ICE: IceSettings = {
  iceServers: [STUN],
  turn: {
    urls: ['turn:192.0.2.2:3478?transport=udp', 'turns:turn.example.org:5349'],
    secret: TURN_SECRET,
    ttlSeconds: 600,
  },
  iceTransportPolicy: 'relay',
};
const NO_ICE = (): ReturnType<typeof iceConfigurationFor> => ({ iceServers: [], iceTransportPolicy: 'all' });

let open: TestServer;
let closed: TestServer;
let relayed: TestServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-api-'));
  const invites = new RoomInvites({ tokens, store: InviteStore.open(dataDir), publicUrl: () => PUBLIC_URL });
  open = await serve(new Api({ tokens, invites, openRooms: true, iceFor: NO_ICE }));
  closed = await serve(new Api({ tokens, invites, openRooms: false, iceFor: NO_ICE }));
  relayed = await serve(
    new Api({
      tokens,
      invites,
      openRooms: true,
      iceFor: (u) => iceConfigurationFor(ICE, u),
    }),
  );
});

afterAll(async () => {
  await Promise.all([open.close(), closed.close(), relayed.close()]);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** coturn's check, written independently of the server's (WebCrypto rather than node:crypto). */
async function coturnAccepts(username: string, credential: string, nowSeconds: number): Promise<boolean> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(TURN_SECRET),
    { name: 'HMAC', hash: 'SHA-1' },
    false,
    ['sign'],
  );
  const mac = Buffer.from(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(username)));
  return mac.toString('base64') === credential && Number(username.split(':')[0]) > nowSeconds;
}

async function post(server: TestServer, path: string, body: unknown, contentType = 'application/json') {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** An invite signed with the server's secret that expired a minute ago. */
async function expiredInvite(room: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ room })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('conclave')
    .setAudience('conclave:invite')
    .setIssuedAt(now - 3600)
    .setExpirationTime(now - 60)
    .sign(secret);
}

describe('newRoomId and inviteUrl', () => {
  it('makes readable, distinct room ids', () => {
    const ids = new Set(Array.from({ length: 200 }, newRoomId));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
  });

  it('puts the invite in the URL fragment, which browsers never send to the server', () => {
    const url = new URL(inviteUrl(PUBLIC_URL, 'abc-defg-hij', 'a.b.c'));
    expect(url.origin).toBe(PUBLIC_URL);
    expect(url.pathname).toBe('/r/abc-defg-hij');
    expect(url.search).toBe('');
    expect(url.hash).toBe('#t=a.b.c');
  });
});

describe('Api', () => {
  it('declines paths outside /api/', async () => {
    const res = await fetch(`${open.url}/index.html`);
    expect(res.status).toBe(418);
    expect((await fetch(`${open.url}/api`)).status).toBe(418);
  });

  describe('GET /api/config', () => {
    it('says whether open rooms are enabled, uncached', async () => {
      const res = await fetch(`${open.url}/api/config`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ openRooms: true });
      expect(await (await fetch(`${closed.url}/api/config`)).json()).toEqual({ openRooms: false });
    });
  });

  describe('POST /api/rooms', () => {
    it('creates a fresh room with a host invite for its creator and a guest invite to share', async () => {
      const { status, body } = await post(open, '/api/rooms', {});
      expect(status).toBe(200);
      const room = body['room'] as string;
      const guestInvite = body['guestInvite'] as string;
      expect(room).toMatch(/^[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
      expect(body['guestInviteUrl']).toBe(`${PUBLIC_URL}/r/${room}#t=${guestInvite}`);
      const guest = await tokens.verifyInvite(guestInvite);
      expect(guest).toMatchObject({ room });
      expect(guest.sub).toBeUndefined();
      expect(guest.host).toBeUndefined();
      const host = await tokens.verifyInvite(body['hostInvite']);
      expect(host).toMatchObject({ room, host: true });
      expect(host.jti).not.toBe(guest.jti);
      const session = await post(open, '/api/sessions', { invite: body['hostInvite'], name: 'Creator' });
      expect(session.body['host']).toBe(true);
      expect((await tokens.verifySession(session.body['session'], room)).host).toBe(true);
      // Another call is another room: there is no way to a second invite for the same one.
      expect((await post(open, '/api/rooms', '')).body['room']).not.toBe(room);
    });

    it('refuses to name the room (no invite to an existing room from a room name), or any field, with 400', async () => {
      for (const body of [
        { room: 'team-standup' },
        { room: 'Team Standup' },
        { room: 7 },
        { admin: true },
        [],
        'null',
      ]) {
        const res = await post(open, '/api/rooms', body);
        expect(res.status).toBe(400);
        expect(res.body['code']).toBe('bad-request');
      }
    });

    it('is forbidden when open rooms are disabled', async () => {
      const res = await post(closed, '/api/rooms', {});
      expect(res.status).toBe(403);
      expect(res.body['code']).toBe('forbidden');
      expect(res.body).not.toHaveProperty('hostInvite');
      expect(res.body).not.toHaveProperty('guestInvite');
    });
  });

  describe('POST /api/sessions', () => {
    it('exchanges a guest invite for a session the token authority verifies', async () => {
      const invite = await tokens.mintInvite({ room: 'team-standup' });
      const { status, body } = await post(open, '/api/sessions', { invite, name: '  Ada  ' });
      expect(status).toBe(200);
      expect(body).toMatchObject({ room: 'team-standup', name: 'Ada' });
      expect(body['userId']).toMatch(USER_ID_PATTERN);
      const claims = await tokens.verifySession(body['session'], 'team-standup');
      expect(claims).toMatchObject({ room: 'team-standup', sub: body['userId'], name: 'Ada' });
      expect(body['expiresAt']).toBe(claims.exp * 1000);
    });

    it('hands out no ICE servers and the default policy when none are configured', async () => {
      const invite = await tokens.mintInvite({ room: 'team-standup' });
      const { body } = await post(open, '/api/sessions', { invite, name: 'Ada' });
      expect(body).toMatchObject({ iceServers: [], iceTransportPolicy: 'all' });
    });

    it("gives each session its own time-limited TURN credential in coturn's REST scheme", async () => {
      const invite = await tokens.mintInvite({ room: 'team-standup' });
      const before = Math.floor(Date.now() / 1000);
      const res = await fetch(`${relayed.url}/api/sessions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ invite, name: 'Ada' }),
      });
      const text = await res.text();
      expect(text).not.toContain(TURN_SECRET);
      const body = JSON.parse(text) as {
        userId: string;
        iceServers: RTCIceServer[];
        iceTransportPolicy: string;
      };
      expect(body.iceTransportPolicy).toBe('relay');
      expect(body.iceServers[0]).toEqual(STUN);
      const turn = body.iceServers[1]!;
      expect(turn.urls).toEqual(ICE.turn!.urls);
      const [expiry, user] = turn.username!.split(':');
      expect(user).toBe(body.userId);
      expect(Number(expiry) - before).toBeGreaterThanOrEqual(600);
      expect(Number(expiry) - before).toBeLessThanOrEqual(601);
      expect(await coturnAccepts(turn.username!, turn.credential!, before)).toBe(true);
      // Past its expiry, or for another user, the same password is worthless.
      expect(await coturnAccepts(turn.username!, turn.credential!, Number(expiry))).toBe(false);
      expect(await coturnAccepts(`${expiry}:someone-else`, turn.credential!, before)).toBe(false);
    });

    it('renews the TURN credential with the session', async () => {
      const invite = await tokens.mintInvite({ room: 'team-standup' });
      const first = await post(relayed, '/api/sessions', { invite, name: 'Ada' });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const renewed = await post(relayed, '/api/sessions', {
        invite,
        name: 'Ada',
        previous: first.body['session'],
      });
      const username = (b: Record<string, unknown>) => (b['iceServers'] as RTCIceServer[])[1]!.username!;
      const expiry = (b: Record<string, unknown>) => Number(username(b).split(':')[0]);
      expect(renewed.body['userId']).toBe(first.body['userId']);
      expect(expiry(renewed.body)).toBeGreaterThan(expiry(first.body));
    });

    it('gives each guest without a previous session a new user id', async () => {
      const invite = await tokens.mintInvite({ room: 'team-standup' });
      const a = await post(open, '/api/sessions', { invite, name: 'A' });
      const b = await post(open, '/api/sessions', { invite, name: 'B' });
      expect(a.body['userId']).not.toBe(b.body['userId']);
    });

    it('keeps the user id of a named invite, and refuses a previous session not made from it', async () => {
      const invite = await tokens.mintInvite({ room: 'team-standup', sub: 'alice-0001', name: 'Alice' });
      const first = await post(open, '/api/sessions', { invite, name: 'Alice' });
      expect(first.body['userId']).toBe('alice-0001');
      const renewed = await post(open, '/api/sessions', {
        invite,
        name: 'Alice',
        previous: first.body['session'],
      });
      expect(renewed.body['userId']).toBe('alice-0001');
      expect((await tokens.verifySession(renewed.body['session'])).sub).toBe('alice-0001');
      const other = await tokens.mintSession({ room: 'team-standup', sub: 'mallory-01', name: 'Mallory' });
      const refused = await post(open, '/api/sessions', { invite, name: 'Alice', previous: other });
      expect(refused.status).toBe(403);
      expect(refused.body['code']).toBe('forbidden');
    });

    it('gives a named invite its own name, whatever name is asked for', async () => {
      const invite = await tokens.mintInvite({ room: 'team-standup', sub: 'alice-0001', name: 'Alice' });
      const { status, body } = await post(open, '/api/sessions', { invite, name: 'The Boss' });
      expect(status).toBe(200);
      expect(body['name']).toBe('Alice');
      expect((await tokens.verifySession(body['session'])).name).toBe('Alice');
    });

    it('lets a guest renewing with its previous session keep its user id', async () => {
      const invite = await tokens.mintInvite({ room: 'team-standup' });
      const first = await post(open, '/api/sessions', { invite, name: 'Guest' });
      const renewed = await post(open, '/api/sessions', {
        invite,
        name: 'Guest',
        previous: first.body['session'],
      });
      expect(renewed.status).toBe(200);
      expect(renewed.body['userId']).toBe(first.body['userId']);
      expect((await tokens.verifySession(renewed.body['session'])).sub).toBe(first.body['userId']);
    });

    it('refuses a previous session from another room (403 wrong-room) or a forged one (401)', async () => {
      const invite = await tokens.mintInvite({ room: 'team-standup' });
      const elsewhere = await tokens.mintSession({
        room: 'other-room',
        sub: 'user-id-0001',
        name: 'G',
        inv: (await tokens.verifyInvite(invite)).jti,
      });
      const wrongRoom = await post(open, '/api/sessions', { invite, name: 'G', previous: elsewhere });
      expect(wrongRoom.status).toBe(403);
      expect(wrongRoom.body['code']).toBe('wrong-room');
      const foreign = await new TokenAuthority(randomBytes(32), {
        inviteSeconds: 60,
        sessionSeconds: 60,
      }).mintSession({
        room: 'team-standup',
        sub: 'user-id-0001',
        name: 'G',
      });
      const forged = await post(open, '/api/sessions', { invite, name: 'G', previous: foreign });
      expect(forged.status).toBe(401);
      expect(forged.body['code']).toBe('token-invalid');
    });

    it('refuses an expired invite with 401 token-expired', async () => {
      const res = await post(open, '/api/sessions', {
        invite: await expiredInvite('team-standup'),
        name: 'Late',
      });
      expect(res.status).toBe(401);
      expect(res.body['code']).toBe('token-expired');
      expect(res.body).not.toHaveProperty('session');
    });

    it('refuses an invalid invite, a session used as an invite, and a bad name', async () => {
      const session = await tokens.mintSession({ room: 'team-standup', sub: 'user-id-0001', name: 'G' });
      for (const invite of ['garbage', session]) {
        const res = await post(open, '/api/sessions', { invite, name: 'G' });
        expect(res.status).toBe(401);
        expect(res.body['code']).toBe('token-invalid');
      }
      const invite = await tokens.mintInvite({ room: 'team-standup' });
      for (const name of ['   ', 'bell\u0007', 'x'.repeat(65), 'evil\u202Etxt.exe', 'zero\u200Bwidth']) {
        const res = await post(open, '/api/sessions', { invite, name });
        expect(res.status).toBe(400);
        expect(res.body['code']).toBe('bad-request');
      }
    });

    it('refuses a body with missing, mistyped or unknown fields, naming the field', async () => {
      const invite = await tokens.mintInvite({ room: 'team-standup' });
      const cases: [unknown, RegExp][] = [
        [{ name: 'G' }, /^invite: /],
        [{ invite }, /^name: /],
        [{ invite, name: 42 }, /^name: /],
        [{ invite, name: 'G', admin: true }, /admin/],
        [{ invite, name: 'G', previous: '' }, /^previous: /],
      ];
      for (const [body, message] of cases) {
        const res = await post(open, '/api/sessions', body);
        expect(res.status).toBe(400);
        expect(res.body['code']).toBe('bad-request');
        expect(res.body['message']).toMatch(message);
      }
    });

    it('refuses a body that is not JSON with 400', async () => {
      const res = await post(open, '/api/sessions', '{"invite":');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ code: 'bad-request', message: 'the body is not valid JSON' });
    });

    it('refuses another content type with 415', async () => {
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
      ]) {
        const res = await post(open, '/api/sessions', '{}', type);
        expect(res.status).toBe(415);
        expect(res.body['code']).toBe('bad-request');
      }
      expect(
        (await post(open, '/api/sessions', { name: 'G' }, 'application/json; charset=utf-8')).status,
      ).toBe(400);
    });

    it('refuses a body over 8 KB with 413', async () => {
      const invite = await tokens.mintInvite({ room: 'team-standup' });
      const res = await post(open, '/api/sessions', { invite, name: 'G', padding: 'x'.repeat(9000) });
      expect(res.status).toBe(413);
      expect(res.body['code']).toBe('bad-request');
    });
  });

  it('answers unknown routes and methods with 404 not-found', async () => {
    for (const [method, path] of [
      ['GET', '/api/nothing'],
      ['GET', '/api/rooms'],
      ['DELETE', '/api/sessions'],
      ['POST', '/api/config'],
    ] as const) {
      const res = await fetch(`${open.url}${path}`, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: method === 'GET' ? null : '{}',
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'not-found' });
    }
  });
});
