// The server-wide cap on open WebRTC transports. Each transport holds a UDP and a TCP port of the
// media range and worker memory; per-peer (two) and per-room caps alone would let enough rooms
// exhaust the ports, after which every newcomer fails. Past the cap, a transport is refused with
// 'server-full' (HTTP 503 semantics: try later), which clients show as such.
import { ConclaveError } from '../errors.ts';

export class TransportBudget {
  readonly #max: number;
  #open = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError('the transport cap is a positive integer');
    this.#max = max;
  }

  get open(): number {
    return this.#open;
  }

  /** Reserves one transport; the returned release gives it back (once, however often it is called). */
  reserve(): () => void {
    if (this.#open >= this.#max) throw serverFull();
    this.#open += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#open -= 1;
    };
  }
}

/** What a client sees when the media server has no transport (or no port) to give. */
export function serverFull(): ConclaveError {
  return new ConclaveError('server-full', 'the media server is full; try again later', 503);
}

/** mediasoup's error when every port of the RTC range is taken (worker/src/RTC/PortManager.cpp). */
export function isPortExhaustion(error: unknown): boolean {
  return error instanceof Error && /no more available ports/i.test(error.message);
}
