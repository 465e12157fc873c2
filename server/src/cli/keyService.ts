// `npm run key-service`: the key service alone, on its own port (CONCLAVE_KEY_SERVICE_PORT, default:
// the main port + 1), with the same configuration, session tokens, redacting logger and connection
// limits as the main server. The key service itself is a library (@conclave/key-service/server);
// this file is only the process around it, so the library never imports the server back.
//
// What it cannot do, and does instead: in-process, a /keys socket is admitted only for a live
// signaling peer of the same room and user (SignalingServer.waitForPeer). This process does not see
// signaling, so the session token alone admits a socket: it still must be valid, for this room and
// user, at most CONCLAVE_MAX_KEY_SOCKETS_PER_SESSION at once, and it is closed at the token's
// expiry unless renewed; a user whose sockets are all gone for 10 s is treated as having left.
// Commits and application messages still reach members only. Origin, per-address caps and the
// message size cap apply as in the main server.
//
// Must hold: a bad configuration or a port in use ends the process with one sentence and exit code
// 2, never a stack trace; every log line goes through the redacting logger (logger.ts).
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { attachKeyService, DEFAULT_LIMITS } from '@conclave/key-service/server';
import { loadOrCreateTokenSecret } from '../auth/secret.ts';
import { TokenAuthority } from '../auth/tokens.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { ConnectionLimiter } from '../http/ConnectionLimiter.ts';
import { addressGroup, ProxyTrust } from '../http/clientAddress.ts';
import { originAllowed } from '../http/originPolicy.ts';
import { createLogger } from '../logger.ts';

/** Without signaling in this process, a user gone from the key service for this long is gone. */
const STANDALONE_GONE_AFTER_MS = 10_000;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return fail(error.message);
  }
}

const config = configOrExit();
const port = config.keyServicePort;
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  fail('CONCLAVE_KEY_SERVICE_PORT: must be a port number from 1 to 65535');
}
const logger = createLogger(config.logLevel).child({ component: 'key-service' });
const tokens = new TokenAuthority(loadOrCreateTokenSecret(config.dataDir, config.tokenSecret), {
  inviteSeconds: config.inviteTtlSeconds,
  sessionSeconds: config.sessionTtlSeconds,
});

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
  removeOnDisconnectMs: STANDALONE_GONE_AFTER_MS,
});

io.engine.on('connection', (socket: { remoteAddress: string; once(e: 'close', f: () => void): void }) =>
  connections.track(socket),
);

http.once('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EADDRINUSE') {
    fail(`CONCLAVE_KEY_SERVICE_PORT: port ${port} on ${config.host} is in use; choose another port`);
  }
  if (error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL') {
    fail(`CONCLAVE_KEY_SERVICE_PORT: cannot listen on ${config.host}:${port} (${error.code})`);
  }
  throw error;
});
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
