// Who may hold a /keys socket on the real server (issue 13, "Key service hygiene"), with the
// attacker built from raw socket.io-client and jose, not from the project's KeyClient:
// - a socket is closed when its session token expires, on signaling and on /keys, unless it
//   renewed the token on the socket; a renewal for another user or room is refused;
// - a /keys socket must belong to a live signaling peer of the same room and user;
// - commits and application messages reach only members of the group.
import { SignJWT } from 'jose';
import type { Socket } from 'socket.io-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { newUserId } from '../../server/src/auth/tokens.ts';
import { serverFixture } from './support/serverFixture.ts';
import { waitUntil, type TestClient, type TestServer } from './support/testServer.ts';

const SECRET = Buffer.alloc(32, 'hygiene-test-secret');
// One server for the file; what its tests open stays open until the end, as before the fixture.
const fixture = serverFixture({ scope: 'file' });
let ts: TestServer;
beforeAll(async () => {
  ts = await fixture.start({ CONCLAVE_TOKEN_SECRET: SECRET.toString('base64url') });
});

/** A session token as the server signs them, expiring in `seconds`. */
function session(room: string, sub: string, seconds: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ room, name: 'Tester', host: true })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('conclave')
    .setAudience('conclave:session')
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + seconds)
    .sign(SECRET);
}

function rawKeys(token: string): Promise<Socket> {
  return fixture.socket('/keys', { auth: { token } });
}

async function signalingFor(room: string, sub: string, seconds = 600): Promise<TestClient> {
  return fixture.connect({ token: await session(room, sub, seconds) });
}

function disconnectReason(socket: Socket): Promise<string> {
  return new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
}

describe('session expiry', () => {
  it('closes a /keys socket and a signaling socket when their token expires', async () => {
    const room = 'expiry-room';
    const sub = newUserId();
    const signaling = await signalingFor(room, sub, 3);
    const keys = await rawKeys(await session(room, sub, 3));
    const started = Date.now();
    const [keysReason] = await Promise.all([disconnectReason(keys), disconnectReason(signaling.socket)]);
    expect(keysReason).toBe('io server disconnect');
    expect(Date.now() - started).toBeLessThan(4_500);
  });

  it('keeps a socket that renewed its token open past the old expiry, on both namespaces', async () => {
    const room = 'renew-room';
    const sub = newUserId();
    const signaling = await signalingFor(room, sub, 3);
    const keys = await rawKeys(await session(room, sub, 3));
    const keysAck = (await keys.emitWithAck('renew', { token: await session(room, sub, 600) })) as {
      ok: boolean;
      result?: { expiresAt: number };
    };
    expect(keysAck.ok).toBe(true);
    expect(keysAck.result?.expiresAt).toBeGreaterThan(Date.now() + 500_000);
    const signalingAck = await signaling.request('renew', { token: await session(room, sub, 600) });
    expect(signalingAck).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 4_000));
    expect(keys.connected).toBe(true);
    expect(signaling.socket.connected).toBe(true);
    expect(((await keys.emitWithAck('sync', {})) as { ok: boolean }).ok).toBe(true);
  });

  it('refuses a renewal for another user or another room, and the socket still expires', async () => {
    const room = 'renew-theft-room';
    const sub = newUserId();
    await signalingFor(room, sub, 600);
    const keys = await rawKeys(await session(room, sub, 3));
    const otherUser = (await keys.emitWithAck('renew', { token: await session(room, newUserId(), 600) })) as {
      error?: { code: string };
    };
    const otherRoom = (await keys.emitWithAck('renew', { token: await session('other-room', sub, 600) })) as {
      error?: { code: string };
    };
    const garbage = (await keys.emitWithAck('renew', { token: 'x.y.z' })) as { error?: { code: string } };
    expect([otherUser.error?.code, otherRoom.error?.code, garbage.error?.code]).toEqual([
      'forbidden',
      'forbidden',
      'unauthorized',
    ]);
    expect(await disconnectReason(keys)).toBe('io server disconnect');

    const signaling = await signalingFor(room, newUserId(), 600);
    const theft = await signaling.request('renew', { token: await session(room, newUserId(), 600) });
    expect(theft).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it("KeyClient.renew hands the key service its owner's fresh token", async () => {
    const room = 'key-client-renew-room';
    const sub = newUserId();
    await signalingFor(room, sub, 600);
    let token = await session(room, sub, 3);
    const client = fixture.keyClient(() => token, sub);
    const warnings: string[] = [];
    client.on('warning', (w) => warnings.push(w.message));
    await client.start();
    token = await session(room, sub, 600);
    await client.renew();
    await new Promise((r) => setTimeout(r, 4_000));
    expect(warnings).toEqual([]); // never closed by the server, so never reconnected
    expect(ts.server.keys.snapshot(room)?.online).toEqual([sub]);
  });
});

describe('a /keys socket belongs to a live signaling peer', () => {
  it('refuses a valid session whose user has no signaling peer in the room', async () => {
    const room = 'no-peer-room';
    await signalingFor(room, newUserId()); // the room exists; this user is not in it
    const started = Date.now();
    await expect(rawKeys(await session(room, newUserId(), 600))).rejects.toMatchObject({
      data: { code: 'not-in-meeting' },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000); // it waited for the peer first
    // A peer of the same user in another room does not count either.
    const elsewhere = newUserId();
    await signalingFor('some-other-room', elsewhere);
    await expect(rawKeys(await session(room, elsewhere, 600))).rejects.toMatchObject({
      data: { code: 'not-in-meeting' },
    });
  }, 30_000);

  it('admits a socket whose signaling peer enters while it waits, and closes it when the peer goes', async () => {
    const room = 'late-peer-room';
    const sub = newUserId();
    const keys = rawKeys(await session(room, sub, 600));
    await new Promise((r) => setTimeout(r, 500));
    const signaling = await signalingFor(room, sub);
    const socket = await keys;
    expect(socket.connected).toBe(true);
    const gone = disconnectReason(socket);
    signaling.close();
    expect(await gone).toBe('io server disconnect');
  });
});

describe('a KeyClient whose meeting connection drops', () => {
  it('keeps coming back after the key service refuses it, and is in again once its peer is back', async () => {
    const room = 'come-back-room';
    const sub = newUserId();
    const first = await signalingFor(room, sub);
    const token = await session(room, sub, 600);
    const client = fixture.keyClient(() => token, sub);
    await client.start();
    first.close(); // signaling reports the user gone: the key service drops its socket
    await waitUntil(() => ts.server.keys.snapshot(room) === undefined, 5_000, 'key socket dropped');
    // Longer than the handshake waits for a peer (10 s): the first reconnection is refused.
    await new Promise((r) => setTimeout(r, 12_000));
    expect(ts.server.keys.stats().handshakeRefusals['not-in-meeting']).toBeGreaterThanOrEqual(1);
    await signalingFor(room, sub);
    await waitUntil(() => ts.server.keys.snapshot(room)?.online.includes(sub) === true, 15_000, 'back in');
  }, 40_000);
});

describe('commits and application messages go to members only', () => {
  it('a socket of the room that is not in the MLS group receives neither', async () => {
    const room = 'members-only-room';
    const member = async (name: string) => {
      const sub = newUserId();
      await signalingFor(room, sub);
      const token = await session(room, sub, 600);
      const client = fixture.keyClient(() => token, sub);
      return { client, name };
    };
    const alice = await member('alice');
    await alice.client.start();
    // Eve is a participant of the room (a valid session, a signaling peer) but never joins the group.
    const eveId = newUserId();
    await signalingFor(room, eveId);
    const eve = await rawKeys(await session(room, eveId, 600));
    const eveGot: string[] = [];
    for (const event of ['commit', 'app']) eve.on(event, () => eveGot.push(event));

    const bob = await member('bob');
    await bob.client.start(); // an external commit: relayed to alice
    await waitUntil(() => alice.client.epoch === 1n, 10_000, 'alice at epoch 1');
    const chat = new Promise((resolve) => bob.client.on('chat', resolve));
    await alice.client.sendChat('members only');
    await expect(chat).resolves.toMatchObject({ text: 'members only' });
    const carol = await member('carol');
    await carol.client.start();
    await waitUntil(() => alice.client.epoch === 2n && bob.client.epoch === 2n, 10_000, 'epoch 2');
    await new Promise((r) => setTimeout(r, 300));
    expect(eveGot).toEqual([]);
    expect(eve.connected).toBe(true);
  });
});
