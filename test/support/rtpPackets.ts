// Builds RTP packets byte by byte (RFC 3550 §5.1, RFC 8285 header extensions) and packetizes VP8
// (RFC 7741), VP9 (RFC 9628), H.264 (RFC 6184) and Opus (RFC 7587) frames the way a browser does, for tests of the audit parsers and
// the tap on the SFU. Test-only: the SFU never builds packets.

export interface RtpExtensionSpec {
  profile: number;
  /** The extension block; its length must be a multiple of 4. */
  data: Uint8Array;
}

export interface RtpPacketSpec {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  csrcs?: number[];
  extension?: RtpExtensionSpec;
  /** Padding bytes to append (RFC 3550 §5.1: the last one holds the count). */
  padding?: number;
  payload: Uint8Array;
  /** Overrides the version bits (default 2), to build malformed packets. */
  version?: number;
}

export function serializeRtpPacket(spec: RtpPacketSpec): Uint8Array {
  const csrcs = spec.csrcs ?? [];
  const extensionLength = spec.extension === undefined ? 0 : 4 + spec.extension.data.length;
  if (spec.extension !== undefined && spec.extension.data.length % 4 !== 0) {
    throw new Error('an RTP header extension is a whole number of 32-bit words');
  }
  const padding = spec.padding ?? 0;
  const bytes = new Uint8Array(12 + 4 * csrcs.length + extensionLength + spec.payload.length + padding);
  const view = new DataView(bytes.buffer);
  bytes[0] =
    ((spec.version ?? 2) << 6) |
    (padding > 0 ? 0x20 : 0) |
    (spec.extension !== undefined ? 0x10 : 0) |
    csrcs.length;
  bytes[1] = (spec.marker === true ? 0x80 : 0) | spec.payloadType;
  view.setUint16(2, spec.sequenceNumber & 0xffff);
  view.setUint32(4, spec.timestamp >>> 0);
  view.setUint32(8, spec.ssrc >>> 0);
  let offset = 12;
  for (const csrc of csrcs) {
    view.setUint32(offset, csrc);
    offset += 4;
  }
  if (spec.extension !== undefined) {
    view.setUint16(offset, spec.extension.profile);
    view.setUint16(offset + 2, spec.extension.data.length / 4);
    bytes.set(spec.extension.data, offset + 4);
    offset += extensionLength;
  }
  bytes.set(spec.payload, offset);
  if (padding > 0) bytes[bytes.length - 1] = padding;
  return bytes;
}

function padToWords(bytes: number[]): Uint8Array {
  while (bytes.length % 4 !== 0) bytes.push(0);
  return Uint8Array.from(bytes);
}

/** RFC 8285 §4.2: one-byte elements (id 1-14, 1-16 bytes of data), zero-padded to a word. */
export function oneByteExtension(elements: { id: number; data: Uint8Array }[]): RtpExtensionSpec {
  const bytes: number[] = [];
  for (const { id, data } of elements) bytes.push((id << 4) | (data.length - 1), ...data);
  return { profile: 0xbede, data: padToWords(bytes) };
}

/** RFC 8285 §4.3: two-byte elements (id 1-255, 0-255 bytes of data), zero-padded to a word. */
export function twoByteExtension(elements: { id: number; data: Uint8Array }[]): RtpExtensionSpec {
  const bytes: number[] = [];
  for (const { id, data } of elements) bytes.push(id, data.length, ...data);
  return { profile: 0x1000, data: padToWords(bytes) };
}

export interface RtpStreamOptions {
  ssrc: number;
  payloadType: number;
  sequenceNumber?: number;
  /** Largest RTP payload (descriptor included). */
  maxPayloadSize?: number;
}

/**
 * A VP8 sender's packetizer (RFC 7741 §4): every packet gets X = 1, I = 1 and a 15-bit PictureID
 * (as Chrome sends); the first packet of a frame has S = 1, PID = 0; the last has the marker bit.
 */
export class Vp8RtpStream {
  readonly ssrc: number;
  readonly #payloadType: number;
  readonly #maxPayloadSize: number;
  #sequenceNumber: number;
  #pictureId = 0;

  constructor({ ssrc, payloadType, sequenceNumber = 1000, maxPayloadSize = 1200 }: RtpStreamOptions) {
    this.ssrc = ssrc;
    this.#payloadType = payloadType;
    this.#sequenceNumber = sequenceNumber;
    this.#maxPayloadSize = maxPayloadSize;
  }

  /** The RTP packets of one encoded frame, in order. */
  packetize(frame: Uint8Array, timestamp: number): Uint8Array[] {
    const pictureId = this.#pictureId;
    this.#pictureId = (this.#pictureId + 1) & 0x7fff;
    const descriptorLength = 4;
    const chunk = this.#maxPayloadSize - descriptorLength;
    const packets: Uint8Array[] = [];
    for (let offset = 0; offset < frame.length || offset === 0; offset += chunk) {
      const part = frame.subarray(offset, offset + chunk);
      const payload = new Uint8Array(descriptorLength + part.length);
      // X=1, N=0, S=first, PID=0 | I=1 | M=1, PictureID (15 bits)
      payload.set([0x80 | (offset === 0 ? 0x10 : 0), 0x80, 0x80 | (pictureId >> 8), pictureId & 0xff]);
      payload.set(part, descriptorLength);
      packets.push(
        serializeRtpPacket({
          payloadType: this.#payloadType,
          sequenceNumber: this.#sequenceNumber,
          timestamp,
          ssrc: this.ssrc,
          marker: offset + chunk >= frame.length,
          payload,
        }),
      );
      this.#sequenceNumber = (this.#sequenceNumber + 1) & 0xffff;
    }
    return packets;
  }
}

/**
 * A VP9 sender's packetizer (RFC 9628 §4.2), one spatial layer: every packet has I = 1 (15-bit
 * picture ID), P = 0 on key frames, B on a frame's first packet and E on its last, which also has
 * the marker bit.
 */
export class Vp9RtpStream {
  readonly ssrc: number;
  readonly #payloadType: number;
  readonly #maxPayloadSize: number;
  #sequenceNumber: number;
  #pictureId = 0;

  constructor({ ssrc, payloadType, sequenceNumber = 1000, maxPayloadSize = 1200 }: RtpStreamOptions) {
    this.ssrc = ssrc;
    this.#payloadType = payloadType;
    this.#sequenceNumber = sequenceNumber;
    this.#maxPayloadSize = maxPayloadSize;
  }

  packetize(frame: Uint8Array, timestamp: number, keyframe: boolean): Uint8Array[] {
    const pictureId = this.#pictureId;
    this.#pictureId = (this.#pictureId + 1) & 0x7fff;
    const chunk = this.#maxPayloadSize - 3;
    const packets: Uint8Array[] = [];
    for (let offset = 0; offset < frame.length; offset += chunk) {
      const last = offset + chunk >= frame.length;
      const flags = 0x80 | (keyframe ? 0 : 0x40) | (offset === 0 ? 0x08 : 0) | (last ? 0x04 : 0);
      const payload = Uint8Array.from([
        flags,
        0x80 | (pictureId >> 8),
        pictureId & 0xff,
        ...frame.subarray(offset, offset + chunk),
      ]);
      packets.push(
        serializeRtpPacket({
          payloadType: this.#payloadType,
          sequenceNumber: this.#sequenceNumber,
          timestamp,
          ssrc: this.ssrc,
          marker: last,
          payload,
        }),
      );
      this.#sequenceNumber = (this.#sequenceNumber + 1) & 0xffff;
    }
    return packets;
  }
}

/**
 * An H.264 sender's packetizer, RFC 6184 packetization-mode 1, as libwebrtc packetizes: the Annex B
 * frame's NAL units (start codes dropped) go out as STAP-A when several small ones fit in one packet
 * (§5.7.1), as single NAL unit packets (§5.6), or as FU-A fragments when too large (§5.8). The last
 * packet of the frame has the marker bit.
 */
export class H264RtpStream {
  readonly ssrc: number;
  readonly #payloadType: number;
  readonly #maxPayloadSize: number;
  #sequenceNumber: number;

  constructor({ ssrc, payloadType, sequenceNumber = 1000, maxPayloadSize = 1200 }: RtpStreamOptions) {
    this.ssrc = ssrc;
    this.#payloadType = payloadType;
    this.#sequenceNumber = sequenceNumber;
    this.#maxPayloadSize = maxPayloadSize;
  }

  packetize(frame: Uint8Array, timestamp: number): Uint8Array[] {
    const payloads = this.#payloads(annexBNalUnits(frame));
    return payloads.map((payload, i) => {
      const packet = serializeRtpPacket({
        payloadType: this.#payloadType,
        sequenceNumber: this.#sequenceNumber,
        timestamp,
        ssrc: this.ssrc,
        marker: i === payloads.length - 1,
        payload,
      });
      this.#sequenceNumber = (this.#sequenceNumber + 1) & 0xffff;
      return packet;
    });
  }

  #payloads(units: Uint8Array[]): Uint8Array[] {
    const payloads: Uint8Array[] = [];
    let stap: Uint8Array[] = [];
    const flush = () => {
      if (stap.length === 1) payloads.push(stap[0]!);
      if (stap.length > 1) {
        const nri = Math.max(...stap.map((u) => u[0]! & 0x60));
        payloads.push(
          Uint8Array.from([nri | 24, ...stap.flatMap((u) => [u.length >> 8, u.length & 0xff, ...u])]),
        );
      }
      stap = [];
    };
    for (const unit of units) {
      const stapSize = 1 + [...stap, unit].reduce((n, u) => n + 2 + u.length, 0);
      if (stapSize <= this.#maxPayloadSize) {
        stap.push(unit);
        continue;
      }
      flush();
      if (unit.length <= this.#maxPayloadSize) {
        stap.push(unit);
        continue;
      }
      const chunk = this.#maxPayloadSize - 2;
      for (let offset = 1; offset < unit.length; offset += chunk) {
        const start = offset === 1 ? 0x80 : 0;
        const end = offset + chunk >= unit.length ? 0x40 : 0;
        payloads.push(
          Uint8Array.from([
            (unit[0]! & 0xe0) | 28,
            start | end | (unit[0]! & 0x1f),
            ...unit.subarray(offset, offset + chunk),
          ]),
        );
      }
    }
    flush();
    return payloads;
  }
}

/** The NAL units of an Annex B frame (ITU-T H.264 §B.2), without their start codes. */
export function annexBNalUnits(frame: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < frame.length; i++) {
    if (frame[i] === 0 && frame[i + 1] === 0 && frame[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((start, i) => {
    let end = i + 1 < starts.length ? starts[i + 1]! - 3 : frame.length;
    while (end > start && frame[end - 1] === 0) end--;
    return frame.subarray(start, end);
  });
}

/** An Opus sender's packetizer (RFC 7587 §4.2): one frame per packet, no descriptor. */
export class OpusRtpStream {
  readonly ssrc: number;
  readonly #payloadType: number;
  #sequenceNumber: number;

  constructor({ ssrc, payloadType, sequenceNumber = 2000 }: RtpStreamOptions) {
    this.ssrc = ssrc;
    this.#payloadType = payloadType;
    this.#sequenceNumber = sequenceNumber;
  }

  packetize(frame: Uint8Array, timestamp: number): Uint8Array {
    const packet = serializeRtpPacket({
      payloadType: this.#payloadType,
      sequenceNumber: this.#sequenceNumber,
      timestamp,
      ssrc: this.ssrc,
      payload: frame,
    });
    this.#sequenceNumber = (this.#sequenceNumber + 1) & 0xffff;
    return packet;
  }
}
