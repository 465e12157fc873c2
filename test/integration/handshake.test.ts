// Every bad credential is refused at the socket.io handshake, on signaling and on the key service
// alike, with a clear code, and nothing is created for it (no room, no peer, no key room).
// (No token and a plain garbage token on signaling are in signaling.test.ts; on /keys in
// key-service-adversarial.test.ts.)
import { SignJWT } from 'jose';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNALING_NAMESPACE } from '../../server/src/ConclaveServer.ts';
import { TokenAuthority, newUserId } from '../../server/src/auth/tokens.ts';
import { TestClient, startTestServer, waitUntil, type TestServer } from './support/testServer.ts';
import { counterValue } from './support/counterValue.ts';

const SECRET = Buffer.alloc(32, 'handshake-test-secret');
const ROOM = 'handshake-room';
let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer({ CONCLAVE_TOKEN_SECRET: SECRET.toString('base64url') });
});
afterAll(async () => {
  await ts.close();
});

/** A session token as the server signs them, with `claims` and `expiresAt` as given. */
function signSession(claims: Record<string, unknown>, expiresAt: number, key: Uint8Array = SECRET) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('conclave')
    .setAudience('conclave:session')
    .setSubject(newUserId())
    .setIssuedAt(expiresAt - 600)
    .setExpirationTime(expiresAt)
    .sign(key);
}

function base64url(json: unknown): string {
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

const now = () => Math.floor(Date.now() / 1000);

/** Credentials that must never open a socket, and the code each is refused with. */
const badCredentials: [string, () => Promise<unknown>, string][] = [
  ['a number instead of a token', async () => 12345, 'token-invalid'],
  ['an object instead of a token', async () => ({ jwt: 'x' }), 'token-invalid'],
  ['a 5000-character token', async () => 'a'.repeat(5000), 'token-invalid'],
  ['an expired session', () => signSession({ room: ROOM, name: 'Late' }, now() - 60), 'token-expired'],
  [
    'a session whose payload was changed to another room (signature kept)',
    async () => {
      const [header, payload, signature] = (await ts.session('other-room')).split('.');
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as object;
      return `${header}.${base64url({ ...claims, room: ROOM })}.${signature}`;
    },
    'token-invalid',
  ],
  [
    'a session with a flipped signature bit',
    async () => {
      const token = await ts.session(ROOM);
      const signature = Buffer.from(token.split('.')[2] ?? '', 'base64url');
      signature[0] = (signature[0] ?? 0) ^ 1;
      return `${token.split('.').slice(0, 2).join('.')}.${signature.toString('base64url')}`;
    },
    'token-invalid',
  ],
  [
    'an unsigned token (alg none)',
    async () =>
      `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({
        room: ROOM,
        name: 'Eve',
        sub: newUserId(),
        iss: 'conclave',
        aud: 'conclave:session',
        iat: now(),
        exp: now() + 600,
      })}.`,
    'token-invalid',
  ],
  [
    'a session signed with another secret',
    () => signSession({ room: ROOM, name: 'Eve' }, now() + 600, Buffer.alloc(32, 'another-secret')),
    'token-invalid',
  ],
  [
    'an invite used as a session',
    () => new TokenAuthority(SECRET, { inviteSeconds: 600, sessionSeconds: 600 }).mintInvite({ room: ROOM }),
    'token-invalid',
  ],
  ['a session without a room', () => signSession({ name: 'Eve' }, now() + 600), 'token-invalid'],
  [
    'a session naming an invalid room',
    () => signSession({ room: '../etc', name: 'Eve' }, now() + 600),
    'token-invalid',
  ],
];

/** Connects to `namespace` with `auth`; the handshake error's data, or undefined if it connected. */
async function handshake(namespace: string, auth: Record<string, unknown>) {
  const socket = io(`${ts.url}${namespace}`, {
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  try {
    return await new Promise<{ code?: string; message?: string } | undefined>((resolve) => {
      socket.once('connect', () => resolve(undefined));
      socket.once('connect_error', (error: Error & { data?: { code?: string } }) =>
        resolve({ ...error.data, message: error.message }),
      );
    });
  } finally {
    socket.close();
  }
}

describe.each([SIGNALING_NAMESPACE, '/keys'])('handshake on %s', (namespace) => {
  it.each(badCredentials)('refuses %s', async (_what, credential, code) => {
    const refusal = await handshake(namespace, { token: await credential() });
    expect(refusal?.code).toBe(code);
    expect(refusal?.message?.length).toBeGreaterThan(0);
    expect(ts.server.rooms.rooms.has(ROOM)).toBe(false);
    expect(ts.server.keys.snapshot(ROOM)).toBeUndefined();
  });

  it('accepts a valid session for its own room (the refusals above are not everything refused)', async () => {
    // A /keys socket also needs its user in the meeting: a participant's session is.
    const { token, signaling } = await ts.participant('accepted-room');
    expect(await handshake(namespace, { token })).toBeUndefined();
    signaling.close();
  });
});

describe('the room comes from the token only', () => {
  it('ignores a room the client names beside its token', async () => {
    const client = await TestClient.connect(ts.url, { token: await ts.session('token-room'), room: ROOM });
    try {
      await waitUntil(() => ts.server.rooms.rooms.get('token-room')?.peers.size === 1, 5000, 'peer');
      expect(ts.server.rooms.rooms.has(ROOM)).toBe(false);
    } finally {
      client.close();
    }
  });

  it('counts refusals by code for monitoring', async () => {
    const refusals = ts.server.metrics.handshakeRefusals;
    expect(await counterValue(refusals, { code: 'token-expired' })).toBe(1);
    expect(await counterValue(refusals, { code: 'token-invalid' })).toBe(badCredentials.length - 1);
    expect(ts.server.keys.stats().handshakeRefusals).toEqual({
      'token-expired': 1,
      'token-invalid': badCredentials.length - 1,
    });
  });
});
