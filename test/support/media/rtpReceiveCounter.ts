// Counts what arrives on a receive transport, per SSRC, from RTP sequence numbers alone (no
// decryption: the SRTP header is in the clear): packets received, and packets expected from the
// first to the highest sequence number seen (RFC 3550 §A.3's extended sequence numbers), so loss =
// 1 - received / expected. RTCP (rtcp-mux, RFC 5761 §4: payload types 192-223) is skipped.

export interface SsrcCount {
  received: number;
  expected: number;
}

class SsrcTracker {
  #base = -1;
  #highest = -1;
  #received = 0;

  add(seq: number): void {
    this.#received += 1;
    if (this.#base < 0) {
      this.#base = seq;
      this.#highest = seq;
      return;
    }
    // Extend to the cycle nearest the highest seen: reordering a few packets back is not a wrap.
    const cycle = this.#highest - (this.#highest & 0xffff);
    let extended = cycle + seq;
    if (extended < this.#highest - 0x8000) extended += 0x10000;
    else if (extended > this.#highest + 0x8000) extended -= 0x10000;
    if (extended > this.#highest) this.#highest = extended;
  }

  get count(): SsrcCount {
    return { received: this.#received, expected: this.#base < 0 ? 0 : this.#highest - this.#base + 1 };
  }
}

export class RtpReceiveCounter {
  readonly #bySsrc = new Map<number, SsrcTracker>();
  #bytes = 0;

  /** One datagram from the SFU. */
  add(datagram: Buffer): void {
    if (datagram.length < 12 || datagram[0]! >> 6 !== 2) return;
    const payloadType = datagram[1]!;
    if (payloadType >= 192 && payloadType <= 223) return;
    const ssrc = datagram.readUInt32BE(8);
    let tracker = this.#bySsrc.get(ssrc);
    if (tracker === undefined) {
      tracker = new SsrcTracker();
      this.#bySsrc.set(ssrc, tracker);
    }
    tracker.add(datagram.readUInt16BE(2));
    this.#bytes += datagram.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  count(ssrc: number): SsrcCount {
    return this.#bySsrc.get(ssrc)?.count ?? { received: 0, expected: 0 };
  }

  /** Every SSRC seen so far, with its count. */
  all(): Map<number, SsrcCount> {
    return new Map([...this.#bySsrc].map(([ssrc, t]) => [ssrc, t.count]));
  }
}
