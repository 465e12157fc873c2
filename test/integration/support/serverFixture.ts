// The shared set-up of integration tests against a real server (after mediasoup's own tests: a
// context object, and teardown that always runs): the servers a test starts (real mediasoup
// worker, key service), and what it opens on them: signaling clients, MLS key clients, raw
// socket.io sockets. What must hold: everything opened through the fixture is closed by its
// teardown, last opened first, then the servers; a test never sees another test's sockets.
//
//   const fixture = serverFixture();            // teardown after each test
//   let ts: TestServer;
//   beforeEach(async () => { ts = await fixture.start(); });
//   const alice = await fixture.member('room', 'Alice');
import { KeyClient } from '@conclave/key-service/client';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach } from 'vitest';
import { newUserId } from '../../../server/src/auth/tokens.ts';
import { TestClient, startTestServer, type TestServer } from './testServer.ts';

type Closer = () => void | Promise<void>;

/** Where a client connects: the server itself (default) or a relay in front of it. */
interface Via {
  via?: string;
}

/** A participant as a browser joins: in the room on signaling, and in the room's MLS group. */
export interface Member {
  userId: string;
  name: string;
  token: string;
  signaling: TestClient;
  joined: Awaited<ReturnType<TestClient['join']>>;
  sendTransportId: string;
  keys: KeyClient;
}

export class ServerFixture {
  readonly #servers: TestServer[] = [];
  readonly #closers: Closer[] = [];

  /** Starts a real server (see startTestServer); it becomes `ts` and is closed at teardown. */
  async start(...options: Parameters<typeof startTestServer>): Promise<TestServer> {
    const server = await startTestServer(...options);
    this.#servers.push(server);
    return server;
  }

  /** The server started last. */
  get ts(): TestServer {
    const server = this.#servers.at(-1);
    if (server === undefined) throw new Error('no server started: call fixture.start() first');
    return server;
  }

  /** Runs `close` at teardown, before the servers close (last registered, first run). */
  onTeardown(close: Closer): void {
    this.#closers.push(close);
  }

  /** A session token for `room` (a host's, as the test servers' sessions are). */
  session(room: string, name = 'Tester', userId = newUserId()): Promise<string> {
    return this.ts.server.tokens.mintSession({ host: true, room, sub: userId, name });
  }

  /** A signaling client connected with `auth`; rejects with the handshake error's data if refused. */
  async connect(auth: Record<string, unknown>, { via = this.ts.url }: Via = {}): Promise<TestClient> {
    const client = await TestClient.connect(via, auth);
    this.onTeardown(() => client.close());
    return client;
  }

  /** A signaling client of a new session for `room` (of `userId`'s, to come back as them). */
  async signaling(
    room: string,
    name = 'Tester',
    { userId = newUserId(), via }: Via & { userId?: string } = {},
  ): Promise<TestClient> {
    return this.connect({ token: await this.session(room, name, userId) }, { via });
  }

  /**
   * A key client (not started yet) for a session `token` of `userId`; give a function to have it
   * read at each use (a test that renews the token).
   */
  keyClient(
    token: string | (() => string),
    userId: string,
    { via = this.ts.url, requestTimeoutMs }: Via & { requestTimeoutMs?: number } = {},
  ): KeyClient {
    const current = typeof token === 'string' ? () => token : token;
    const keys = new KeyClient({ url: `${via}/keys`, token: current, userId, requestTimeoutMs });
    this.onTeardown(() => keys.close());
    return keys;
  }

  /**
   * Joins `room` as `name`: signaling connects and joins, then the key client joins the MLS group;
   * with `keysDuringJoin`, the key client starts while signaling joins, as the browser does.
   */
  async member(
    room: string,
    name: string,
    {
      via,
      keysDuringJoin = false,
      requestTimeoutMs,
    }: Via & { keysDuringJoin?: boolean; requestTimeoutMs?: number } = {},
  ): Promise<Member> {
    const userId = newUserId();
    const token = await this.session(room, name, userId);
    const keys = this.keyClient(token, userId, { via, requestTimeoutMs });
    const signaling = await this.connect({ token }, { via });
    let joined: Member['joined'];
    if (keysDuringJoin) [joined] = await Promise.all([signaling.join(), keys.start()]);
    else {
      joined = await signaling.join();
      await keys.start();
    }
    return { userId, name, token, signaling, joined, sendTransportId: joined.sendTransportId, keys };
  }

  /**
   * A raw socket.io socket on `namespace` (e.g. '/keys'), as an attacker would open one; resolves
   * once connected, rejects with the handshake error (its message, and `data`) if refused.
   */
  socket(
    namespace: string,
    {
      auth = {},
      headers,
      via = this.ts.url,
    }: Via & { auth?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ): Promise<Socket> {
    const socket = io(`${via}${namespace}`, {
      auth,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: headers,
    });
    this.onTeardown(() => {
      socket.close();
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (error: Error & { data?: unknown }) =>
        reject(Object.assign(new Error(error.message), { data: error.data })),
      );
    });
  }

  /** Closes what the test opened, last first, then the servers; runs every step even if one fails. */
  async teardown(): Promise<void> {
    const failures: unknown[] = [];
    for (const close of this.#closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        failures.push(error);
      }
    }
    for (const server of this.#servers.splice(0).reverse()) {
      try {
        await server.close();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  }
}

/**
 * A fixture whose teardown vitest runs after each test (`scope: 'test'`), or once after the file's
 * tests (`scope: 'file'`, for a server started in beforeAll and the sockets its tests share).
 */
export function serverFixture({ scope = 'test' }: { scope?: 'test' | 'file' } = {}): ServerFixture {
  const fixture = new ServerFixture();
  (scope === 'test' ? afterEach : afterAll)(() => fixture.teardown());
  return fixture;
}
