// Defects fuzz.test.ts found, each pinned by a deterministic test against a real server.
import type { Socket } from 'socket.io-client';
import { expect, it } from 'vitest';
import { Peer } from '../../server/src/rooms/Peer.ts';
import { serverFixture } from './support/serverFixture.ts';
import { waitUntil } from './support/testServer.ts';

const fixture = serverFixture();

it('closes a room whose only participant left while the room was being created', async () => {
  // Found as rooms that never closed: the socket went during the room's (asynchronous) creation.
  const t = await fixture.start();
  const room = await t.server.rooms.getOrCreate('ghost-room');
  const peer = new Peer({
    id: 'ghost',
    userId: 'ghost-user-id',
    displayName: 'Ghost',
    notify: () => {},
    limits: { maxProducers: 3, maxConsumers: 3 },
  });
  peer.close();
  expect(() => room.addPeer(peer)).toThrow(/left before entering/);
  await waitUntil(() => room.closed && !t.server.rooms.rooms.has('ghost-room'), 5000, 'room closed');
  expect(room.router.closed).toBe(true);
});

it('refuses a second connectTransport as invalid-state, not as an internal error', async () => {
  await fixture.start();
  const client = await fixture.signaling('dtls-room');
  const { sendTransportId } = await client.join();
  const dtlsParameters = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] };
  const [first, second] = await Promise.all([
    client.request('connectTransport', { transportId: sendTransportId, dtlsParameters }),
    client.request('connectTransport', { transportId: sendTransportId, dtlsParameters }),
  ]);
  expect(first.ok).toBe(true);
  expect(second).toMatchObject({ ok: false, error: { code: 'invalid-state' } });
  const third = await client.request('connectTransport', { transportId: sendTransportId, dtlsParameters });
  expect(third).toMatchObject({ ok: false, error: { code: 'invalid-state' } });
});

it('answers every one-byte corruption of a real GroupInfo with a client error, never internal', async () => {
  // Found as 'internal' answers: ts-mls decodes the ratchet tree extension lazily and throws a
  // CodecError on a malformed one.
  const t = await fixture.start({ CONCLAVE_KEYS_RATE: '100000' });
  const { token, userId: ownerId } = await t.participant('mls-room', 'Owner');
  const owner = fixture.keyClient(token, ownerId);
  await owner.start();
  // The signer itself republishes: past the identity check, into the parsing.
  const socket: Socket = await fixture.socket('/keys', { auth: { token } });
  const synced = (await socket.emitWithAck('sync', {})) as { result: { groupInfo: Uint8Array } };
  const groupInfo = new Uint8Array(synced.result.groupInfo);

  const codes = new Map<string, number>();
  for (let at = 0; at < groupInfo.length; at++) {
    const corrupted = Uint8Array.from(groupInfo);
    corrupted[at] = (corrupted[at] ?? 0) ^ 0xff;
    const ack = (await socket.emitWithAck('publish', { groupInfo: corrupted })) as {
      ok: boolean;
      error?: { code: string };
    };
    const code = ack.ok ? 'ok' : (ack.error?.code ?? 'none');
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  expect(codes.has('internal')).toBe(false);
  expect([...codes.keys()].every((c) => ['bad-request', 'forbidden', 'invalid-state'].includes(c))).toBe(
    true,
  );
  expect(t.server.keys.snapshot('mls-room')?.epoch).toBe(Number(owner.current?.epoch));
});
