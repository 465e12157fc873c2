// Defects fuzz.test.ts found, each pinned by a deterministic test against a real server.
import { KeyClient } from '@conclave/key-service/client';
import { io, type Socket } from 'socket.io-client';
import { afterEach, expect, it } from 'vitest';
import { Peer } from '../../server/src/rooms/Peer.ts';
import { TestClient, startTestServer, waitUntil, type TestServer } from './support/testServer.ts';

let ts: TestServer | undefined;
const cleanup: (() => void)[] = [];

afterEach(async () => {
  for (const close of cleanup.splice(0)) close();
  await ts?.close();
  ts = undefined;
});

it('closes a room whose only participant left while the room was being created', async () => {
  // Found as rooms that never closed: the socket went during the room's (asynchronous) creation.
  const t = (ts = await startTestServer());
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
  const t = (ts = await startTestServer());
  const client = await TestClient.connect(t.url, { token: await t.session('dtls-room') });
  cleanup.push(() => client.close());
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
  const t = (ts = await startTestServer({ CONCLAVE_KEYS_RATE: '100000' }));
  const { token, userId: ownerId } = await t.participant('mls-room', 'Owner');
  const owner = new KeyClient({ url: `${t.url}/keys`, token: () => token, userId: ownerId });
  cleanup.push(() => owner.close());
  await owner.start();
  // The signer itself republishes: past the identity check, into the parsing.
  const socket: Socket = io(`${t.url}/keys`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  cleanup.push(() => socket.close());
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
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
