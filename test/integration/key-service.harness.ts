// Shared setup for the key-service integration tests: a real socket.io server on 127.0.0.1 with the
// key service mounted, a real TokenAuthority, and KeyClients / raw sockets talking to it.
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { TokenAuthority } from '@conclave/server/tokens';
import { attachKeyService, type KeyService, type KeyServiceLimits } from '@conclave/key-service/server';
import { KeyClient, type EpochKeys, type KeyClientOptions } from '@conclave/key-service/client';

export const ROOM = 'key-room';

export interface Harness {
  url: string;
  port: number;
  tokens: TokenAuthority;
  service: KeyService;
  clients: KeyClient[];
  /** Every membership change an honest client refused (user id and violation code). */
  refusals: Array<{ userId: string; code: string }>;
  sockets: Socket[];
  /** A KeyClient; by default with a host session (which may create the room's group, with the lobby
   *  off unless `lobby: true`). `host: false` for a guest's session. */
  client(userId: string, options?: Partial<KeyClientOptions> & { host?: boolean }): KeyClient;
  raw(userId: string, room?: string, host?: boolean): Promise<Socket>;
  /** Stops the key service (sockets drop) and starts a fresh one on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function listen(port: number, limits: Partial<KeyServiceLimits> | undefined, tokens: TokenAuthority) {
  const http: HttpServer = createServer();
  const io = new Server(http, { maxHttpBufferSize: 2 * 1024 * 1024 });
  const service = attachKeyService(io, {
    authenticate: (token) => tokens.verifySession(token),
    limits: { removalTimeoutMs: 1000, ...limits },
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  return { http, io, service, port: (http.address() as AddressInfo).port };
}

export async function startHarness(limits?: Partial<KeyServiceLimits>): Promise<Harness> {
  const tokens = new TokenAuthority(new Uint8Array(randomBytes(32)), {
    inviteSeconds: 3600,
    sessionSeconds: 600,
  });
  let server = await listen(0, limits, tokens);
  const url = `http://127.0.0.1:${server.port}/keys`;
  const stop = async () => {
    await server.service.close();
    server.io.disconnectSockets(true);
    await new Promise<void>((resolve) => server.io.close(() => resolve()));
  };
  const h: Harness = {
    url,
    port: server.port,
    tokens,
    service: server.service,
    clients: [],
    refusals: [],
    sockets: [],
    client(userId, options) {
      const c = new KeyClient({
        url,
        userId,
        token: () =>
          tokens.mintSession({ room: ROOM, sub: userId, name: userId, host: options?.host ?? true }),
        socketOptions: { reconnectionDelay: 50, reconnectionDelayMax: 200 },
        requestTimeoutMs: 5000,
        ...options,
      });
      c.on('membership-refused', (r) => h.refusals.push({ userId, code: r.violation.code }));
      h.clients.push(c);
      return c;
    },
    async raw(userId, room = ROOM, host = true) {
      const token = await tokens.mintSession({ room, sub: userId, name: userId, host });
      const socket = connect(url, { transports: ['websocket'], auth: { token }, reconnection: false });
      h.sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      return socket;
    },
    async restart() {
      await stop();
      server = await listen(h.port, limits, tokens);
      h.service = server.service;
    },
    async close() {
      for (const c of h.clients) c.close();
      for (const s of h.sockets) s.disconnect();
      await stop();
    },
  };
  return h;
}

export async function until(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Records every epoch a client reaches. */
export function recordKeys(client: KeyClient): EpochKeys[] {
  const seen: EpochKeys[] = [];
  client.on('epoch', (k) => seen.push(k));
  return seen;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export async function inSync(clients: KeyClient[], epoch?: bigint): Promise<void> {
  await until(
    () => {
      const first = clients[0]?.current;
      if (first === undefined || (epoch !== undefined && first.epoch !== epoch)) return false;
      return clients.every(
        (c) =>
          c.current !== undefined &&
          c.current.epoch === first.epoch &&
          hex(c.current.baseKey) === hex(first.baseKey),
      );
    },
    10_000,
    `clients in sync${epoch === undefined ? '' : ` at epoch ${epoch}`}`,
  );
}

export function request(
  socket: Socket,
  event: string,
  payload: unknown,
): Promise<{ ok: boolean; result?: unknown; error?: { code: string; message: string; epoch?: number } }> {
  return socket.timeout(5000).emitWithAck(event, payload);
}

export function must<T>(value: T | undefined | null, what = 'value'): T {
  if (value === undefined || value === null) throw new Error(`missing ${what}`);
  return value;
}

/** The hex of a client's current base key. */
export function keyOf(client: KeyClient): string {
  return hex(must(client.current, 'epoch keys').baseKey);
}
