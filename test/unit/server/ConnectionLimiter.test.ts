// Per-IP connection limits at the socket.io handshake (server/src/http/ConnectionLimiter.ts).
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ConnectionLimiter, PENALTY_MS } from '../../../server/src/http/ConnectionLimiter.ts';

function engineSocket(remoteAddress: string) {
  return Object.assign(new EventEmitter(), { remoteAddress });
}

describe('ConnectionLimiter', () => {
  it('refuses an address holding its maximum of open connections until one closes', () => {
    const limiter = new ConnectionLimiter({ maxPerIp: 3 });
    const sockets = [1, 2, 3].map(() => engineSocket('198.51.100.7'));
    for (const socket of sockets) {
      expect(limiter.refusal('198.51.100.7', 0)).toBeUndefined();
      limiter.track(socket);
    }
    expect(limiter.refusal('198.51.100.7', 60_000)).toBe('too-many-connections');
    // Another address is not affected.
    expect(limiter.refusal('198.51.100.8', 60_000)).toBeUndefined();
    sockets[0]?.emit('close');
    expect(limiter.openFrom('198.51.100.7')).toBe(2);
    expect(limiter.refusal('198.51.100.7', 60_000)).toBeUndefined();
  });

  it('bounds the rate of new handshakes per address, refilling over time', () => {
    const limiter = new ConnectionLimiter({ maxPerIp: 32 }); // burst 32, 2 per second
    for (let i = 0; i < 32; i++) expect(limiter.refusal('203.0.113.1', 0)).toBeUndefined();
    expect(limiter.refusal('203.0.113.1', 0)).toBe('too-many-handshakes');
    expect(limiter.refusal('203.0.113.1', 400)).toBe('too-many-handshakes');
    expect(limiter.refusal('203.0.113.1', 1000)).toBeUndefined();
  });

  it('limits nothing with a maximum of 0 (behind a proxy every client shares its address)', () => {
    const limiter = new ConnectionLimiter({ maxPerIp: 0 });
    for (let i = 0; i < 1000; i++) {
      expect(limiter.refusal('10.0.0.1', 0)).toBeUndefined();
      limiter.track(engineSocket('10.0.0.1'));
    }
    expect(limiter.openFrom('10.0.0.1')).toBe(0);
  });

  it('answers socket.io’s allowRequest with the reason and reports it', () => {
    const limiter = new ConnectionLimiter({ maxPerIp: 1 });
    limiter.track(engineSocket('192.0.2.9'));
    const reasons: string[] = [];
    const allow = limiter.allowRequest((reason) => reasons.push(reason));
    const answers: [string | null | undefined, boolean][] = [];
    const req = { socket: { remoteAddress: '192.0.2.9' } } as Parameters<typeof allow>[0];
    allow(req, (error, ok) => answers.push([error, ok]));
    expect(answers).toEqual([['too-many-connections', false]]);
    expect(reasons).toEqual(['too-many-connections']);
  });

  it('refuses an address it penalised for PENALTY_MS, counting an IPv6 /64 as one address', () => {
    const limiter = new ConnectionLimiter({ maxPerIp: 8 });
    limiter.penalize(engineSocket('2001:db8:5:6::1'), 0);
    expect(limiter.refusal('2001:db8:5:6::2', 1)).toBe('penalized');
    expect(limiter.refusal('2001:db8:5:7::1', 1)).toBeUndefined();
    expect(limiter.refusal('2001:db8:5:6::2', PENALTY_MS - 1)).toBe('penalized');
    expect(limiter.refusal('2001:db8:5:6::2', PENALTY_MS)).toBeUndefined();
  });

  it('counts IPv4-mapped IPv6 peers as their IPv4 address', () => {
    const limiter = new ConnectionLimiter({ maxPerIp: 1 });
    limiter.track(engineSocket('::ffff:198.51.100.3'));
    expect(limiter.refusal('198.51.100.3', 0)).toBe('too-many-connections');
    expect(limiter.openFrom('198.51.100.3')).toBe(1);
  });
});
