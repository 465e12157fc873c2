// Where the SFU listens for media (server/src/media/rtcListenAddresses.ts): a configured address
// alone, or loopback plus the machine's own IPv4 addresses for a local start that Firefox can reach.
import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import { rtcListenAddresses } from '../../../server/src/media/rtcListenAddresses.ts';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

function address(ip: string, family: 'IPv4' | 'IPv6', internal = false): os.NetworkInterfaceInfo {
  const common = { address: ip, netmask: '', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...common, family } : { ...common, family, scopeid: 0 };
}

const MACHINE: Interfaces = {
  lo: [address('127.0.0.1', 'IPv4', true), address('::1', 'IPv6', true)],
  eth0: [address('192.0.2.2', 'IPv4'), address('fd00::2', 'IPv6'), address('fe80::1', 'IPv6')],
  wlan0: [address('198.51.100.7', 'IPv4')],
};

describe('rtcListenAddresses', () => {
  it('adds every non-internal IPv4 address after loopback for a local start', () => {
    const listen = rtcListenAddresses(
      { listenIp: '127.0.0.1', announcedIp: undefined, offerMachineAddresses: true },
      MACHINE,
    );
    expect(listen).toEqual([{ ip: '127.0.0.1' }, { ip: '192.0.2.2' }, { ip: '198.51.100.7' }]);
  });

  it('uses a configured address alone, with its announced address', () => {
    expect(
      rtcListenAddresses(
        { listenIp: '10.0.0.6', announcedIp: 'meet.example.org', offerMachineAddresses: false },
        MACHINE,
      ),
    ).toEqual([{ ip: '10.0.0.6', announcedIp: 'meet.example.org' }]);
    expect(
      rtcListenAddresses(
        { listenIp: '127.0.0.1', announcedIp: undefined, offerMachineAddresses: false },
        MACHINE,
      ),
    ).toEqual([{ ip: '127.0.0.1' }]);
  });

  it('lists an address once, and only loopback on a machine without a network', () => {
    const lonely: Interfaces = { lo: [address('127.0.0.1', 'IPv4', true)] };
    expect(
      rtcListenAddresses(
        { listenIp: '127.0.0.1', announcedIp: undefined, offerMachineAddresses: true },
        lonely,
      ),
    ).toEqual([{ ip: '127.0.0.1' }]);
    const twice: Interfaces = { eth0: [address('192.0.2.2', 'IPv4')], br0: [address('192.0.2.2', 'IPv4')] };
    expect(
      rtcListenAddresses(
        { listenIp: '127.0.0.1', announcedIp: undefined, offerMachineAddresses: true },
        twice,
      ),
    ).toEqual([{ ip: '127.0.0.1' }, { ip: '192.0.2.2' }]);
  });
});
