// Per-IP limits on socket.io connections, applied at the engine.io handshake (before any namespace
// or token is looked at): at most `maxPerIp` open connections per address, and new ones at a
// bounded rate. A browser tab holds two (signaling and key service), so the defaults leave room for
// an office behind one NAT address. Addresses are counted by `addressGroup` (an IPv6 /64 is one
// client; IPv4-mapped IPv6 is its IPv4 address), and behind trusted reverse proxies by the
// `X-Forwarded-For` client (`clientOf`). `maxPerIp` 0 disables both.
import type { IncomingMessage } from 'node:http';
import { addressGroup } from './clientAddress.ts';
import { RateLimiter } from '@conclave/common/rate-limit';

/** The part of an engine.io socket the limiter needs. */
interface EngineSocket {
  remoteAddress: string;
  /** The handshake request (engine.io keeps it): behind a proxy, it names the client. */
  request?: IncomingMessage;
  once(event: 'close', listener: () => void): unknown;
}

export type ConnectionRefusal = 'too-many-connections' | 'too-many-handshakes' | 'penalized';

/** How long an address whose connection was closed for abuse (see InboundGate) may not reconnect. */
export const PENALTY_MS = 10_000;
const MAX_PENALTIES = 100_000;

export class ConnectionLimiter {
  readonly #maxPerIp: number;
  readonly #handshakes: RateLimiter;
  readonly #open = new Map<string, number>();
  /** Address group → until when (ms) its handshakes are refused. */
  readonly #penalties = new Map<string, number>();

  readonly #clientOf: (req: IncomingMessage) => string;

  /** `clientOf`: the client address of a request (default: its TCP peer), e.g. ProxyTrust's. */
  constructor(options: { maxPerIp: number; clientOf?: (req: IncomingMessage) => string }) {
    this.#maxPerIp = options.maxPerIp;
    this.#clientOf = options.clientOf ?? ((req) => req.socket.remoteAddress ?? 'unknown');
    // A whole office may reconnect at once after a restart; a flood may not go on.
    this.#handshakes = new RateLimiter({
      capacity: Math.max(16, options.maxPerIp),
      perSecond: Math.max(2, options.maxPerIp / 16),
    });
  }

  /** Why a new connection from `address` is refused, or undefined when it may proceed. */
  refusal(address: string, now = Date.now()): ConnectionRefusal | undefined {
    if (this.#maxPerIp === 0) return undefined;
    const group = addressGroup(address);
    const penalty = this.#penalties.get(group);
    if (penalty !== undefined && penalty > now) return 'penalized';
    if (penalty !== undefined) this.#penalties.delete(group);
    if ((this.#open.get(group) ?? 0) >= this.#maxPerIp) return 'too-many-connections';
    if (!this.#handshakes.take(group, now)) return 'too-many-handshakes';
    return undefined;
  }

  /** Counts an accepted connection until it closes. */
  track(socket: EngineSocket): void {
    if (this.#maxPerIp === 0) return;
    const address = addressGroup(
      socket.request === undefined ? socket.remoteAddress : this.#clientOf(socket.request),
    );
    this.#open.set(address, (this.#open.get(address) ?? 0) + 1);
    socket.once('close', () => {
      const left = (this.#open.get(address) ?? 1) - 1;
      if (left <= 0) this.#open.delete(address);
      else this.#open.set(address, left);
    });
  }

  /**
   * The connection broke a rule a real client never breaks (a message far beyond any request): its
   * address may not connect again for PENALTY_MS, so that reconnecting is no way to keep flooding.
   */
  penalize(socket: EngineSocket, now = Date.now()): void {
    if (this.#maxPerIp === 0) return;
    const group = addressGroup(
      socket.request === undefined ? socket.remoteAddress : this.#clientOf(socket.request),
    );
    if (this.#penalties.size >= MAX_PENALTIES) {
      for (const [key, until] of this.#penalties) if (until <= now) this.#penalties.delete(key);
      if (this.#penalties.size >= MAX_PENALTIES) this.#penalties.clear();
    }
    this.#penalties.set(group, now + PENALTY_MS);
  }

  openFrom(address: string): number {
    return this.#open.get(addressGroup(address)) ?? 0;
  }

  /** socket.io's `allowRequest` option: refuses with a message engine.io sends back (HTTP 403). */
  allowRequest(onRefused?: (reason: ConnectionRefusal) => void) {
    return (req: IncomingMessage, callback: (error: string | null | undefined, ok: boolean) => void) => {
      const reason = this.refusal(this.#clientOf(req));
      if (reason !== undefined) onRefused?.(reason);
      callback(reason ?? null, reason === undefined);
    };
  }
}
