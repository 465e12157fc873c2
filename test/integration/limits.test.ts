// Resource caps and rate limits against a real server (real mediasoup worker): rooms per server on
// signaling and the key service, transports per peer, per-socket request rates on both namespaces,
// and per-IP connections at the handshake. Each refusal is clear and leaves everyone else working.
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { counterValue } from './support/counterValue.ts';
import { serverFixture } from './support/serverFixture.ts';
import { waitUntil, type TestClient, type TestServer } from './support/testServer.ts';

const fixture = serverFixture();

function server(env: Record<string, string>): Promise<TestServer> {
  return fixture.start(env);
}

async function signaling(t: TestServer, room: string): Promise<TestClient> {
  return fixture.connect({ token: await t.session(room) }, { via: t.url });
}

/** A raw /keys socket of a participant (or of `token`'s session); resolves once connected,
 *  rejects with the handshake error's data. */
async function keysSocket(t: TestServer, room: string, token?: string): Promise<Socket> {
  return fixture.socket('/keys', { auth: { token: token ?? (await t.participant(room)).token }, via: t.url });
}

describe('caps', () => {
  it('refuses a room beyond CONCLAVE_MAX_ROOMS on signaling and on the key service, until one closes', async () => {
    const t = await server({ CONCLAVE_MAX_ROOMS: '2' });
    const first = await signaling(t, 'room-one');
    await signaling(t, 'room-two');
    const third = await signaling(t, 'room-three');
    await waitUntil(() => third.fatal !== undefined, 5000, 'fatal');
    expect(third.fatal).toMatchObject({ code: 'server-full' });
    await waitUntil(() => !third.socket.connected, 5000, 'refused socket closed');
    expect([...t.server.rooms.rooms.keys()].sort()).toEqual(['room-one', 'room-two']);

    const one = await t.participant('room-one');
    await keysSocket(t, 'room-one', one.token);
    await keysSocket(t, 'room-two');
    await expect(keysSocket(t, 'room-three')).rejects.toMatchObject({ data: { code: 'server-full' } });
    // A socket for a room that exists still gets in.
    const again = await t.participant('room-one');
    await keysSocket(t, 'room-one', again.token);

    // Rooms that close make room: room-one closes when its last peer leaves.
    for (const peer of [first, one.signaling, again.signaling]) peer.close();
    await waitUntil(() => !t.server.rooms.rooms.has('room-one'), 5000, 'room-one closed');
    const later = await signaling(t, 'room-three');
    await later.join();
    expect(t.server.rooms.rooms.has('room-three')).toBe(true);
  });

  it('gives a peer one transport per direction', async () => {
    const t = await server({});
    const client = await signaling(t, 'transport-room');
    await client.join();
    for (const direction of ['send', 'recv']) {
      const again = await client.request('createTransport', { direction });
      expect(again).toMatchObject({ ok: false, error: { code: 'invalid-state' } });
    }
    const room = t.server.rooms.rooms.get('transport-room');
    expect([...(room?.peers.values() ?? [])][0]?.transports.size).toBe(2);
  });
});

describe('rate limits', () => {
  it('answers a signaling socket past its rate with rate-limited, and other sockets are unaffected', async () => {
    const t = await server({ CONCLAVE_SIGNALING_RATE: '5' }); // bursts of 20
    const flooder = await signaling(t, 'rate-room');
    const bystander = await signaling(t, 'rate-room');
    const acks = await Promise.all(
      Array.from({ length: 60 }, () => flooder.request('getRouterRtpCapabilities', {})),
    );
    const limited = acks.filter((a) => !a.ok && a.error.code === 'rate-limited').length;
    const served = acks.filter((a) => a.ok).length;
    // The burst is served; the rest (bar what refilled meanwhile) is refused.
    expect(served).toBeGreaterThanOrEqual(20);
    expect(served).toBeLessThan(30);
    expect(limited).toBe(60 - served);
    // Events without acknowledgement count too, and are dropped silently.
    for (let i = 0; i < 50; i++) flooder.socket.emit('no-such-event', i);
    expect((await bystander.request('getRouterRtpCapabilities', {})).ok).toBe(true);
    // The bucket refills: the flooder is served again after a pause.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await flooder.request('getRouterRtpCapabilities', {})).ok).toBe(true);
    expect(flooder.socket.connected).toBe(true);
  });

  it('applies CONCLAVE_KEYS_RATE to key-service sockets', async () => {
    const t = await server({ CONCLAVE_KEYS_RATE: '2' }); // bursts of 6
    const socket = await keysSocket(t, 'keys-rate-room');
    const acks = (await Promise.all(
      Array.from({ length: 20 }, () => socket.timeout(5000).emitWithAck('sync', {})),
    )) as { ok: boolean; error?: { code: string } }[];
    const served = acks.filter((a) => a.ok).length;
    expect(served).toBeGreaterThanOrEqual(6);
    expect(served).toBeLessThan(10);
    expect(acks.filter((a) => a.error?.code === 'rate-limited')).toHaveLength(20 - served);
  });

  it('refuses connections from one address beyond CONCLAVE_MAX_CONNECTIONS_PER_IP at the handshake', async () => {
    const t = await server({ CONCLAVE_MAX_CONNECTIONS_PER_IP: '3' });
    const first = await signaling(t, 'ip-room');
    const member = await t.participant('ip-room');
    await keysSocket(t, 'ip-room', member.token);
    expect(t.server.io.engine.clientsCount).toBe(3);
    await expect(signaling(t, 'ip-room')).rejects.toThrow();
    await expect(keysSocket(t, 'ip-room', member.token)).rejects.toThrow();
    expect(await counterValue(t.server.metrics.connectionsRefused, { reason: 'too-many-connections' })).toBe(
      2,
    );
    // The connections already open keep working; one closing lets another in.
    expect((await first.request('getRouterRtpCapabilities', {})).ok).toBe(true);
    first.close();
    await waitUntil(() => t.server.io.engine.clientsCount === 2, 5000, 'connection closed');
    const again = await signaling(t, 'ip-room');
    expect(again.socket.connected).toBe(true);
  });
});
