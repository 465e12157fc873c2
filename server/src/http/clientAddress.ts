// Who a connection comes from, for per-client limits. Two questions, answered purely:
// - `addressGroup`: the key under which one client's connections are counted. An IPv6 host usually
//   holds a whole /64 (SLAAC, privacy addresses), so an IPv6 address counts as its /64; an
//   IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack listener reports for IPv4) counts
//   as the IPv4 address it maps.
// - `ProxyTrust.clientAddress`: the client's address behind reverse proxies. `X-Forwarded-For` is
//   believed only when the TCP peer is a configured proxy, and then only as far back as the chain
//   stays within trusted proxies: the rightmost address that is not a trusted proxy is the client.
//   With no trusted proxies (the default) the header is ignored, since anyone can send it.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
/** X-Forwarded-For hops looked at, at most: a longer header is not walked to its end. */
const MAX_FORWARDED_HOPS = 32;

/** An address as one canonical string: IPv4-mapped IPv6 as IPv4, zone ids dropped, lower case. */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim().replace(/%.*$/, '').toLowerCase();
  const mapped = MAPPED_IPV4.exec(trimmed)?.[1];
  if (mapped !== undefined && isIPv4(mapped)) return mapped;
  return trimmed;
}

/** The eight 16-bit groups of an IPv6 address (embedded IPv4 tails included), or undefined. */
export function ipv6Groups(address: string): number[] | undefined {
  if (!isIPv6(address)) return undefined;
  let text = address.replace(/%.*$/, '');
  const v4 = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (v4?.[1] !== undefined) {
    const [a, b, c, d] = v4[1].split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const fill = tail === undefined ? [] : Array<number>(8 - left.length - right.length).fill(0);
  const groups = [...left, ...fill, ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

/** The key one client's connections are counted under: an IPv4 address, or an IPv6 /64. */
export function addressGroup(address: string): string {
  const normalized = normalizeAddress(address);
  const groups = ipv6Groups(normalized);
  if (groups === undefined) return normalized;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

export class ProxyTrust {
  readonly #trusted = new BlockList();
  readonly #any: boolean;

  /** `trusted`: addresses and CIDR blocks (`10.0.0.0/8`, `fd00::/8`), as config.ts validated them. */
  constructor(trusted: readonly string[]) {
    for (const entry of trusted) {
      const [address = '', prefix] = entry.split('/');
      const type = isIPv4(address) ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.#trusted.addAddress(address, type);
      else this.#trusted.addSubnet(address, Number(prefix), type);
    }
    this.#any = trusted.length > 0;
  }

  isTrusted(address: string): boolean {
    if (!this.#any) return false;
    const normalized = normalizeAddress(address);
    if (isIPv4(normalized)) return this.#trusted.check(normalized, 'ipv4');
    if (isIPv6(normalized)) return this.#trusted.check(normalized, 'ipv6');
    return false;
  }

  /** The client's address: `remote` unless it is a trusted proxy that says who it forwards. */
  clientAddress(remote: string, forwardedFor: string | string[] | undefined): string {
    let client = normalizeAddress(remote);
    if (forwardedFor === undefined || !this.isTrusted(client)) return client;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
      .split(',')
      .slice(-MAX_FORWARDED_HOPS)
      .reverse();
    for (const hop of hops) {
      if (!this.isTrusted(client)) break;
      const address = normalizeAddress(hop);
      // Garbage in the chain: the last proxy we trust is as far back as we can know.
      if (!isIPv4(address) && !isIPv6(address)) break;
      client = address;
    }
    return client;
  }
}
