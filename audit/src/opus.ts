// Opus over RTP, RFC 7587 §4.2: the payload of one RTP packet is exactly one Opus packet (one
// encoded frame, as the sender's frame transform saw it); there is no payload descriptor.
import type { MediaFrame } from './mediaFrame.ts';
import type { RtpPacket } from './rtp.ts';

/**
 * The frame an Opus RTP packet carries, or `undefined` for a packet with no payload (padding only,
 * as bandwidth probes send). Never throws: any payload is one frame.
 */
export function opusFrameFromPacket(packet: RtpPacket): MediaFrame | undefined {
  if (packet.payload.length === 0) return undefined;
  return {
    codec: 'opus',
    ssrc: packet.ssrc,
    timestamp: packet.timestamp,
    firstSequenceNumber: packet.sequenceNumber,
    lastSequenceNumber: packet.sequenceNumber,
    packetCount: 1,
    data: packet.payload,
  };
}
