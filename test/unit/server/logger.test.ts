// Log redaction (server/src/logger.ts): secrets never reach the log stream.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../server/src/logger.ts';

const SECRET_FIELDS = [
  'token',
  'accessToken',
  'Token',
  'secret',
  'key',
  'privateKey',
  'auth',
  'Authorization',
  'cookie',
  'password',
  'invite',
  'session',
  'credential',
];

function capture(level = 'info') {
  const lines: string[] = [];
  const logger = createLogger(level, { write: (line: string) => void lines.push(line) });
  return { logger, lines, text: () => lines.join('') };
}

describe('createLogger', () => {
  it('writes structured JSON lines with the service name', () => {
    const { logger, lines } = capture();
    logger.info({ roomId: 'abc-defg-hij', peers: 3 }, 'room opened');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 30,
      service: 'conclave',
      roomId: 'abc-defg-hij',
      peers: 3,
      msg: 'room opened',
    });
  });

  it('respects its level', () => {
    const { logger, lines } = capture('warn');
    logger.info('hidden');
    logger.debug('hidden');
    logger.warn('shown');
    expect(lines).toHaveLength(1);
    const silent = capture('silent');
    silent.logger.fatal('hidden');
    expect(silent.lines).toHaveLength(0);
  });

  it('redacts secret-bearing fields at the top level and one and two levels down', () => {
    const { logger, text } = capture();
    logger.info(
      {
        roomId: 'abc-defg-hij',
        token: 'SECRET-top-token',
        secret: 'SECRET-top-secret',
        invite: 'SECRET-top-invite',
        peer: {
          id: 'peer-1',
          key: 'SECRET-nested-key',
          session: 'SECRET-nested-session',
          auth: { token: 'SECRET-auth-token', password: 'SECRET-password' },
        },
        req: { headers: { authorization: 'Bearer SECRET-bearer', cookie: 'sid=SECRET-cookie' } },
      },
      'handshake',
    );
    const output = text();
    expect(output).not.toMatch(/SECRET/);
    const entry = JSON.parse(output) as {
      token: unknown;
      peer: { id: unknown; key: unknown; auth: unknown };
      req: { headers: { authorization: unknown } };
    };
    expect(entry.token).toBe('[redacted]');
    expect(entry.peer.key).toBe('[redacted]');
    expect(entry.peer.auth).toBe('[redacted]');
    expect(entry.req.headers.authorization).toBe('[redacted]');
    // Redaction is by key: harmless neighbours survive.
    expect(entry.peer.id).toBe('peer-1');
    expect(output).toContain('abc-defg-hij');
  });

  it('redacts each listed key inside arrays of objects too', () => {
    const { logger, text } = capture();
    logger.info({ peers: [{ token: 'SECRET-a' }, { key: 'SECRET-b' }] }, 'peers');
    expect(text()).not.toMatch(/SECRET/);
  });

  it.each(SECRET_FIELDS)('redacts "%s" at every depth', (key) => {
    const { logger, text } = capture();
    logger.warn({
      [key]: 'SECRET-1',
      a: { [key]: 'SECRET-2', b: { [key]: 'SECRET-3', c: { d: { [key]: 'SECRET-5' } } } },
    });
    expect(text()).not.toMatch(/SECRET/);
    expect(text().match(/\[redacted\]/g)).toHaveLength(4);
  });

  it('elides objects nested beyond its depth bound instead of walking them', () => {
    const { logger, text } = capture();
    let deep: Record<string, unknown> = { note: 'SECRET-in-a-harmless-field' };
    for (let i = 0; i < 20; i++) deep = { inner: deep };
    logger.info({ deep }, 'deep');
    expect(text()).not.toMatch(/SECRET/);
    expect(text()).toContain('[too deep]');
  });

  it('redacts child logger bindings', () => {
    const { logger, text } = capture();
    logger.child({ token: 'SECRET-binding' }).info({ peerId: 'p1' }, 'joined');
    expect(text()).not.toMatch(/SECRET/);
    expect(text()).toContain('p1');
  });
});
