// The addresses the SFU's WebRTC transports listen on and offer as ICE candidates.
//
// Firefox gathers no loopback ICE candidates, so an SFU that offers only 127.0.0.1 can never be
// reached from it, even on the same machine. When the listen address is loopback only because
// nothing was configured (a local `npm start`), the transports also listen on the machine's own
// non-loopback addresses. What must hold: an address the operator configured
// (CONCLAVE_RTC_LISTEN_IP, CONCLAVE_ANNOUNCED_IP) is used alone, exactly as given.
import os from 'node:os';
import type { types } from 'mediasoup';

export interface RtcListenSettings {
  listenIp: string;
  announcedIp: string | undefined;
  offerMachineAddresses: boolean;
}

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/**
 * The configured address first (mediasoup gives earlier entries higher candidate priority), then,
 * when allowed, every non-internal IPv4 address of the machine. IPv4 only: each address costs a
 * UDP and a TCP port per transport, and a browser on this machine reaches it over IPv4.
 */
export function rtcListenAddresses(
  settings: RtcListenSettings,
  interfaces: Interfaces = os.networkInterfaces(),
): types.TransportListenIp[] {
  const configured: types.TransportListenIp =
    settings.announcedIp === undefined
      ? { ip: settings.listenIp }
      : { ip: settings.listenIp, announcedIp: settings.announcedIp };
  if (!settings.offerMachineAddresses) return [configured];
  const machine = Object.values(interfaces)
    .flatMap((addresses) => addresses ?? [])
    .filter((a) => !a.internal && a.family === 'IPv4')
    .map((a) => a.address);
  const unique = [...new Set(machine)].filter((ip) => ip !== settings.listenIp);
  return [configured, ...unique.map((ip) => ({ ip }))];
}
