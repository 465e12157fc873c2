// Composition root: config → token authority, mediasoup workers, rooms, signaling and the HTTP(S)
// server that serves the app, its API and socket.io.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { attachKeyService, type KeyService } from '@conclave/key-service/server';
import { Server as SocketIoServer } from 'socket.io';
import { AuditTokenAuthority } from './auth/auditTokens.ts';
import { loadOrCreateTokenSecret } from './auth/secret.ts';
import { TokenAuthority } from './auth/tokens.ts';
import type { Config } from './config.ts';
import { Api, sendJson } from './http/api.ts';
import { AuditCaptureEndpoint } from './http/auditCapture.ts';
import { ConnectionLimiter } from './http/ConnectionLimiter.ts';
import { RateLimiter } from './http/RateLimiter.ts';
import { setSecurityHeaders } from './http/securityHeaders.ts';
import { StaticFiles } from './http/staticFiles.ts';
import { loadTlsMaterial } from './http/tls.ts';
import type { Logger } from './logger.ts';
import { WorkerPool } from './media/WorkerPool.ts';
import { iceConfigurationFor } from './media/iceConfiguration.ts';
import { rtcListenAddresses } from './media/rtcListenAddresses.ts';
import { METRICS_PATH, MetricsEndpoint } from './observability/metricsEndpoint.ts';
import { ServerMetrics } from './observability/ServerMetrics.ts';
import { RoomRegistry } from './rooms/RoomRegistry.ts';
import { SignalingServer } from './signaling/SignalingServer.ts';

export const SIGNALING_NAMESPACE = '/signaling';
export const DEFAULT_WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

export interface ConclaveServerOptions {
  config: Config;
  logger: Logger;
  webRoot?: string;
}

export class ConclaveServer {
  readonly config: Config;
  readonly tokens: TokenAuthority;
  readonly pool: WorkerPool;
  readonly rooms: RoomRegistry;
  readonly io: SocketIoServer;
  readonly keys: KeyService;
  readonly metrics: ServerMetrics;
  /** The origin clients use (with the actual port when the configured one was 0). */
  readonly url: string;
  readonly #logger: Logger;
  #closed = false;

  private constructor(parts: {
    config: Config;
    tokens: TokenAuthority;
    pool: WorkerPool;
    rooms: RoomRegistry;
    io: SocketIoServer;
    keys: KeyService;
    metrics: ServerMetrics;
    logger: Logger;
    publicUrl: string;
  }) {
    this.config = parts.config;
    this.tokens = parts.tokens;
    this.pool = parts.pool;
    this.rooms = parts.rooms;
    this.io = parts.io;
    this.keys = parts.keys;
    this.metrics = parts.metrics;
    this.#logger = parts.logger;
    this.url = parts.publicUrl;
  }

  static async start({
    config,
    logger,
    webRoot = DEFAULT_WEB_ROOT,
  }: ConclaveServerOptions): Promise<ConclaveServer> {
    const secret = loadOrCreateTokenSecret(config.dataDir, config.tokenSecret);
    const tokens = new TokenAuthority(secret, {
      inviteSeconds: config.inviteTtlSeconds,
      sessionSeconds: config.sessionTtlSeconds,
    });
    const pool = await WorkerPool.create({
      size: config.workers,
      rtcMinPort: config.rtc.minPort,
      rtcMaxPort: config.rtc.maxPort,
      logger,
    });
    // Logged at start: an operator should see which addresses the media ports are open on.
    const listenIps = rtcListenAddresses(config.rtc);
    const rooms = new RoomRegistry({
      pool,
      logger,
      maxPeersPerRoom: config.maxPeersPerRoom,
      maxRooms: config.limits.maxRooms,
      transportSettings: {
        listenIps,
        iceServers: config.iceServers,
      },
    });

    const staticFiles = new StaticFiles(webRoot);
    if (!staticFiles.available) logger.warn({ webRoot }, 'the web app is not built; run npm run build');
    // Known once the server listens (the configured port may be 0: any free port).
    let publicUrl = config.publicUrl;
    const api = new Api({
      tokens,
      openRooms: config.openRooms,
      publicUrl: () => publicUrl,
      iceFor: (userId) => iceConfigurationFor(config, userId),
    });
    const auditCapture = new AuditCaptureEndpoint({
      auditTokens: new AuditTokenAuthority(secret),
      rooms,
      logger,
    });
    const apiLimiter = new RateLimiter({ capacity: 30, perSecond: 1 });
    const metrics = new ServerMetrics();
    // Assigned once the key service exists; requests arrive only after listen().
    let metricsEndpoint: MetricsEndpoint | undefined;
    const handler: http.RequestListener = (req, res) => {
      setSecurityHeaders(res, config.tls.enabled);
      void route(req, res).catch((error: unknown) => {
        logger.error({ err: (error as Error).message }, 'http handler failed');
        if (!res.headersSent) sendJson(res, 500, { code: 'internal', message: 'internal server error' });
        else res.destroy();
      });
    };
    const route = async (req: http.IncomingMessage, res: http.ServerResponse) => {
      const pathname = new URL(req.url ?? '/', 'http://x').pathname;
      if (pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (pathname === '/readyz') {
        const ready = pool.workers.some((w) => !w.died && !w.closed);
        return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'no media worker' });
      }
      const limited = pathname.startsWith('/api/') || pathname === METRICS_PATH;
      if (limited && !apiLimiter.take(req.socket.remoteAddress ?? 'unknown')) {
        return sendJson(res, 429, {
          code: 'rate-limited',
          message: 'too many requests; try again in a minute',
        });
      }
      if (await auditCapture.handle(req, res, pathname)) return;
      if (pathname === METRICS_PATH && metricsEndpoint !== undefined) return metricsEndpoint.serve(req, res);
      if (await api.handle(req, res, pathname)) return;
      if (staticFiles.serve(req, res, pathname)) return;
      sendJson(res, 404, { code: 'not-found', message: 'not found' });
    };

    const server = config.tls.enabled
      ? https.createServer(
          await loadTlsMaterial({ ...config.tls, dataDir: config.dataDir, host: config.host }),
          handler,
        )
      : http.createServer(handler);
    const connections = new ConnectionLimiter({ maxPerIp: config.limits.maxConnectionsPerIp });
    const io = new SocketIoServer(server, {
      allowRequest: connections.allowRequest((reason) => metrics.connectionsRefused.inc({ reason })),
      serveClient: false,
      // A 200-member post-quantum MLS GroupInfo is about 540 kB; signaling checks its own, smaller cap.
      maxHttpBufferSize: 2 * 1024 * 1024,
      // Same origin only: the app is served from here.
      cors: { origin: false },
      // A participant whose network vanished (no close) is dropped, and leaves everyone's grid, once
      // it misses a pong: within pingInterval + pingTimeout (socket.io's defaults, 25 + 20 s, would
      // leave a frozen tile for most of a minute). Clients use the same bound to notice a server
      // that went away without closing their connection.
      pingInterval: config.pingIntervalMs,
      pingTimeout: config.pingTimeoutMs,
    });
    io.engine.on('connection', (socket: { remoteAddress: string; once(e: 'close', f: () => void): void }) =>
      connections.track(socket),
    );
    const keys = attachKeyService(io, {
      authenticate: (token) => tokens.verifySession(token),
      logger: logger.child({ component: 'key-service' }),
      limits: {
        ratePerSecond: config.limits.keysRate,
        rateBurst: 3 * config.limits.keysRate,
        maxRooms: config.limits.maxRooms,
      },
    });
    if (config.metrics.enabled)
      metricsEndpoint = new MetricsEndpoint({ rooms, pool, keys, metrics }, config.metrics.token);
    new SignalingServer({
      namespace: io.of(SIGNALING_NAMESPACE),
      tokens,
      rooms,
      logger,
      peerLimits: { maxProducers: 3, maxConsumers: 3 * config.maxPeersPerRoom },
      rateLimit: { perSecond: config.limits.signalingRate, burst: 4 * config.limits.signalingRate },
      metrics,
      // The server saw a participant go: the key service has the MLS group remove them.
      onPeerGone: (room, userId) => keys.peerGone(room, userId),
    });

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    if (config.port === 0) {
      publicUrl = config.publicUrl.replace(/:0$/, `:${(server.address() as AddressInfo).port}`);
    }
    const instance = new ConclaveServer({
      config,
      tokens,
      pool,
      rooms,
      io,
      keys,
      metrics,
      logger,
      publicUrl,
    });
    logger.info(
      {
        url: instance.url,
        workers: config.workers,
        openRooms: config.openRooms,
        mediaAddresses: listenIps.map((l) => l.ip),
      },
      'conclave listening',
    );
    return instance;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.rooms.closeAll();
    await this.keys.close();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
    this.pool.close();
    this.#logger.info('conclave stopped');
  }
}
