// The server's side of `npm run audit -- capture`: what only the server's environment can give the
// auditor's capture command (@conclave/audit/cli). It reads the server's configuration (CONCLAVE_*),
// signs a short-lived audit token for the room with the server's token secret, and says where the
// server listens and which certificate to trust when it made its own.
//
// What must hold: the token is minted here and handed to the capture command only; it is never
// printed. A configuration that does not load is a UsageError (one line, exit status 2).
import fs from 'node:fs';
import path from 'node:path';
import { UsageError, type CaptureAccess, type CaptureGrant } from '@conclave/audit/cli';
import { AuditTokenAuthority } from '../auth/auditTokens.ts';
import { loadOrCreateTokenSecret } from '../auth/secret.ts';
import { ROOM_ID_PATTERN } from '../auth/tokens.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';

function loadServerConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new UsageError('bad-server-config', error.message.replace(/\n\s*/g, ' '));
    }
    throw error;
  }
}

/** The server as seen from its own host: a wildcard listen address is reached on loopback. */
function localOrigin(config: Config): string {
  const host =
    config.host === '0.0.0.0'
      ? '127.0.0.1'
      : config.host === '::'
        ? '[::1]'
        : config.host.includes(':')
          ? `[${config.host}]`
          : config.host;
  return `${config.tls.enabled ? 'https' : 'http'}://${host}:${config.port}`;
}

/** The certificate to trust for a self-signed server (the one it generated in its data directory). */
function selfSignedCa(config: Config): string | undefined {
  if (config.tls.certFile !== undefined) return undefined;
  const file = path.join(config.dataDir, 'self-signed.crt');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

/** Grants captures from the server's own environment (process.env), as `npm run invite` does. */
export const serverCaptureAccess: CaptureAccess = {
  roomIdPattern: ROOM_ID_PATTERN,
  async grant(room: string, server: string | undefined): Promise<CaptureGrant> {
    const config = loadServerConfig();
    const origin = server ?? localOrigin(config);
    const secret = loadOrCreateTokenSecret(config.dataDir, config.tokenSecret);
    const token = await new AuditTokenAuthority(secret).mint(room);
    return { origin, token, ca: config.tls.enabled ? selfSignedCa(config) : undefined };
  },
};
