// Environment configuration (server/src/config.ts): defaults, validation naming each variable, TLS and URLs.
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../server/src/config.ts';

const SECRET = 'A'.repeat(43);

/** The problems a bad environment is refused with. */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has safe defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 3000,
      keyServicePort: 3001,
      publicUrl: 'http://localhost:3000',
      rtc: {
        listenIp: '127.0.0.1',
        announcedIp: undefined,
        minPort: 40000,
        maxPort: 49999,
        offerMachineAddresses: true,
      },
      iceServers: [],
      turn: undefined,
      iceTransportPolicy: 'all',
      workers: os.availableParallelism(),
      openRooms: true,
      dataDir: path.resolve('.data'),
      tokenSecret: undefined,
      tls: { enabled: false, certFile: undefined, keyFile: undefined },
      inviteTtlSeconds: 86400,
      sessionTtlSeconds: 900,
      maxPeersPerRoom: 100,
      pingIntervalMs: 4_000,
      pingTimeoutMs: 4_000,
      limits: {
        maxRooms: 1000,
        maxConnectionsPerIp: 256,
        maxPeersPerUser: 4,
        maxKeySocketsPerSession: 4,
        maxTransports: 4000,
        loadPlainTransports: false,
        inboundBytesPerSecond: 1024 * 1024,
        apiRate: 1,
        apiBurst: 30,
        trustedProxies: [],
        signalingRate: 50,
        keysRate: 20,
      },
      metrics: { enabled: true, token: undefined },
      logLevel: 'info',
    });
  });

  it('reads the limits of issue 13: per-user peers, sessions, transports, inbound bytes, API rate, proxies', () => {
    const config = loadConfig({
      CONCLAVE_MAX_PEERS_PER_USER: '2',
      CONCLAVE_MAX_KEY_SOCKETS_PER_SESSION: '3',
      CONCLAVE_MAX_TRANSPORTS: '100',
      CONCLAVE_INBOUND_BYTES_PER_SECOND: '500000',
      CONCLAVE_API_RATE: '0.5',
      CONCLAVE_API_BURST: '10',
      CONCLAVE_TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16,fd00::/8 ,::1',
    });
    expect(loadConfig({ CONCLAVE_LOAD_PLAIN_TRANSPORTS: '1' }).limits.loadPlainTransports).toBe(true);
    expect(() => loadConfig({ CONCLAVE_LOAD_PLAIN_TRANSPORTS: 'yes' })).toThrow(
      /CONCLAVE_LOAD_PLAIN_TRANSPORTS/,
    );
    expect(config.limits).toMatchObject({
      maxPeersPerUser: 2,
      maxKeySocketsPerSession: 3,
      maxTransports: 100,
      inboundBytesPerSecond: 500_000,
      apiRate: 0.5,
      apiBurst: 10,
      trustedProxies: ['10.0.0.1', '192.168.0.0/16', 'fd00::/8', '::1'],
    });
  });

  it('refuses a trusted proxy list with anything but addresses and CIDR blocks', () => {
    for (const bad of ['proxy.example.org', '10.0.0.0/33', '10.0.0.1;rm', '*']) {
      expect(() => loadConfig({ CONCLAVE_TRUSTED_PROXIES: bad })).toThrow(/CONCLAVE_TRUSTED_PROXIES/);
    }
  });

  it('ignores unrelated and empty variables', () => {
    expect(loadConfig({ PORT: 'nonsense', CONCLAVE_PORT: '', CONCLAVE_HOST: '' })).toEqual(loadConfig({}));
  });

  it('reads every variable', () => {
    const config = loadConfig({
      CONCLAVE_HOST: '10.0.0.5',
      CONCLAVE_PORT: '8443',
      CONCLAVE_RTC_LISTEN_IP: '10.0.0.6',
      CONCLAVE_ANNOUNCED_IP: 'meet.example.org',
      CONCLAVE_RTC_MIN_PORT: '50000',
      CONCLAVE_RTC_MAX_PORT: '50100',
      CONCLAVE_WORKERS: '3',
      CONCLAVE_OPEN_ROOMS: 'no',
      CONCLAVE_DATA_DIR: 'var/conclave',
      CONCLAVE_TOKEN_SECRET: SECRET,
      CONCLAVE_TLS_CERT: '/etc/tls/cert.pem',
      CONCLAVE_TLS_KEY: '/etc/tls/key.pem',
      CONCLAVE_INVITE_TTL_SECONDS: '3600',
      CONCLAVE_SESSION_TTL_SECONDS: '300',
      CONCLAVE_MAX_PEERS_PER_ROOM: '8',
      CONCLAVE_PING_INTERVAL_MS: '2000',
      CONCLAVE_PING_TIMEOUT_MS: '3000',
      CONCLAVE_MAX_ROOMS: '20',
      CONCLAVE_MAX_CONNECTIONS_PER_IP: '0',
      CONCLAVE_SIGNALING_RATE: '10',
      CONCLAVE_KEYS_RATE: '5',
      CONCLAVE_METRICS: 'false',
      CONCLAVE_METRICS_TOKEN: 'scrape-me-please-0123',
      CONCLAVE_LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      host: '10.0.0.5',
      port: 8443,
      publicUrl: 'https://10.0.0.5:8443',
      rtc: {
        listenIp: '10.0.0.6',
        announcedIp: 'meet.example.org',
        minPort: 50000,
        maxPort: 50100,
        offerMachineAddresses: false,
      },
      workers: 3,
      openRooms: false,
      dataDir: path.resolve('var/conclave'),
      tokenSecret: SECRET,
      tls: { enabled: true, certFile: '/etc/tls/cert.pem', keyFile: '/etc/tls/key.pem' },
      inviteTtlSeconds: 3600,
      sessionTtlSeconds: 300,
      maxPeersPerRoom: 8,
      pingIntervalMs: 2000,
      pingTimeoutMs: 3000,
      limits: { maxRooms: 20, maxConnectionsPerIp: 0, signalingRate: 10, keysRate: 5 },
      metrics: { enabled: false, token: 'scrape-me-please-0123' },
      logLevel: 'debug',
    });
  });

  it('accepts HTTP port 0 (any free port) but not RTC port 0', () => {
    expect(loadConfig({ CONCLAVE_PORT: '0' }).port).toBe(0);
    expect(problems({ CONCLAVE_RTC_MIN_PORT: '0' })[0]).toMatch(/^CONCLAVE_RTC_MIN_PORT: /);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
    ['on', true],
    ['off', false],
  ])('reads CONCLAVE_OPEN_ROOMS=%s as %s', (value, expected) => {
    expect(loadConfig({ CONCLAVE_OPEN_ROOMS: value }).openRooms).toBe(expected);
  });

  it.each([
    ['CONCLAVE_HOST', 'localhost'],
    ['CONCLAVE_HOST', '300.1.1.1'],
    ['CONCLAVE_PORT', '-1'],
    ['CONCLAVE_PORT', '65536'],
    ['CONCLAVE_PORT', 'http'],
    ['CONCLAVE_PORT', '80.5'],
    ['CONCLAVE_PUBLIC_URL', 'meet.example.org'],
    ['CONCLAVE_RTC_LISTEN_IP', 'any'],
    ['CONCLAVE_RTC_MIN_PORT', '-1'],
    ['CONCLAVE_RTC_MAX_PORT', '70000'],
    ['CONCLAVE_ICE_SERVERS', 'stun:stun.example.org'],
    ['CONCLAVE_WORKERS', '0'],
    ['CONCLAVE_WORKERS', '257'],
    ['CONCLAVE_OPEN_ROOMS', 'maybe'],
    ['CONCLAVE_TOKEN_SECRET', 'too-short'],
    ['CONCLAVE_TOKEN_SECRET', `${'A'.repeat(42)}=`],
    ['CONCLAVE_TLS', 'sometimes'],
    ['CONCLAVE_INVITE_TTL_SECONDS', '59'],
    ['CONCLAVE_INVITE_TTL_SECONDS', String(30 * 86400 + 1)],
    ['CONCLAVE_SESSION_TTL_SECONDS', '86401'],
    ['CONCLAVE_MAX_PEERS_PER_ROOM', '1'],
    ['CONCLAVE_MAX_ROOMS', '0'],
    ['CONCLAVE_MAX_CONNECTIONS_PER_IP', '-1'],
    ['CONCLAVE_SIGNALING_RATE', '0'],
    ['CONCLAVE_KEYS_RATE', 'fast'],
    ['CONCLAVE_METRICS', 'public'],
    ['CONCLAVE_METRICS_TOKEN', 'short'],
    ['CONCLAVE_LOG_LEVEL', 'verbose'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    const found = problems({ [name]: value });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${name}: `));
  });

  it('reports every invalid variable at once, and names them in the message', () => {
    const env = {
      CONCLAVE_HOST: 'example.org',
      CONCLAVE_PORT: '99999',
      CONCLAVE_WORKERS: 'many',
      CONCLAVE_TLS: 'yes',
      CONCLAVE_LOG_LEVEL: 'loud',
      CONCLAVE_TOKEN_SECRET: 'short',
    };
    const found = problems(env);
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(Object.keys(env).sort());
    expect(() => loadConfig(env)).toThrow(/CONCLAVE_HOST[\s\S]*CONCLAVE_LOG_LEVEL/);
  });

  it('refuses an RTC port range that is empty or reversed', () => {
    expect(problems({ CONCLAVE_RTC_MIN_PORT: '45000', CONCLAVE_RTC_MAX_PORT: '45000' })).toEqual([
      'CONCLAVE_RTC_MIN_PORT: CONCLAVE_RTC_MIN_PORT must be below CONCLAVE_RTC_MAX_PORT',
    ]);
    expect(problems({ CONCLAVE_RTC_MIN_PORT: '45001', CONCLAVE_RTC_MAX_PORT: '45000' })[0]).toMatch(
      /^CONCLAVE_RTC_MIN_PORT: /,
    );
  });

  it('refuses a TLS certificate without its key and a key without its certificate', () => {
    expect(problems({ CONCLAVE_TLS_CERT: '/etc/cert.pem' })[0]).toMatch(/^CONCLAVE_TLS_CERT: .*go together/);
    expect(problems({ CONCLAVE_TLS_KEY: '/etc/key.pem' })[0]).toMatch(/^CONCLAVE_TLS_CERT: .*go together/);
  });

  describe('TLS and the public URL', () => {
    it('keeps TLS off on IPv4 and IPv6 loopback, where the browser counts http://localhost as secure', () => {
      expect(loadConfig({ CONCLAVE_HOST: '127.0.0.1' })).toMatchObject({
        tls: { enabled: false },
        publicUrl: 'http://localhost:3000',
      });
      expect(loadConfig({ CONCLAVE_HOST: '::1', CONCLAVE_PORT: '8080' })).toMatchObject({
        tls: { enabled: false },
        publicUrl: 'http://localhost:8080',
      });
    });

    it('turns TLS on automatically for any other host', () => {
      expect(loadConfig({ CONCLAVE_HOST: '192.168.1.10' })).toMatchObject({
        tls: { enabled: true },
        publicUrl: 'https://192.168.1.10:3000',
      });
      expect(loadConfig({ CONCLAVE_HOST: 'fd00::1' })).toMatchObject({
        tls: { enabled: true },
        publicUrl: 'https://[fd00::1]:3000',
      });
      expect(loadConfig({ CONCLAVE_HOST: '0.0.0.0' }).tls.enabled).toBe(true);
    });

    it('turns TLS on for loopback when a certificate is given, and obeys on/off', () => {
      const cert = { CONCLAVE_TLS_CERT: '/c.pem', CONCLAVE_TLS_KEY: '/k.pem' };
      expect(loadConfig(cert)).toMatchObject({ tls: { enabled: true }, publicUrl: 'https://localhost:3000' });
      expect(loadConfig({ CONCLAVE_TLS: 'on' })).toMatchObject({
        tls: { enabled: true },
        publicUrl: 'https://localhost:3000',
      });
      expect(loadConfig({ CONCLAVE_HOST: '192.168.1.10', CONCLAVE_TLS: 'off' })).toMatchObject({
        tls: { enabled: false },
        publicUrl: 'http://192.168.1.10:3000',
      });
    });

    it('uses CONCLAVE_PUBLIC_URL as given, without a trailing slash', () => {
      expect(loadConfig({ CONCLAVE_PUBLIC_URL: 'https://meet.example.org/' }).publicUrl).toBe(
        'https://meet.example.org',
      );
      expect(loadConfig({ CONCLAVE_PUBLIC_URL: 'https://example.org/meet' }).publicUrl).toBe(
        'https://example.org/meet',
      );
    });
  });

  it('listens for RTC on the HTTP host, or on all IPv4 interfaces when the host is a wildcard', () => {
    expect(loadConfig({ CONCLAVE_HOST: '10.1.2.3' }).rtc.listenIp).toBe('10.1.2.3');
    expect(loadConfig({ CONCLAVE_HOST: '0.0.0.0' }).rtc.listenIp).toBe('0.0.0.0');
    expect(loadConfig({ CONCLAVE_HOST: '::' }).rtc.listenIp).toBe('0.0.0.0');
  });

  describe('TURN with a shared secret', () => {
    const TURN_SECRET = 'a-coturn-static-auth-secret';

    it('reads the URLs, the secret, the TTL and the relay policy', () => {
      const config = loadConfig({
        CONCLAVE_TURN_URLS: 'turn:192.0.2.2:3478?transport=udp, turns:turn.example.org:5349',
        CONCLAVE_TURN_SECRET: TURN_SECRET,
        CONCLAVE_TURN_TTL_SECONDS: '600',
        CONCLAVE_ICE_TRANSPORT_POLICY: 'relay',
      });
      expect(config.turn).toEqual({
        urls: ['turn:192.0.2.2:3478?transport=udp', 'turns:turn.example.org:5349'],
        secret: TURN_SECRET,
        ttlSeconds: 600,
      });
      expect(config.iceTransportPolicy).toBe('relay');
      expect(
        loadConfig({ CONCLAVE_TURN_URLS: 'turn:h', CONCLAVE_TURN_SECRET: TURN_SECRET }).turn?.ttlSeconds,
      ).toBe(86400);
    });

    it('refuses half a TURN setup, bad URLs, a short secret and relay without a relay', () => {
      expect(problems({ CONCLAVE_TURN_URLS: 'turn:h' })[0]).toMatch(
        /CONCLAVE_TURN_URLS and CONCLAVE_TURN_SECRET/,
      );
      expect(problems({ CONCLAVE_TURN_SECRET: TURN_SECRET })[0]).toMatch(/go together/);
      expect(problems({ CONCLAVE_TURN_URLS: 'stun:h', CONCLAVE_TURN_SECRET: TURN_SECRET })[0]).toMatch(
        /^CONCLAVE_TURN_URLS.*turn: or turns:/,
      );
      expect(problems({ CONCLAVE_TURN_URLS: ' , ', CONCLAVE_TURN_SECRET: TURN_SECRET })[0]).toMatch(
        /at least one/,
      );
      expect(problems({ CONCLAVE_TURN_URLS: 'turn:h', CONCLAVE_TURN_SECRET: 'short' })[0]).toMatch(
        /^CONCLAVE_TURN_SECRET: .*16/,
      );
      expect(
        problems({
          CONCLAVE_TURN_URLS: 'turn:h',
          CONCLAVE_TURN_SECRET: TURN_SECRET,
          CONCLAVE_TURN_TTL_SECONDS: '5',
        })[0],
      ).toMatch(/^CONCLAVE_TURN_TTL_SECONDS/);
      expect(problems({ CONCLAVE_ICE_TRANSPORT_POLICY: 'relay' })[0]).toMatch(
        /^CONCLAVE_ICE_TRANSPORT_POLICY: relay needs a TURN server/,
      );
      expect(problems({ CONCLAVE_ICE_TRANSPORT_POLICY: 'none' })[0]).toMatch(
        /^CONCLAVE_ICE_TRANSPORT_POLICY/,
      );
      // A TURN server among the static ones is a relay too.
      const servers = JSON.stringify([{ urls: 'turn:relay.example.org', username: 'u', credential: 'c' }]);
      expect(
        loadConfig({ CONCLAVE_ICE_TRANSPORT_POLICY: 'relay', CONCLAVE_ICE_SERVERS: servers })
          .iceTransportPolicy,
      ).toBe('relay');
    });

    it('never repeats the secret in a refusal', () => {
      const secretish = 'x'.repeat(600);
      const message = problems({ CONCLAVE_TURN_URLS: 'turn:h', CONCLAVE_TURN_SECRET: secretish }).join('\n');
      expect(message).not.toContain(secretish.slice(0, 32));
    });
  });

  it("offers the machine's addresses only when nothing chose the media address", () => {
    const offers = (env: Record<string, string>) => loadConfig(env).rtc.offerMachineAddresses;
    expect(offers({})).toBe(true);
    expect(offers({ CONCLAVE_HOST: '::1' })).toBe(true);
    expect(offers({ CONCLAVE_RTC_LISTEN_IP: '127.0.0.1' })).toBe(false);
    expect(offers({ CONCLAVE_ANNOUNCED_IP: 'meet.example.org' })).toBe(false);
    expect(offers({ CONCLAVE_HOST: '10.1.2.3' })).toBe(false);
  });

  describe('CONCLAVE_ICE_SERVERS', () => {
    it('accepts a JSON array of STUN and TURN servers', () => {
      const servers = [
        { urls: 'stun:stun.example.org:3478' },
        {
          urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349'],
          username: 'u',
          credential: 'c',
        },
      ];
      expect(loadConfig({ CONCLAVE_ICE_SERVERS: JSON.stringify(servers) }).iceServers).toEqual(servers);
      expect(loadConfig({ CONCLAVE_ICE_SERVERS: '[]' }).iceServers).toEqual([]);
    });

    it.each([
      ['not JSON', '[{urls:'],
      ['an object, not an array', '{"urls":"stun:stun.example.org"}'],
      ['an http URL', '[{"urls":"https://turn.example.org"}]'],
      ['an empty URL list', '[{"urls":[]}]'],
      ['a missing urls', '[{"username":"u"}]'],
      ['an unknown key', '[{"urls":"stun:s.example.org","credentialType":"oauth"}]'],
      ['a non-string credential', '[{"urls":"turn:t.example.org","username":"u","credential":42}]'],
    ])('refuses %s, naming the variable', (_label, value) => {
      const found = problems({ CONCLAVE_ICE_SERVERS: value });
      expect(found.length).toBeGreaterThan(0);
      for (const problem of found) expect(problem).toMatch(/^CONCLAVE_ICE_SERVERS\b/);
    });
  });
});
