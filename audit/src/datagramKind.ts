// What a UDP datagram of a capture carries, told by its first bytes alone (RFC 7983 §7, and RFC
// 5761 §4 for RTCP multiplexed in the RTP range). The verifier checks RTP and only counts the rest.
//
// What must hold: any bytes (also none) get exactly one kind; nothing here throws.

/** The kinds a media port multiplexes, plus `other` for what is none of them. */
export type DatagramKind = 'rtp' | 'rtcp' | 'stun' | 'dtls' | 'other';

/**
 * Tells RTP from RTCP, STUN and DTLS by the first byte (and, in the RTP range, the second).
 * @param payload a UDP payload
 * @returns its kind; an empty payload is `other`
 */
export function datagramKind(payload: Uint8Array): DatagramKind {
  const first = payload[0];
  if (first === undefined) return 'other';
  if (first <= 3) return 'stun';
  if (first >= 20 && first <= 63) return 'dtls';
  if (first >= 128 && first <= 191) {
    const second = payload[1] ?? 0;
    return second >= 192 && second <= 223 ? 'rtcp' : 'rtp';
  }
  return 'other';
}
