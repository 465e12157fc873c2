// Connection-level refusals on the real server (issue 13, "Key service hygiene"), each with the
// code a client sees: foreign Origin, the default namespace, peers per user id, key-service sockets
// per session, the server-wide transport cap, media port exhaustion, the per-address cap grouping
// IPv6 /64s, X-Forwarded-For believed only from trusted proxies (sockets and the HTTP API), and the
// inbound gate's packet rule. Clients are raw socket.io-client sockets and plain HTTP requests.
import http from 'node:http';
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { SIGNALING_NAMESPACE } from '../../server/src/ConclaveServer.ts';
import { newUserId } from '../../server/src/auth/tokens.ts';
import { counterValue } from './support/counterValue.ts';
import { serverFixture } from './support/serverFixture.ts';
import { waitUntil, type TestServer } from './support/testServer.ts';

const fixture = serverFixture();

function server(env: Record<string, string> = {}): Promise<TestServer> {
  return fixture.start(env);
}

/** Opens `namespace`; resolves with the socket, or with the refusal (message and data). */
function open(
  t: TestServer,
  namespace: string,
  options: { token?: string; headers?: Record<string, string> } = {},
): Promise<Socket | { refused: string; data?: { code?: string } }> {
  const auth = options.token === undefined ? {} : { token: options.token };
  return fixture
    .socket(namespace, { auth, headers: options.headers, via: t.url })
    .catch((e: Error & { data?: { code?: string } }) => ({ refused: e.message, data: e.data }));
}

function refused(result: Socket | { refused: string }): boolean {
  return !(result instanceof Object && 'connected' in result);
}

describe('origin and namespaces', () => {
  it('refuses a foreign Origin on every namespace; its own origin and no Origin get in', async () => {
    const t = await server();
    const { token } = await t.participant('origin-room');
    for (const origin of ['https://evil.example', 'null', `${t.url}.evil.example`]) {
      expect(
        refused(await open(t, SIGNALING_NAMESPACE, { token, headers: { Origin: origin } })),
        origin,
      ).toBe(true);
      expect(refused(await open(t, '/keys', { token, headers: { Origin: origin } })), origin).toBe(true);
    }
    expect(await counterValue(t.server.metrics.connectionsRefused, { reason: 'foreign-origin' })).toBe(6);
    expect(refused(await open(t, SIGNALING_NAMESPACE, { token, headers: { Origin: t.url } }))).toBe(false);
    expect(refused(await open(t, '/keys', { token, headers: { Origin: t.url } }))).toBe(false);
    expect(refused(await open(t, '/keys', { token }))).toBe(false);
  });

  it('refuses every socket on the default namespace "/", with or without a valid token', async () => {
    const t = await server();
    const { token } = await t.participant('default-ns-room');
    for (const options of [{}, { token }]) {
      const result = await open(t, '/', options);
      expect(result).toMatchObject({ data: { code: 'not-found' } });
    }
    expect(t.server.io.of('/').sockets.size).toBe(0);
  });
});

describe('per-user and per-session caps', () => {
  it('refuses a signaling peer beyond CONCLAVE_MAX_PEERS_PER_USER for one user id in a room', async () => {
    const t = await server({ CONCLAVE_MAX_PEERS_PER_USER: '2' });
    const sub = newUserId();
    const token = () => t.server.tokens.mintSession({ host: true, room: 'tabs-room', sub, name: 'Tabs' });
    await fixture.connect({ token: await token() });
    await fixture.connect({ token: await token() });
    const third = await fixture.connect({ token: await token() });
    await waitUntil(() => third.fatal !== undefined, 5000, 'fatal');
    expect(third.fatal).toMatchObject({ code: 'too-many-connections' });
    // Another user is not affected.
    const other = await t.participant('tabs-room');
    expect((await other.signaling.request('getRouterRtpCapabilities', {})).ok).toBe(true);
    expect(t.server.rooms.rooms.get('tabs-room')?.peers.size).toBe(3);
  });

  it('refuses a /keys socket beyond CONCLAVE_MAX_KEY_SOCKETS_PER_SESSION, and admits one after a close', async () => {
    const t = await server({ CONCLAVE_MAX_KEY_SOCKETS_PER_SESSION: '2' });
    const { token } = await t.participant('session-cap-room');
    const first = await open(t, '/keys', { token });
    await open(t, '/keys', { token });
    expect(await open(t, '/keys', { token })).toMatchObject({ data: { code: 'too-many-connections' } });
    (first as Socket).close();
    await waitUntil(() => t.server.keys.stats().sockets === 1, 5000, 'one socket closed');
    expect(refused(await open(t, '/keys', { token }))).toBe(false);
  });
});

describe('media capacity', () => {
  it('refuses transports beyond CONCLAVE_MAX_TRANSPORTS with server-full, and frees them on leave', async () => {
    const t = await server({ CONCLAVE_MAX_TRANSPORTS: '3' });
    const alice = await t.participant('transport-cap-room');
    expect((await alice.signaling.request('createTransport', { direction: 'send' })).ok).toBe(true);
    expect((await alice.signaling.request('createTransport', { direction: 'recv' })).ok).toBe(true);
    const bob = await t.participant('transport-cap-room');
    expect((await bob.signaling.request('createTransport', { direction: 'send' })).ok).toBe(true);
    expect(await bob.signaling.request('createTransport', { direction: 'recv' })).toMatchObject({
      ok: false,
      error: { code: 'server-full' },
    });
    alice.signaling.close();
    await waitUntil(
      () => t.server.rooms.rooms.get('transport-cap-room')?.peers.size === 1,
      5000,
      'alice gone',
    );
    expect((await bob.signaling.request('createTransport', { direction: 'recv' })).ok).toBe(true);
  });

  it('answers media port exhaustion with server-full, never internal', async () => {
    const t = await server({ CONCLAVE_RTC_MIN_PORT: '42990', CONCLAVE_RTC_MAX_PORT: '42991' });
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const peer = await t.participant('ports-room');
      for (const direction of ['send', 'recv']) {
        const ack = await peer.signaling.request('createTransport', { direction });
        answers.push(ack.ok ? 'ok' : ack.error.code);
      }
    }
    expect(answers.filter((a) => a === 'ok').length).toBeGreaterThan(0);
    expect(answers).toContain('server-full');
    expect(answers.filter((a) => a !== 'ok' && a !== 'server-full')).toEqual([]);
  });
});

describe('client addresses', () => {
  it('counts connections per IPv6 /64 behind a trusted proxy, and ignores X-Forwarded-For from others', async () => {
    const t = await server({ CONCLAVE_MAX_CONNECTIONS_PER_IP: '2', CONCLAVE_TRUSTED_PROXIES: '127.0.0.1' });
    await t.participant('v6-room'); // one connection from 127.0.0.1 itself
    // Each connection its own user (a user's peers are capped on their own).
    const from = async (address: string) =>
      open(t, SIGNALING_NAMESPACE, {
        token: await t.session('v6-room'),
        headers: { 'X-Forwarded-For': address },
      });
    expect(refused(await from('2001:db8:1:2::1'))).toBe(false);
    expect(refused(await from('2001:db8:1:2:ffff::9'))).toBe(false);
    // A third address of the same /64 is the same client.
    expect(refused(await from('2001:db8:1:2::3'))).toBe(true);
    // Another /64, and an IPv4 client, are not.
    expect(refused(await from('2001:db8:1:3::1'))).toBe(false);
    expect(refused(await from('::ffff:198.51.100.1'))).toBe(false);
    expect(refused(await from('198.51.100.1'))).toBe(false);
    expect(refused(await from('198.51.100.1'))).toBe(true); // the mapped address counted as this one
  });

  it('without trusted proxies, a client cannot dodge the per-address cap with X-Forwarded-For', async () => {
    const t = await server({ CONCLAVE_MAX_CONNECTIONS_PER_IP: '2' });
    const { token } = await t.participant('xff-room');
    const from = (address: string) =>
      open(t, SIGNALING_NAMESPACE, { token, headers: { 'X-Forwarded-For': address } });
    expect(refused(await from('203.0.113.1'))).toBe(false);
    expect(refused(await from('203.0.113.2'))).toBe(true);
  });

  it('rate-limits the HTTP API per client behind trusted proxies, and per TCP peer otherwise', async () => {
    const get = (url: string, forwardedFor: string) =>
      new Promise<number>((resolve, reject) => {
        http
          .get(`${url}/api/config`, { headers: { 'X-Forwarded-For': forwardedFor } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
    const proxied = await server({
      CONCLAVE_API_BURST: '2',
      CONCLAVE_API_RATE: '0.01',
      CONCLAVE_TRUSTED_PROXIES: '127.0.0.0/8',
    });
    expect([await get(proxied.url, '203.0.113.1'), await get(proxied.url, '203.0.113.1')]).toEqual([
      200, 200,
    ]);
    expect(await get(proxied.url, '203.0.113.1')).toBe(429);
    expect(await get(proxied.url, '203.0.113.2')).toBe(200);
    await proxied.close();

    const direct = await server({ CONCLAVE_API_BURST: '2', CONCLAVE_API_RATE: '0.01' });
    expect([await get(direct.url, '203.0.113.1'), await get(direct.url, '203.0.113.2')]).toEqual([200, 200]);
    expect(await get(direct.url, '203.0.113.3')).toBe(429);
  });
});

describe('inbound gate', () => {
  it('closes a connection sending a text message far beyond any request, and penalises its address; binary on signaling is just refused', async () => {
    const t = await server();
    const a = await t.participant('gate-room');
    const b = await t.participant('gate-room');
    const bystander = await t.participant('gate-room');
    // Binary in a signaling request, within the message cap but over the request cap: sized without
    // being serialised, and refused with a clear answer.
    const binary = await a.signaling.request('leave', { blob: Buffer.alloc(300_000) });
    expect(binary).toMatchObject({ ok: false, error: { code: 'bad-request', message: 'request too large' } });
    const bClosed = new Promise((resolve) => b.signaling.socket.once('disconnect', resolve));
    b.signaling.socket.emit('request', { method: 'leave', data: { padding: 'x'.repeat(300_000) } }, () => {});
    await bClosed;
    expect(await counterValue(t.server.metrics.connectionsRefused, { reason: 'text-too-large' })).toBe(1);
    // Its address may not come straight back (all of these share 127.0.0.1).
    const retry = await open(t, SIGNALING_NAMESPACE, { token: await t.session('gate-room') });
    expect(refused(retry)).toBe(true);
    expect(await counterValue(t.server.metrics.connectionsRefused, { reason: 'penalized' })).toBe(1);
    expect(a.signaling.socket.connected).toBe(true);
    expect((await bystander.signaling.request('getRouterRtpCapabilities', {})).ok).toBe(true);
  });
});
