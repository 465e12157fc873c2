// Standalone key service (`npm run key-service`): the same configuration and session tokens as the
// main server, on its own port (CONCLAVE_KEY_SERVICE_PORT, default: the main port + 1).
//
// What it cannot do, and does instead: in-process, a /keys socket is admitted only for a live
// signaling peer of the same room and user (SignalingServer.waitForPeer). This process does not see
// signaling, so the session token alone admits a socket: it still must be valid, for this room and
// user, at most CONCLAVE_MAX_KEY_SOCKETS_PER_SESSION at once, and it is closed at the token's
// expiry unless renewed; a user whose sockets are all gone for 10 s is treated as having left.
// Commits and application messages still reach members only. Origin, per-address caps and the
// message size cap apply as in the main server.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { loadOrCreateTokenSecret } from '@conclave/server/auth/secret';
import { loadConfig } from '@conclave/server/config';
import { addressGroup, ProxyTrust } from '@conclave/server/http/clientAddress';
import { ConnectionLimiter } from '@conclave/server/http/ConnectionLimiter';
import { originAllowed } from '@conclave/server/http/originPolicy';
import { TokenAuthority } from '@conclave/server/tokens';
import { DEFAULT_LIMITS } from '../protocol.ts';
import { attachKeyService } from './key-service.ts';
import type { Logger } from './logger.ts';

const config = loadConfig();
const port = config.keyServicePort;
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('CONCLAVE_KEY_SERVICE_PORT: must be a port number');
  process.exit(1);
}
const tokens = new TokenAuthority(loadOrCreateTokenSecret(config.dataDir, config.tokenSecret), {
  inviteSeconds: config.inviteTtlSeconds,
  sessionSeconds: config.sessionTtlSeconds,
});

const levels = ['debug', 'info', 'warn', 'error'] as const;
const minLevel = Math.max(0, levels.indexOf(config.logLevel as (typeof levels)[number]));
const line =
  (level: (typeof levels)[number]) =>
  (obj: object, msg: string): void => {
    if (config.logLevel === 'silent' || levels.indexOf(level) < minLevel) return;
    process.stderr.write(`${JSON.stringify({ level, time: Date.now(), msg, ...obj })}\n`);
  };
const logger: Logger = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };

const http = createServer((_req, res) => {
  res.writeHead(404).end();
});
// The same per-IP connection limits as the main server.
const proxies = new ProxyTrust(config.limits.trustedProxies);
const connections = new ConnectionLimiter({
  maxPerIp: config.limits.maxConnectionsPerIp,
  clientOf: (req) =>
    addressGroup(
      proxies.clientAddress(req.socket.remoteAddress ?? 'unknown', req.headers['x-forwarded-for']),
    ),
});
const allowConnection = connections.allowRequest();
const ownOrigin = new URL(config.publicUrl).origin;
const io = new Server(http, {
  allowRequest: (req, callback) => {
    if (originAllowed(req.headers.origin, ownOrigin)) return allowConnection(req, callback);
    callback('foreign-origin', false);
  },
  transports: ['websocket'],
  maxHttpBufferSize: Math.max(DEFAULT_LIMITS.maxGroupInfoBytes, DEFAULT_LIMITS.maxHandshakeBytes) + 1024,
  cors: { origin: config.publicUrl },
  serveClient: false,
});
// The default namespace serves nothing.
io.of('/').use((_socket, next) => next(new Error('no such namespace')));
const keys = attachKeyService(io, {
  authenticate: (token) => tokens.verifySession(token),
  logger,
  limits: {
    ratePerSecond: config.limits.keysRate,
    rateBurst: 3 * config.limits.keysRate,
    maxRooms: config.limits.maxRooms,
    maxSocketsPerSession: config.limits.maxKeySocketsPerSession,
  },
  // Without signaling in this process, a user gone from the key service for this long is gone.
  removeOnDisconnectMs: 10_000,
});

io.engine.on('connection', (socket: { remoteAddress: string; once(e: 'close', f: () => void): void }) =>
  connections.track(socket),
);

http.listen(port, config.host, () => {
  logger.info({ host: config.host, port }, 'key service listening');
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void keys.close().then(() => {
      io.close();
      process.exit(0);
    });
  });
}
