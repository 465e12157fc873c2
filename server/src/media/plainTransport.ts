// SRTP PlainTransports for load tests (`npm run load -- --media`): simulated participants send and
// receive real SRTP through the SFU without a WebRTC stack (ICE, DTLS) of their own, so that the
// load generator, not its JavaScript DTLS, stays cheap. See docs/media-load.md for the choice.
//
// Must hold:
// - off unless the operator sets CONCLAVE_LOAD_PLAIN_TRANSPORTS=1: a production server refuses the
//   requests ('forbidden') before it creates anything;
// - listening on loopback only, and the remote end is loopback only: a client cannot point the
//   SFU's media at another host (the SFU would otherwise be a UDP reflector towards any address);
// - always SRTP (AEAD_AES_128_GCM): media on a plain transport is never in the clear at the RTP
//   layer, and it is SFrame ciphertext underneath like every other stream;
// - counted against the same server-wide TransportBudget as WebRTC transports, and a peer's send and
//   recv transports are one of each, whatever their kind (Peer.ts).
import type { types } from 'mediasoup';
import { ConclaveError } from '../errors.ts';
import { isPortExhaustion, serverFull, type TransportBudget } from './TransportBudget.ts';

/** The only address a plain transport listens on, and the only kind it sends to. */
export const PLAIN_TRANSPORT_IP = '127.0.0.1';
export const PLAIN_SRTP_SUITE = 'AEAD_AES_128_GCM' satisfies types.SrtpCryptoSuite;

export interface PlainTransportInfo {
  id: string;
  ip: string;
  port: number;
  srtpParameters: { cryptoSuite: 'AEAD_AES_128_GCM'; keyBase64: string };
}

/** What a production server answers to a plain-transport request. */
export function plainTransportsDisabled(): ConclaveError {
  return new ConclaveError(
    'forbidden',
    'plain transports are for load tests only (the server needs CONCLAVE_LOAD_PLAIN_TRANSPORTS=1)',
    403,
  );
}

/** A new SRTP PlainTransport on loopback, reserved in `budget`; it releases itself on close. */
export async function openPlainTransport(
  router: types.Router,
  direction: 'send' | 'recv',
  budget: TransportBudget | undefined,
): Promise<types.PlainTransport> {
  const release = budget?.reserve() ?? (() => {});
  let transport: types.PlainTransport;
  try {
    transport = await router.createPlainTransport({
      listenIp: PLAIN_TRANSPORT_IP,
      rtcpMux: true,
      comedia: false,
      enableSrtp: true,
      srtpCryptoSuite: PLAIN_SRTP_SUITE,
      appData: { direction, plain: true },
    });
  } catch (error) {
    release();
    throw isPortExhaustion(error) ? serverFull() : error;
  }
  transport.observer.once('close', release);
  return transport;
}

export function plainTransportInfo(transport: types.PlainTransport): PlainTransportInfo {
  const srtp = transport.srtpParameters;
  if (srtp === undefined || srtp.cryptoSuite !== 'AEAD_AES_128_GCM') {
    throw new ConclaveError('internal', 'the plain transport has no SRTP parameters', 500);
  }
  return {
    id: transport.id,
    ip: transport.tuple.localIp,
    port: transport.tuple.localPort,
    srtpParameters: { cryptoSuite: PLAIN_SRTP_SUITE, keyBase64: srtp.keyBase64 },
  };
}

/** Whether `ip` is an IPv4 loopback address (127.0.0.0/8). */
export function isLoopbackIpv4(ip: string): boolean {
  return /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(ip) && ip.split('.').every((p) => Number(p) <= 255);
}
