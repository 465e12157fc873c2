// Standalone key service (`npm run key-service`): the same configuration and session tokens as the
// main server, on its own port (CONCLAVE_KEY_SERVICE_PORT, default: the main port + 1).
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { loadOrCreateTokenSecret } from '@conclave/server/auth/secret';
import { loadConfig } from '@conclave/server/config';
import { ConnectionLimiter } from '@conclave/server/http/ConnectionLimiter';
import { TokenAuthority } from '@conclave/server/tokens';
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
const connections = new ConnectionLimiter({ maxPerIp: config.limits.maxConnectionsPerIp });
const io = new Server(http, {
  allowRequest: connections.allowRequest(),
  maxHttpBufferSize: 2 * 1024 * 1024,
  cors: { origin: config.publicUrl },
  serveClient: false,
});
const keys = attachKeyService(io, {
  authenticate: (token) => tokens.verifySession(token),
  logger,
  limits: {
    ratePerSecond: config.limits.keysRate,
    rateBurst: 3 * config.limits.keysRate,
    maxRooms: config.limits.maxRooms,
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
