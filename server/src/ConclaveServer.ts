// Composition root: config → token authority, mediasoup workers, rooms, signaling and the HTTP(S)
// server that serves the app, its API and socket.io.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  attachKeyService,
  DEFAULT_LIMITS,
  type KeyService,
  type KeyServiceLimits,
} from '@conclave/key-service/server';
import { Server as SocketIoServer } from 'socket.io';
import { AuditTokenAuthority } from './auth/auditTokens.ts';
import { InviteStore } from './auth/InviteStore.ts';
import { RoomInvites } from './auth/RoomInvites.ts';
import { loadOrCreateTokenSecret } from './auth/secret.ts';
import { TokenAuthority } from './auth/tokens.ts';
import type { Config } from './config.ts';
import { Api, sendJson } from './http/api.ts';
import { AuditCaptureEndpoint } from './http/auditCapture.ts';
import { addressGroup, ProxyTrust } from './http/clientAddress.ts';
import { ConnectionLimiter } from './http/ConnectionLimiter.ts';
import { InboundGate, type EngineConnection } from './http/InboundGate.ts';
import { originAllowed } from './http/originPolicy.ts';
import { RateLimiter } from '@conclave/common/rate-limit';
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
import { MAX_REQUEST_BYTES } from './signaling/protocol.ts';
import { SignalingServer } from './signaling/SignalingServer.ts';
import { TransportBudget } from './media/TransportBudget.ts';
import type { ClusterConfig } from './cluster/clusterConfig.ts';
import { ClusterNode } from './cluster/ClusterNode.ts';
import { KeyServiceGate } from './cluster/KeyServiceGate.ts';
import { RoomDoor } from './cluster/RoomDoor.ts';
import { registerClusterMetrics } from './observability/clusterMetrics.ts';

export const SIGNALING_NAMESPACE = '/signaling';
export const DEFAULT_WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

export interface ConclaveServerOptions {
  config: Config;
  logger: Logger;
  webRoot?: string;
  /** Cluster mode (CONCLAVE_REDIS_URL); undefined: this server runs alone and never touches Redis. */
  cluster?: ClusterConfig;
}

export class ConclaveServer {
  readonly config: Config;
  readonly tokens: TokenAuthority;
  /**
   * New meetings, invite → session rules, revocation, and `rotateGuestInvite(room)` ("Reset invite
   * link"), which the caller must have checked a host of the room asked for.
   */
  readonly invites: RoomInvites;
  readonly pool: WorkerPool;
  readonly rooms: RoomRegistry;
  readonly io: SocketIoServer;
  readonly keys: KeyService;
  readonly metrics: ServerMetrics;
  /** The origin clients use (with the actual port when the configured one was 0). */
  readonly url: string;
  readonly #logger: Logger;
  #closed = false;
  #cluster: ClusterNode | undefined;

  private constructor(parts: {
    config: Config;
    tokens: TokenAuthority;
    invites: RoomInvites;
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
    this.invites = parts.invites;
    this.pool = parts.pool;
    this.rooms = parts.rooms;
    this.io = parts.io;
    this.keys = parts.keys;
    this.metrics = parts.metrics;
    this.#logger = parts.logger;
    this.url = parts.publicUrl;
  }

  /** This node's cluster membership, or undefined when it runs alone. */
  get cluster(): ClusterNode | undefined {
    return this.#cluster;
  }

  static async start({
    config,
    logger,
    webRoot = DEFAULT_WEB_ROOT,
    cluster,
  }: ConclaveServerOptions): Promise<ConclaveServer> {
    const secret = loadOrCreateTokenSecret(config.dataDir, config.tokenSecret);
    const tokens = new TokenAuthority(secret, {
      inviteSeconds: config.inviteTtlSeconds,
      sessionSeconds: config.sessionTtlSeconds,
    });
    // Before anything starts: a damaged store stops the server here, with a message naming the file.
    const inviteStore = InviteStore.open(config.dataDir);
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
      maxPeersPerUser: config.limits.maxPeersPerUser,
      maxRooms: config.limits.maxRooms,
      transportSettings: {
        listenIps,
        iceServers: config.iceServers,
        budget: new TransportBudget(config.limits.maxTransports),
        plainTransports: config.limits.loadPlainTransports,
      },
    });

    const staticFiles = new StaticFiles(webRoot);
    if (!staticFiles.available) logger.warn({ webRoot }, 'the web app is not built; run npm run build');
    // Known once the server listens (the configured port may be 0: any free port).
    let publicUrl = config.publicUrl;
    const invites = new RoomInvites({ tokens, store: inviteStore, publicUrl: () => publicUrl });
    const api = new Api({
      tokens,
      invites,
      openRooms: config.openRooms,
      iceFor: (userId) => iceConfigurationFor(config, userId),
    });
    const auditCapture = new AuditCaptureEndpoint({
      auditTokens: new AuditTokenAuthority(secret),
      rooms,
      logger,
    });
    const apiLimiter = new RateLimiter({
      capacity: config.limits.apiBurst,
      perSecond: config.limits.apiRate,
    });
    // Behind trusted reverse proxies, the client is whom X-Forwarded-For names; otherwise the TCP peer.
    const proxies = new ProxyTrust(config.limits.trustedProxies);
    const clientOf = (req: http.IncomingMessage) =>
      proxies.clientAddress(req.socket.remoteAddress ?? 'unknown', req.headers['x-forwarded-for']);
    const metrics = new ServerMetrics();
    // Read at scrape time; the node joins the cluster once the server listens (its URL is known then).
    let clusterNode: ClusterNode | undefined;
    // Cluster mode: sessions are admitted only on a room's owner (placing it on its first join), and
    // the key service fences its commits through Redis (docs/cluster.md). Alone, neither exists.
    let keyService: KeyService | undefined = undefined;
    const door =
      cluster === undefined
        ? undefined
        : new RoomDoor(
            () => clusterNode,
            (room) => rooms.rooms.has(room) || keyService?.snapshot(room) !== undefined,
          );
    if (door !== undefined) {
      registerClusterMetrics(
        metrics.registry,
        () => clusterNode?.reading(),
        () => door.counts,
      );
    }
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
      if (limited && !apiLimiter.take(addressGroup(clientOf(req)))) {
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
    const connections = new ConnectionLimiter({ maxPerIp: config.limits.maxConnectionsPerIp, clientOf });
    const allowConnection = connections.allowRequest((reason) => metrics.connectionsRefused.inc({ reason }));
    const keyLimits: KeyServiceLimits = {
      ...DEFAULT_LIMITS,
      ratePerSecond: config.limits.keysRate,
      rateBurst: 3 * config.limits.keysRate,
      maxRooms: config.limits.maxRooms,
      maxSocketsPerSession: config.limits.maxKeySocketsPerSession,
    };
    // One message is at most the largest MLS message the key service takes (a GroupInfo), or a
    // signaling request: socket.io drops the connection of a client sending more.
    const maxMessageBytes =
      Math.max(keyLimits.maxGroupInfoBytes, keyLimits.maxHandshakeBytes, 4 * MAX_REQUEST_BYTES) + 1024;
    const inbound = new InboundGate({
      bytesPerSecond: config.limits.inboundBytesPerSecond,
      burstBytes: Math.max(2 * maxMessageBytes, config.limits.inboundBytesPerSecond),
      // Four times signaling's own cap: a request somewhat too large still gets signaling's clear
      // 'request too large' answer; only one far beyond any request closes the connection.
      maxTextBytes: 4 * MAX_REQUEST_BYTES,
      // Reconnecting to go on flooding is refused for a while.
      onRefused: (reason, conn) => {
        metrics.connectionsRefused.inc({ reason });
        connections.penalize(conn);
      },
    });
    const io = new SocketIoServer(server, {
      // Browsers send Origin with every WebSocket handshake: a page of another site may not open
      // sockets here with a visitor's session. Clients without Origin (CLI, tests) still need a token.
      allowRequest: (req, callback) => {
        if (originAllowed(req.headers.origin, new URL(publicUrl).origin))
          return allowConnection(req, callback);
        metrics.connectionsRefused.inc({ reason: 'foreign-origin' });
        callback('foreign-origin', false);
      },
      serveClient: false,
      // Every client (browser, KeyClient, tests) speaks WebSocket; long-polling would be one more
      // way in, and one the inbound gate cannot slow down.
      transports: ['websocket'],
      maxHttpBufferSize: maxMessageBytes,
      // Same origin only: the app is served from here.
      cors: { origin: false },
      // A participant whose network vanished (no close) is dropped, and leaves everyone's grid, once
      // it misses a pong: within pingInterval + pingTimeout (socket.io's defaults, 25 + 20 s, would
      // leave a frozen tile for most of a minute). Clients use the same bound to notice a server
      // that went away without closing their connection.
      pingInterval: config.pingIntervalMs,
      pingTimeout: config.pingTimeoutMs,
    });
    io.engine.on('connection', (socket: Parameters<ConnectionLimiter['track']>[0] & EngineConnection) => {
      connections.track(socket);
      inbound.watch(socket);
    });
    // The default namespace serves nothing: a socket there would be an unauthenticated foothold.
    io.of('/').use((_socket, next) => {
      next(
        Object.assign(new Error('no such namespace'), {
          data: { code: 'not-found', message: 'no such namespace' },
        }),
      );
    });
    // The key service admits a socket only for a live signaling peer of the same room and user.
    let signaling: SignalingServer | undefined = undefined;
    const keys = attachKeyService(io, {
      authenticate: (token) => invites.verifySession(token),
      logger: logger.child({ component: 'key-service' }),
      limits: keyLimits,
      hasLivePeer: (room, userId) => signaling?.waitForPeer(room, userId) ?? Promise.resolve(false),
      hasPeerNow: (room, userId) => signaling?.hasPeer(room, userId) ?? false,
      onRemovedByHost: (room, userIds) => {
        for (const id of userIds) signaling?.dropUser(room, id);
      },
      cluster: door === undefined ? undefined : new KeyServiceGate(() => clusterNode, door),
    });
    keyService = keys;
    if (config.metrics.enabled)
      metricsEndpoint = new MetricsEndpoint({ rooms, pool, keys, metrics }, config.metrics.token);
    signaling = new SignalingServer({
      namespace: io.of(SIGNALING_NAMESPACE),
      tokens: invites,
      rooms,
      logger,
      peerLimits: { maxProducers: 3, maxConsumers: 3 * config.maxPeersPerRoom },
      rateLimit: { perSecond: config.limits.signalingRate, burst: 4 * config.limits.signalingRate },
      metrics,
      // The server saw a participant go: the key service has the MLS group remove them.
      onPeerGone: (room, userId) => keys.peerGone(room, userId),
      onPeerEntered: (room, userId) => keys.peerEntered(room, userId),
      entryRefusal: (room, userId) => keys.entryRefusal(room, userId),
      isHost: (room, userId) => keys.isHost(room, userId),
      resetInvite: (room) => invites.rotateGuestInvite(room),
      clusterRefusal: door === undefined ? undefined : (room) => door.refusal(room),
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
      invites,
      pool,
      rooms,
      io,
      keys,
      metrics,
      logger,
      publicUrl,
    });
    if (cluster !== undefined) {
      const nodeUrl = cluster.nodeUrl === config.publicUrl ? publicUrl : cluster.nodeUrl;
      const load = () => {
        let peers = 0;
        for (const room of rooms.rooms.values()) peers += room.peers.size;
        return { peers, rooms: rooms.rooms.size };
      };
      try {
        clusterNode = await ClusterNode.start({ ...cluster, nodeUrl }, load);
      } catch (error) {
        await instance.close();
        throw error;
      }
      instance.#cluster = clusterNode;
      logger.info({ node: cluster.nodeName, nodeUrl }, 'joined the cluster');
    }
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

  /**
   * Cluster mode: marks this node draining, so the cluster places no new rooms here while its
   * meetings go on. Alone: nothing to do. Never throws (a node that cannot reach Redis stops being
   * placed once its registry entry expires).
   */
  async drain(): Promise<void> {
    await this.#cluster?.drain().catch((error: unknown) => {
      this.#logger.warn({ err: (error as Error).message }, 'could not mark this node draining');
    });
  }

  /**
   * Cluster mode: drains, then resolves once this node's last meeting has ended (or it closed), so
   * an operator's SIGTERM moves no meeting. Alone there is nowhere else to go: resolves at once.
   */
  async drainUntilEmpty(pollMs = 1000): Promise<void> {
    if (this.#cluster === undefined) return;
    await this.drain();
    while (!this.#closed && this.rooms.rooms.size > 0) {
      this.#logger.info({ rooms: this.rooms.rooms.size }, 'draining: waiting for meetings to end');
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#cluster?.close();
    this.rooms.closeAll();
    await this.keys.close();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
    this.pool.close();
    this.#logger.info('conclave stopped');
  }
}
