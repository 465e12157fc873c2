// Server configuration: environment variables with safe defaults, validated once at start.
// A bad value stops the server with a message naming the variable, never a half-configured start.
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { TurnSettings } from './auth/turnCredentials.ts';

const port = z.coerce.number().int().min(1).max(65535);
/** The HTTP port may be 0: any free port (tests use that). */
const listenPort = z.coerce.number().int().min(0).max(65535);
const ipAddress = z.union([z.ipv4(), z.ipv6()]);
/** An address or a CIDR block (IPv4 or IPv6), as `CONCLAVE_TRUSTED_PROXIES` lists them. */
const addressOrBlock = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const iceServer = z
  .object({
    urls: z.union([
      z.string().regex(/^(stun|stuns|turn|turns):/),
      z.array(z.string().regex(/^(stun|stuns|turn|turns):/)).min(1),
    ]),
    username: z.string().optional(),
    credential: z.string().optional(),
  })
  .strict();

const turnUrl = z.string().regex(/^turns?:[^\s,]+$/, 'must be a turn: or turns: URL');
const turnUrls = z
  .string()
  .transform((raw) =>
    raw
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== ''),
  )
  .pipe(z.array(turnUrl).min(1, 'must list at least one turn: or turns: URL'));

const envSchema = z
  .object({
    CONCLAVE_HOST: ipAddress.default('127.0.0.1'),
    CONCLAVE_PORT: listenPort.default(3000),
    CONCLAVE_PUBLIC_URL: z.url().optional(),
    CONCLAVE_KEY_SERVICE_PORT: port.optional(),
    CONCLAVE_RTC_LISTEN_IP: ipAddress.optional(),
    CONCLAVE_ANNOUNCED_IP: z.string().min(1).optional(),
    CONCLAVE_RTC_MIN_PORT: port.default(40000),
    CONCLAVE_RTC_MAX_PORT: port.default(49999),
    CONCLAVE_ICE_SERVERS: z
      .string()
      .transform((raw, ctx) => {
        try {
          return JSON.parse(raw) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be a JSON array of RTCIceServer objects' });
          return z.NEVER;
        }
      })
      .pipe(z.array(iceServer))
      .default([]),
    CONCLAVE_TURN_URLS: turnUrls.optional(),
    // Never echoed back: the schema's messages name the rule, not the value.
    CONCLAVE_TURN_SECRET: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
    CONCLAVE_TURN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 86400)
      .default(86400),
    CONCLAVE_ICE_TRANSPORT_POLICY: z.enum(['all', 'relay']).default('all'),
    CONCLAVE_WORKERS: z.coerce.number().int().min(1).max(256).default(os.availableParallelism()),
    CONCLAVE_OPEN_ROOMS: bool.default(true),
    CONCLAVE_DATA_DIR: z.string().min(1).default(path.resolve('.data')),
    CONCLAVE_TOKEN_SECRET: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43,}$/, 'must be at least 32 bytes, base64url-encoded')
      .optional(),
    CONCLAVE_TLS: z.enum(['auto', 'on', 'off']).default('auto'),
    CONCLAVE_TLS_CERT: z.string().min(1).optional(),
    CONCLAVE_TLS_KEY: z.string().min(1).optional(),
    CONCLAVE_INVITE_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(30 * 86400)
      .default(86400),
    CONCLAVE_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(86400).default(900),
    CONCLAVE_MAX_PEERS_PER_ROOM: z.coerce.number().int().min(2).max(1000).default(100),
    CONCLAVE_PING_INTERVAL_MS: z.coerce.number().int().min(100).max(300_000).default(4_000),
    CONCLAVE_PING_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(4_000),
    CONCLAVE_MAX_ROOMS: z.coerce.number().int().min(1).max(100_000).default(1000),
    CONCLAVE_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(0).max(100_000).default(256),
    CONCLAVE_MAX_PEERS_PER_USER: z.coerce.number().int().min(1).max(100).default(4),
    CONCLAVE_MAX_KEY_SOCKETS_PER_SESSION: z.coerce.number().int().min(1).max(100).default(4),
    CONCLAVE_MAX_TRANSPORTS: z.coerce.number().int().min(2).max(1_000_000).default(4000),
    CONCLAVE_INBOUND_BYTES_PER_SECOND: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .max(1024 * 1024 * 1024)
      .default(1024 * 1024),
    CONCLAVE_API_RATE: z.coerce.number().min(0.01).max(100_000).default(1),
    CONCLAVE_API_BURST: z.coerce.number().int().min(1).max(100_000).default(30),
    CONCLAVE_TRUSTED_PROXIES: z
      .string()
      .transform((raw) =>
        raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      )
      .pipe(z.array(addressOrBlock).max(256))
      .default([]),
    CONCLAVE_SIGNALING_RATE: z.coerce.number().min(1).max(100_000).default(50),
    CONCLAVE_KEYS_RATE: z.coerce.number().min(1).max(100_000).default(20),
    CONCLAVE_METRICS: bool.default(true),
    CONCLAVE_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
    /** Load tests only: SRTP PlainTransports on loopback (server/src/media/plainTransport.ts). */
    CONCLAVE_LOAD_PLAIN_TRANSPORTS: z.enum(['0', '1']).default('0'),
    CONCLAVE_LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
  })
  .refine((env) => env.CONCLAVE_RTC_MIN_PORT < env.CONCLAVE_RTC_MAX_PORT, {
    message: 'CONCLAVE_RTC_MIN_PORT must be below CONCLAVE_RTC_MAX_PORT',
    path: ['CONCLAVE_RTC_MIN_PORT'],
  })
  .refine((env) => (env.CONCLAVE_TLS_CERT === undefined) === (env.CONCLAVE_TLS_KEY === undefined), {
    message: 'CONCLAVE_TLS_CERT and CONCLAVE_TLS_KEY go together',
    path: ['CONCLAVE_TLS_CERT'],
  })
  .refine((env) => (env.CONCLAVE_TURN_URLS === undefined) === (env.CONCLAVE_TURN_SECRET === undefined), {
    message: 'CONCLAVE_TURN_URLS and CONCLAVE_TURN_SECRET go together',
    path: ['CONCLAVE_TURN_URLS'],
  })
  .refine(
    (env) =>
      env.CONCLAVE_ICE_TRANSPORT_POLICY === 'all' ||
      env.CONCLAVE_TURN_URLS !== undefined ||
      env.CONCLAVE_ICE_SERVERS.some((s) => [s.urls].flat().some((u) => /^turns?:/.test(u))),
    {
      message: 'relay needs a TURN server: set CONCLAVE_TURN_URLS (or a turn: URL in CONCLAVE_ICE_SERVERS)',
      path: ['CONCLAVE_ICE_TRANSPORT_POLICY'],
    },
  );

export interface Config {
  host: string;
  port: number;
  /** Port of the standalone key service (`npm run key-service`); in-process it shares `port`. */
  keyServicePort: number;
  /** The origin invite links point at, e.g. http://localhost:3000 */
  publicUrl: string;
  rtc: {
    listenIp: string;
    announcedIp: string | undefined;
    minPort: number;
    maxPort: number;
    /**
     * Also offer media on the machine's non-loopback addresses (rtcListenAddresses.ts): set when
     * the listen address is loopback only because nothing was configured. Firefox gathers no
     * loopback ICE candidates, so a local `npm start` must offer more than 127.0.0.1.
     */
    offerMachineAddresses: boolean;
  };
  /** Static ICE servers (CONCLAVE_ICE_SERVERS), handed to every client as they are. */
  iceServers: RTCIceServer[];
  /** coturn's REST-API shared secret: each session gets its own time-limited credential. */
  turn: TurnSettings | undefined;
  /** 'relay': browsers use only relayed candidates, so no participant's address reaches the others or the SFU. */
  iceTransportPolicy: RTCIceTransportPolicy;
  workers: number;
  openRooms: boolean;
  dataDir: string;
  /** base64url token secret when given by the environment; otherwise one is generated and stored. */
  tokenSecret: string | undefined;
  tls: { enabled: boolean; certFile: string | undefined; keyFile: string | undefined };
  inviteTtlSeconds: number;
  sessionTtlSeconds: number;
  maxPeersPerRoom: number;
  /**
   * socket.io heartbeat: a client whose network vanished without a goodbye is noticed within
   * pingIntervalMs + pingTimeoutMs, and its peer, media and MLS membership are removed then.
   */
  pingIntervalMs: number;
  pingTimeoutMs: number;
  limits: {
    /** Rooms open at once on this server (signaling and key service each). */
    maxRooms: number;
    /** Open socket.io connections per client IP address; 0: no limit (behind a proxy, say). */
    maxConnectionsPerIp: number;
    /** Signaling peers one user id may have in one room at once (tabs, devices of a named invite). */
    maxPeersPerUser: number;
    /** Key-service sockets one session (room and user id) may hold at once. */
    maxKeySocketsPerSession: number;
    /** WebRTC transports open on this server at once (each holds media ports). */
    maxTransports: number;
    /** Load tests only (CONCLAVE_LOAD_PLAIN_TRANSPORTS=1): SRTP PlainTransports on loopback. */
    loadPlainTransports: boolean;
    /** Bytes per second one socket.io connection may send us, sustained; faster ones are slowed
     *  (their TCP reads pause), so nobody's flood costs other users more than this. */
    inboundBytesPerSecond: number;
    /** HTTP API (/api/*, /metrics) requests per client address: per second sustained, and burst. */
    apiRate: number;
    apiBurst: number;
    /**
     * Addresses (or CIDR blocks) of reverse proxies whose `X-Forwarded-For` is believed. Empty (the
     * default): the peer address of the TCP connection is the client, and the header is ignored.
     */
    trustedProxies: string[];
    /** Sustained requests per second per signaling socket; bursts of 4× that. */
    signalingRate: number;
    /** Sustained requests per second per key-service socket; bursts of 3× that. */
    keysRate: number;
  };
  /** GET /metrics (Prometheus); with a token, only for `Authorization: Bearer <token>`. */
  metrics: { enabled: boolean; token: string | undefined };
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1']);

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const relevant = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k.startsWith('CONCLAVE_') && v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const loopback = LOOPBACK.has(e.CONCLAVE_HOST);
  // Browsers grant camera access and WebRTC insertable streams only in secure contexts:
  // http://localhost counts as one, any other host needs HTTPS.
  const tlsEnabled =
    e.CONCLAVE_TLS === 'on' ||
    (e.CONCLAVE_TLS === 'auto' && (!loopback || e.CONCLAVE_TLS_CERT !== undefined));
  const scheme = tlsEnabled ? 'https' : 'http';
  const displayHost = loopback
    ? 'localhost'
    : e.CONCLAVE_HOST.includes(':')
      ? `[${e.CONCLAVE_HOST}]`
      : e.CONCLAVE_HOST;
  const rtcListenIp =
    e.CONCLAVE_RTC_LISTEN_IP ??
    (e.CONCLAVE_HOST === '0.0.0.0' || e.CONCLAVE_HOST === '::' ? '0.0.0.0' : e.CONCLAVE_HOST);
  return {
    host: e.CONCLAVE_HOST,
    port: e.CONCLAVE_PORT,
    keyServicePort: e.CONCLAVE_KEY_SERVICE_PORT ?? (e.CONCLAVE_PORT === 0 ? 0 : e.CONCLAVE_PORT + 1),
    publicUrl: (e.CONCLAVE_PUBLIC_URL ?? `${scheme}://${displayHost}:${e.CONCLAVE_PORT}`).replace(/\/$/, ''),
    rtc: {
      listenIp: rtcListenIp,
      announcedIp: e.CONCLAVE_ANNOUNCED_IP,
      minPort: e.CONCLAVE_RTC_MIN_PORT,
      maxPort: e.CONCLAVE_RTC_MAX_PORT,
      offerMachineAddresses:
        e.CONCLAVE_RTC_LISTEN_IP === undefined && e.CONCLAVE_ANNOUNCED_IP === undefined && loopback,
    },
    iceServers: e.CONCLAVE_ICE_SERVERS as RTCIceServer[],
    turn:
      e.CONCLAVE_TURN_URLS === undefined || e.CONCLAVE_TURN_SECRET === undefined
        ? undefined
        : {
            urls: e.CONCLAVE_TURN_URLS,
            secret: e.CONCLAVE_TURN_SECRET,
            ttlSeconds: e.CONCLAVE_TURN_TTL_SECONDS,
          },
    iceTransportPolicy: e.CONCLAVE_ICE_TRANSPORT_POLICY,
    workers: e.CONCLAVE_WORKERS,
    openRooms: e.CONCLAVE_OPEN_ROOMS,
    dataDir: path.resolve(e.CONCLAVE_DATA_DIR),
    tokenSecret: e.CONCLAVE_TOKEN_SECRET,
    tls: { enabled: tlsEnabled, certFile: e.CONCLAVE_TLS_CERT, keyFile: e.CONCLAVE_TLS_KEY },
    inviteTtlSeconds: e.CONCLAVE_INVITE_TTL_SECONDS,
    sessionTtlSeconds: e.CONCLAVE_SESSION_TTL_SECONDS,
    maxPeersPerRoom: e.CONCLAVE_MAX_PEERS_PER_ROOM,
    pingIntervalMs: e.CONCLAVE_PING_INTERVAL_MS,
    pingTimeoutMs: e.CONCLAVE_PING_TIMEOUT_MS,
    limits: {
      maxRooms: e.CONCLAVE_MAX_ROOMS,
      maxConnectionsPerIp: e.CONCLAVE_MAX_CONNECTIONS_PER_IP,
      maxPeersPerUser: e.CONCLAVE_MAX_PEERS_PER_USER,
      maxKeySocketsPerSession: e.CONCLAVE_MAX_KEY_SOCKETS_PER_SESSION,
      maxTransports: e.CONCLAVE_MAX_TRANSPORTS,
      loadPlainTransports: e.CONCLAVE_LOAD_PLAIN_TRANSPORTS === '1',
      inboundBytesPerSecond: e.CONCLAVE_INBOUND_BYTES_PER_SECOND,
      apiRate: e.CONCLAVE_API_RATE,
      apiBurst: e.CONCLAVE_API_BURST,
      trustedProxies: e.CONCLAVE_TRUSTED_PROXIES,
      signalingRate: e.CONCLAVE_SIGNALING_RATE,
      keysRate: e.CONCLAVE_KEYS_RATE,
    },
    metrics: { enabled: e.CONCLAVE_METRICS, token: e.CONCLAVE_METRICS_TOKEN },
    logLevel: e.CONCLAVE_LOG_LEVEL,
  };
}
