// Key frame requests in the SFU's RTCP, for the simulated cameras: mediasoup asks a producer for a
// key frame (PLI, or FIR) when a consumer starts or a receiver loses the picture. A browser's encoder
// answers with a key frame at once; the simulated camera answers by skipping ahead to the next key
// frame of its loop, so a tile paged onto the screen shows its picture without waiting up to a second
// for the periodic one.
//
// Input: a compound RTCP packet in the clear (after SRTCP). Never throws on malformed input.

/** RFC 4585 §6.1: payload-specific feedback; FMT 1 = PLI, FMT 4 = FIR (RFC 5104 §4.3.1). */
const PSFB = 206;
const PLI = 1;
const FIR = 4;

/** Whether any packet of this compound RTCP is a PLI or a FIR. */
export function hasKeyFrameRequest(rtcp: Uint8Array): boolean {
  let at = 0;
  while (at + 4 <= rtcp.length) {
    if (rtcp[at]! >> 6 !== 2) return false;
    const format = rtcp[at]! & 0x1f;
    const type = rtcp[at + 1]!;
    const length = 4 * (((rtcp[at + 2]! << 8) | rtcp[at + 3]!) + 1);
    if (at + length > rtcp.length) return false;
    if (type === PSFB && (format === PLI || format === FIR)) return true;
    at += length;
  }
  return false;
}

/** RFC 5761 §4: on a muxed port, RTCP packet types are 192–223 (RTP payload types never are). */
export function isRtcp(datagram: Uint8Array): boolean {
  return datagram.length >= 8 && datagram[0]! >> 6 === 2 && datagram[1]! >= 192 && datagram[1]! <= 223;
}

/** The loop's frame index to send next after a key frame request: the next key frame's. */
export function nextKeyFrame(frame: number, keyFrameInterval: number): number {
  return frame % keyFrameInterval === 0 ? frame : frame + keyFrameInterval - (frame % keyFrameInterval);
}
