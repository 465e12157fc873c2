// A real Conclave server (real mediasoup worker) on a free loopback port, and socket.io clients
// that speak the signaling protocol, for integration tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { ConclaveServer, SIGNALING_NAMESPACE } from '../../../server/src/ConclaveServer.ts';
import { newUserId } from '../../../server/src/auth/tokens.ts';
import { loadClusterConfig } from '../../../server/src/cluster/clusterConfig.ts';
import { loadConfig } from '../../../server/src/config.ts';
import { createLogger, type Logger } from '../../../server/src/logger.ts';
import type { Ack, Notification, RequestMethod } from '../../../server/src/signaling/protocol.ts';

export interface TestServer {
  server: ConclaveServer;
  url: string;
  session(room: string, name?: string): Promise<string>;
  /**
   * A session whose user is in the meeting: its signaling socket is connected (and stays so until
   * `signaling.close()` or the server's close). The key service admits a /keys socket only for such
   * a session, so every test that opens one starts here.
   */
  participant(room: string, name?: string): Promise<Participant>;
  close(): Promise<void>;
}

export interface Participant {
  token: string;
  userId: string;
  signaling: TestClient;
}

/** `logger`: where the server logs (default: nowhere), for tests that read its logs. */
export async function startTestServer(
  env: Record<string, string> = {},
  { logger = createLogger('silent') }: { logger?: Logger } = {},
): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-it-'));
  const fullEnv = {
    CONCLAVE_PORT: '0',
    CONCLAVE_DATA_DIR: dataDir,
    CONCLAVE_WORKERS: '1',
    CONCLAVE_RTC_MIN_PORT: '42000',
    CONCLAVE_RTC_MAX_PORT: '42999',
    ...env,
  };
  const config = loadConfig(fullEnv);
  // Cluster mode only when the test sets CONCLAVE_REDIS_URL, as for `npm start`.
  const cluster = loadClusterConfig(fullEnv, config.publicUrl);
  const server = await ConclaveServer.start({ config, logger, webRoot: dataDir, cluster });
  const participants: TestClient[] = [];
  return {
    server,
    url: server.url,
    session: (room, name = 'Tester') =>
      server.tokens.mintSession({ host: true, room, sub: newUserId(), name }),
    async participant(room, name = 'Tester') {
      const userId = newUserId();
      const token = await server.tokens.mintSession({ host: true, room, sub: userId, name });
      const signaling = await TestClient.connect(server.url, { token });
      participants.push(signaling);
      return { token, userId, signaling };
    },
    close: async () => {
      for (const p of participants.splice(0)) p.close();
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A signaling client as the browser would be, minus the media engine. */
export class TestClient {
  readonly socket: Socket;
  readonly notifications: Notification[] = [];
  fatal: { code: string; message: string } | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('notification', (n: Notification) => this.notifications.push(n));
    socket.on('fatal', (e: { code: string; message: string }) => (this.fatal = e));
  }

  /** Connects; resolves once connected, rejects with the handshake error's data when refused. */
  static connect(url: string, auth: Record<string, unknown>): Promise<TestClient> {
    const socket = io(`${url}${SIGNALING_NAMESPACE}`, {
      auth,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const client = new TestClient(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(client));
      socket.once('connect_error', (error: Error & { data?: unknown }) => {
        socket.close();
        reject(Object.assign(new Error(error.message), { data: error.data }));
      });
    });
  }

  async request<M extends RequestMethod>(method: M, data: unknown): Promise<Ack<M>> {
    return (await this.socket.timeout(10_000).emitWithAck('request', { method, data })) as Ack<M>;
  }

  /** A request that must succeed; its result. */
  async ok<M extends RequestMethod>(method: M, data: unknown) {
    const ack = await this.request(method, data);
    if (!ack.ok) throw new Error(`${method} failed: ${ack.error.code} ${ack.error.message}`);
    return ack.result;
  }

  async waitFor<T extends Notification['type']>(
    type: T,
    timeoutMs = 5000,
  ): Promise<Extract<Notification, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.notifications.find((n) => n.type === type);
      if (found !== undefined) return found as Extract<Notification, { type: T }>;
      if (Date.now() > deadline) throw new Error(`no ${type} notification within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Joins with the router's own capabilities (what a browser would announce, near enough). */
  async join() {
    const { rtpCapabilities } = await this.ok('getRouterRtpCapabilities', {});
    const send = await this.ok('createTransport', { direction: 'send' });
    const recv = await this.ok('createTransport', { direction: 'recv' });
    const joined = await this.ok('join', { rtpCapabilities });
    return { ...joined, sendTransportId: send.id, recvTransportId: recv.id };
  }

  close(): void {
    this.socket.close();
  }
}

let nextSsrc = 1_000_000;

/** RTP parameters of an Opus microphone, as a browser's send transport would announce them. */
export function opusParameters() {
  return {
    codecs: [
      {
        mimeType: 'audio/opus',
        payloadType: 111,
        clockRate: 48000,
        channels: 2,
        parameters: { minptime: 10, useinbandfec: 1 },
        rtcpFeedback: [{ type: 'transport-cc', parameter: '' }],
      },
    ],
    headerExtensions: [],
    encodings: [{ ssrc: nextSsrc++ }],
    rtcp: { cname: 'test-cname', reducedSize: true },
  };
}

/** RTP parameters of a VP8 camera with three simulcast layers. */
export function vp8SimulcastParameters() {
  return {
    codecs: [
      {
        mimeType: 'video/VP8',
        payloadType: 96,
        clockRate: 90000,
        rtcpFeedback: [
          { type: 'nack', parameter: '' },
          { type: 'nack', parameter: 'pli' },
          { type: 'ccm', parameter: 'fir' },
          { type: 'goog-remb', parameter: '' },
        ],
      },
    ],
    headerExtensions: [],
    encodings: [{ ssrc: nextSsrc++ }, { ssrc: nextSsrc++ }, { ssrc: nextSsrc++ }],
    rtcp: { cname: 'test-cname', reducedSize: true },
  };
}

export async function waitUntil(
  condition: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
