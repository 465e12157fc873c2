// Who a connection comes from (server/src/http/clientAddress.ts): IPv6 /64 grouping, IPv4-mapped
// addresses, and X-Forwarded-For believed only from trusted proxies.
import { describe, expect, it } from 'vitest';
import {
  addressGroup,
  ipv6Groups,
  normalizeAddress,
  ProxyTrust,
} from '../../../server/src/http/clientAddress.ts';

describe('addressGroup', () => {
  it('counts every address of one IPv6 /64 as one client, and another /64 apart', () => {
    expect(addressGroup('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:0DB8:0001:0002:0:0:0:ff')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressGroup('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('counts an IPv4-mapped IPv6 address as the IPv4 address, and IPv4 addresses one by one', () => {
    expect(addressGroup('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressGroup('::FFFF:192.0.2.7')).toBe('192.0.2.7');
    expect(addressGroup('192.0.2.7')).toBe('192.0.2.7');
    expect(addressGroup('192.0.2.8')).toBe('192.0.2.8');
  });

  it('keeps anything that is not an address as it is (it cannot match a real client)', () => {
    expect(addressGroup('unknown')).toBe('unknown');
  });
});

describe('ipv6Groups', () => {
  it('expands :: and embedded IPv4 tails, and refuses what is not IPv6', () => {
    expect(ipv6Groups('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('64:ff9b::192.0.2.33')).toEqual([0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221]);
    expect(ipv6Groups('192.0.2.1')).toBeUndefined();
    expect(ipv6Groups('1::2::3')).toBeUndefined();
  });

  it('normalizes case, zone ids and mapped IPv4', () => {
    expect(normalizeAddress(' FE80::1%lo ')).toBe('fe80::1');
    expect(normalizeAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
  });
});

describe('ProxyTrust', () => {
  const trust = new ProxyTrust(['10.0.0.1', '192.168.0.0/16', 'fd00::/8']);

  it('ignores X-Forwarded-For from anyone but a trusted proxy (anyone can send the header)', () => {
    expect(trust.clientAddress('198.51.100.9', '203.0.113.5')).toBe('198.51.100.9');
    expect(new ProxyTrust([]).clientAddress('10.0.0.1', '203.0.113.5')).toBe('10.0.0.1');
  });

  it('takes the client from a trusted proxy, also behind a chain of trusted proxies', () => {
    expect(trust.clientAddress('10.0.0.1', '203.0.113.5')).toBe('203.0.113.5');
    expect(trust.clientAddress('::ffff:10.0.0.1', '203.0.113.5')).toBe('203.0.113.5');
    expect(trust.clientAddress('10.0.0.1', '203.0.113.5, 192.168.4.4')).toBe('203.0.113.5');
    expect(trust.clientAddress('fd12::1', '2001:db8::7')).toBe('2001:db8::7');
  });

  it('stops at the first untrusted hop: a client cannot prepend a forged address', () => {
    // The client (203.0.113.5) sent "X-Forwarded-For: 1.2.3.4"; the proxy appended what it saw.
    expect(trust.clientAddress('10.0.0.1', '1.2.3.4, 203.0.113.5')).toBe('203.0.113.5');
    expect(trust.clientAddress('10.0.0.1', ['1.2.3.4', '203.0.113.5'])).toBe('203.0.113.5');
  });

  it('stops at garbage, keeping the last trusted proxy as the client', () => {
    expect(trust.clientAddress('10.0.0.1', 'not-an-ip')).toBe('10.0.0.1');
    expect(trust.clientAddress('10.0.0.1', '203.0.113.5, <script>, 192.168.1.1')).toBe('192.168.1.1');
  });

  it('uses the TCP peer when the header is missing', () => {
    expect(trust.clientAddress('10.0.0.1', undefined)).toBe('10.0.0.1');
  });
});
