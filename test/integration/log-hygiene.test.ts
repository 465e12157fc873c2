// The server's logs at trace level, through its real logger, over a whole meeting: the HTTP API
// (invite, session, renewal), signaling (join, produce, consume, refused requests carrying
// tokens), the key service (an MLS group, a commit, a chat message) and refused handshakes with
// tokens of every kind. No token, token secret, epoch key or chat text may appear in any line,
// and every line about a participant names its room and peer.
import { KeyClient, type EpochKeys } from '@conclave/key-service/client';
import { io } from 'socket.io-client';
import { afterAll, expect, it } from 'vitest';
import { SIGNALING_NAMESPACE } from '../../server/src/ConclaveServer.ts';
import { createLogger } from '../../server/src/logger.ts';
import { TestClient, opusParameters, startTestServer, type TestServer } from './support/testServer.ts';

const TOKEN_SECRET = Buffer.alloc(32, 'log-hygiene-secret');
const CHAT_TEXT = 'the quarterly numbers are 7f3a9c';

let ts: TestServer | undefined;
const cleanup: (() => void)[] = [];
afterAll(async () => {
  for (const close of cleanup.splice(0)) close();
  await ts?.close();
});

async function post(url: string, body: unknown): Promise<Record<string, string>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Record<string, string>;
}

/** Every form a secret could be written in. */
function spellings(secret: Uint8Array | string): string[] {
  if (typeof secret === 'string') return [secret, ...secret.split('.').filter((part) => part.length > 20)];
  const bytes = Buffer.from(secret);
  return [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url'), [...bytes].join(',')];
}

/** A participant as the web client is one: API session, signaling, key service. */
async function participant(t: TestServer, invite: string, name: string) {
  const session = await post(`${t.url}/api/sessions`, { invite, name });
  const renewed = await post(`${t.url}/api/sessions`, { invite, name, previous: session['session'] });
  const token = renewed['session'] as string;
  const signaling = await TestClient.connect(t.url, { token });
  const joined = await signaling.join();
  const keys = new KeyClient({
    url: `${t.url}/keys`,
    token: () => token,
    userId: renewed['userId'] as string,
  });
  cleanup.push(
    () => signaling.close(),
    () => keys.close(),
  );
  await keys.start();
  return { tokens: [session['session'] as string, token], signaling, joined, keys };
}

it('logs no token, secret, key or chat text over a whole meeting, and names room and peer', async () => {
  const lines: string[] = [];
  const t = (ts = await startTestServer(
    { CONCLAVE_TOKEN_SECRET: TOKEN_SECRET.toString('base64url'), CONCLAVE_LOG_LEVEL: 'trace' },
    { logger: createLogger('trace', { write: (line: string) => void lines.push(line) }) },
  ));
  const epochKeys: EpochKeys[] = [];

  const created = await post(`${t.url}/api/rooms`, {});
  const room = created['room'] as string;
  const invite = created['guestInvite'] as string;
  // Alice made the meeting: her host invite starts its group.
  const alice = await participant(t, created['hostInvite'] as string, 'Alice');
  alice.keys.on('epoch', (keys) => epochKeys.push(keys));
  await alice.signaling.ok('produce', {
    transportId: alice.joined.sendTransportId,
    kind: 'audio',
    rtpParameters: opusParameters(),
    source: 'mic',
  });
  const bob = await participant(t, invite, 'Bob');
  bob.keys.on('epoch', (keys) => epochKeys.push(keys));
  await bob.signaling.waitFor('newConsumer');
  await expect.poll(() => alice.keys.current?.members.length, { timeout: 15_000 }).toBe(2);
  const chat = new Promise((resolve) => bob.keys.on('chat', resolve));
  await alice.keys.sendChat(CHAT_TEXT);
  await chat;

  // Requests that carry tokens where they do not belong are refused, and must not be echoed.
  const [aliceSession] = alice.tokens;
  for (const data of [{ token: aliceSession }, { rtpCapabilities: aliceSession }, aliceSession]) {
    expect((await alice.signaling.request('join', data)).ok).toBe(false);
  }
  expect((await bob.signaling.request('connectTransport', { transportId: aliceSession })).ok).toBe(false);
  // Handshakes with an invite, a forged and a garbage token are refused on both namespaces.
  const forged = `${aliceSession?.split('.').slice(0, 2).join('.')}.${'A'.repeat(43)}`;
  const garbage = 'garbage-token-5d1e0c7b2a';
  for (const namespace of [SIGNALING_NAMESPACE, '/keys']) {
    for (const token of [invite, forged, garbage]) {
      const socket = io(`${t.url}${namespace}`, {
        auth: { token },
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
      });
      await new Promise((resolve) => socket.once('connect_error', resolve));
      socket.close();
    }
  }
  // Leaving: signaling and the key service log the departure and the removal commit.
  bob.signaling.close();
  await expect.poll(() => alice.keys.current?.members.length, { timeout: 15_000 }).toBe(1);
  epochKeys.push(alice.keys.current!);

  // Secrets: none in any spelling.
  const text = lines.join('');
  const secrets = [
    ...spellings(TOKEN_SECRET),
    ...spellings(invite),
    ...spellings(created['hostInvite'] as string),
    ...[...alice.tokens, ...bob.tokens].flatMap((token) => spellings(token)),
    ...spellings(forged),
    garbage,
    CHAT_TEXT,
    ...epochKeys.flatMap((keys) => spellings(keys.baseKey)),
  ];
  expect(epochKeys.length).toBeGreaterThanOrEqual(2);
  for (const secret of secrets)
    expect(text.includes(secret), `a secret in the logs: ${secret.slice(0, 12)}…`).toBe(false);
  expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/);

  // The scan read a real log: trace and debug lines from signaling and the key service.
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(entries.length).toBeGreaterThan(20);
  const requests = entries.filter((e) => e['msg'] === 'request');
  expect(requests.length).toBeGreaterThan(8);
  expect(entries.some((e) => e['msg'] === 'request refused')).toBe(true);
  expect(entries.some((e) => e['msg'] === 'signaling handshake refused')).toBe(true);
  expect(entries.some((e) => e['component'] === 'key-service' && e['msg'] === 'commit accepted')).toBe(true);

  // Context: every line about a participant's socket names the room, the peer and the user.
  const peerIds = new Set([...requests.map((e) => e['peer'])]);
  expect(peerIds.size).toBe(2);
  for (const entry of entries.filter((e) => ['request', 'request refused'].includes(e['msg'] as string))) {
    expect(entry).toMatchObject({ room: room, peer: expect.any(String), user: expect.any(String) });
  }
  for (const entry of entries.filter((e) => ['peer connected', 'peer left'].includes(e['msg'] as string))) {
    expect(entry).toMatchObject({ room: room, peer: expect.any(String) });
  }
  for (const entry of entries.filter((e) => e['component'] === 'key-service')) {
    expect(entry['room']).toBe(room);
  }
});
