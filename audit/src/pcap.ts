// Classic libpcap capture files (draft-ietf-opsawg-pcap, "PCAP Capture File Format"; the format of
// tcpdump -w and Wireshark's "Wireshark/tcpdump - pcap"), holding UDP datagrams:
//
//   file header (24 bytes):  magic | major 2 | minor 4 | reserved1 | reserved2 | SnapLen | LinkType
//   per packet (16 bytes):   seconds | microseconds (nanoseconds) | captured length | original length
//                            then the captured bytes of the link-layer frame
//
// Writing: microsecond resolution (magic a1b2c3d4), LINKTYPE_ETHERNET by default (or LINKTYPE_RAW),
// and for each datagram a synthesized Ethernet II + IPv4 + UDP header (RFC 894, RFC 791, RFC 768)
// with correct lengths and IPv4 header checksum; the UDP checksum is 0 ("not computed", which
// RFC 768 allows over IPv4). Wireshark and tshark decode such files as UDP, and as RTP with
// "Decode As… RTP" or `-d udp.port==<port>,rtp`.
//
// Reading: both byte orders, micro- and nanosecond magics, link types Ethernet (with one 802.1Q tag),
// raw IP, IPv4, IPv6, Linux cooked (SLL) and BSD loopback. Anything that is not a complete, unfragmented
// UDP datagram over IPv4 or IPv6 (ARP, TCP, ICMP, fragments, packets cut by the snap length) is
// skipped and counted by reason, never fatal. A file that breaks the format itself throws
// PcapFormatError. Payloads are views into the input, never copies.
import { ReasonedError } from '@conclave/common/errors';
import { concatBytes } from '@conclave/crypto-worker/sframe/wire';

/** BSD loopback: a 4-byte address family in host order (LinkType values: https://www.tcpdump.org/linktypes.html). */
export const LINKTYPE_NULL = 0;
/** Ethernet II frames (what this writer writes by default). */
export const LINKTYPE_ETHERNET = 1;
/** Raw IPv4 or IPv6 packets, no link-layer header. */
export const LINKTYPE_RAW = 101;
/** OpenBSD loopback: a 4-byte address family before the IP packet. */
export const LINKTYPE_LOOP = 108;
/** Linux cooked capture (tcpdump -i any): a 16-byte SLL header. */
export const LINKTYPE_LINUX_SLL = 113;
/** IPv4 packets, no link-layer header. */
export const LINKTYPE_IPV4 = 228;
/** IPv6 packets, no link-layer header. */
export const LINKTYPE_IPV6 = 229;

/** The magic of a pcap file with microsecond timestamps (in the file's byte order). */
export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
/** The magic of a pcap file with nanosecond timestamps. */
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
/** The first four bytes of a pcapng Section Header Block, in either byte order. */
const PCAPNG_MAGIC = 0x0a0d0d0a;
const FILE_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;
/** libpcap's MAXIMUM_SNAPLEN: no record is larger; also the SnapLen this writer declares. */
export const MAX_SNAPLEN = 262_144;

const ETHERNET_HEADER_LENGTH = 14;
const IPV4_HEADER_LENGTH = 20;
const IPV6_HEADER_LENGTH = 40;
const UDP_HEADER_LENGTH = 8;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const IP_PROTOCOL_UDP = 17;
/** IPv4 total length is 16 bits: what is left for a UDP payload. */
export const MAX_UDP_PAYLOAD = 0xffff - IPV4_HEADER_LENGTH - UDP_HEADER_LENGTH;

/** How a file breaks the pcap format: the `code` of a PcapFormatError. */
export type PcapFormatReason =
  /** Not a pcap file: the first four bytes are no pcap magic (pcapng is named in the message). */
  | 'bad-magic'
  /** Shorter than the 24-byte file header. */
  | 'truncated-header'
  /** A version other than 2.x. */
  | 'unsupported-version'
  /** A LinkType this reader does not decode. */
  | 'unsupported-link-type'
  /** A record header, or the captured bytes it announces, run past the end of the file. */
  | 'truncated-record'
  /** A record larger than the file's SnapLen (or than 256 KiB). */
  | 'snaplen-overflow';

/** A file that is not pcap, or breaks the format itself; `code` says how, `offset` where. */
export class PcapFormatError extends ReasonedError<PcapFormatReason> {
  override readonly name = 'PcapFormatError';
  /** Byte offset in the file where the problem was found. */
  readonly offset: number;

  /**
   * @param code how the file breaks the format
   * @param message what was found, for people
   * @param offset byte offset in the file where it was found
   */
  constructor(code: PcapFormatReason, message: string, offset: number) {
    super(code, message);
    this.offset = offset;
  }
}

/** Why a well-formed record was not returned as a UDP datagram. */
export type PcapSkipReason =
  /** A link-layer frame carrying neither IPv4 nor IPv6 (ARP, LLDP, …). */
  | 'not-ip'
  /** IP carrying another protocol (TCP, ICMP, or an IPv6 extension header). */
  | 'not-udp'
  /** An IPv4 fragment: the datagram is not whole in this record. */
  | 'ip-fragment'
  /** Fewer bytes captured than the link, IP or UDP headers announce (cut by the snap length). */
  | 'truncated'
  /** An IP or UDP header whose fields contradict each other (IHL < 5, UDP length < 8, …). */
  | 'bad-header';

/** An IP address and UDP port. */
export interface UdpEndpoint {
  /** Dotted quad for IPv4; eight colon-separated hex groups for IPv6. */
  address: string;
  port: number;
}

/** One UDP datagram read from a pcap file. */
export interface PcapUdpPacket {
  /** 1-based position of the record in the file: Wireshark's frame number. */
  number: number;
  /** Capture time in microseconds since the Unix epoch (nanosecond files are truncated). */
  timestampMicros: number;
  source: UdpEndpoint;
  destination: UdpEndpoint;
  /** The UDP payload. */
  payload: Uint8Array;
}

/** What readPcap read: the file header's fields, the UDP datagrams, and what was skipped. */
export interface PcapCapture {
  byteOrder: 'little-endian' | 'big-endian';
  resolution: 'microseconds' | 'nanoseconds';
  version: { major: number; minor: number };
  snaplen: number;
  linkType: number;
  /** Records in the file. */
  records: number;
  packets: PcapUdpPacket[];
  /** Records skipped, by reason (only reasons that occurred are present). */
  skipped: Partial<Record<PcapSkipReason, number>>;
}

/** One UDP datagram to write into a pcap file. */
export interface UdpDatagram {
  /** Microseconds since the Unix epoch; a non-negative safe integer. */
  timestampMicros: number;
  /** IPv4 endpoints. */
  source: UdpEndpoint;
  destination: UdpEndpoint;
  payload: Uint8Array;
}

/** How a PcapWriter lays out its file. */
export interface PcapWriterOptions {
  /** LINKTYPE_ETHERNET (default) or LINKTYPE_RAW. */
  linkType?: typeof LINKTYPE_ETHERNET | typeof LINKTYPE_RAW;
  /** Byte order of the file's own fields; default little-endian (what x86 tcpdump writes). */
  littleEndian?: boolean;
}

/** RFC 791 §3.1 / RFC 1071: the ones' complement of the ones' complement sum of the header's 16-bit words. */
export function ipv4HeaderChecksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < header.length; i += 2) sum += ((header[i] ?? 0) << 8) | (header[i + 1] ?? 0);
  if (header.length % 2 === 1) sum += (header[header.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function parseIpv4Address(address: string): number[] {
  const parts = address.split('.');
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  if (bytes.length !== 4 || bytes.some((b) => !(b >= 0 && b <= 255))) {
    throw new TypeError(`${JSON.stringify(address)} is not an IPv4 address`);
  }
  return bytes;
}

function assertPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new TypeError(`bad UDP port ${port}`);
}

/**
 * Writes a classic pcap file one piece at a time: `fileHeader` once, then `record()` per datagram
 * (for a capture that streams to disk), or everything at once with `writePcap`.
 */
export class PcapWriter {
  readonly linkType: number;
  readonly littleEndian: boolean;
  /** The 24-byte file header. */
  readonly fileHeader: Uint8Array;
  /** IPv4 Identification of the next datagram (RFC 6864: unique per source while in flight). */
  #identification = 0;

  constructor({ linkType = LINKTYPE_ETHERNET, littleEndian = true }: PcapWriterOptions = {}) {
    if (linkType !== LINKTYPE_ETHERNET && linkType !== LINKTYPE_RAW) {
      throw new TypeError(
        `the writer supports LINKTYPE_ETHERNET (1) and LINKTYPE_RAW (101), not ${linkType}`,
      );
    }
    this.linkType = linkType;
    this.littleEndian = littleEndian;
    this.fileHeader = new Uint8Array(FILE_HEADER_LENGTH);
    const view = new DataView(this.fileHeader.buffer);
    view.setUint32(0, PCAP_MAGIC_MICROSECONDS, littleEndian);
    view.setUint16(4, 2, littleEndian);
    view.setUint16(6, 4, littleEndian);
    view.setInt32(8, 0, littleEndian); // reserved1 (was thiszone)
    view.setUint32(12, 0, littleEndian); // reserved2 (was sigfigs)
    view.setUint32(16, MAX_SNAPLEN, littleEndian);
    view.setUint32(20, linkType, littleEndian);
  }

  /** One record: its 16-byte header and the link-layer frame carrying the datagram. */
  record({ timestampMicros, source, destination, payload }: UdpDatagram): Uint8Array {
    if (!Number.isSafeInteger(timestampMicros) || timestampMicros < 0) {
      throw new TypeError(`bad timestamp ${timestampMicros}`);
    }
    const seconds = Math.floor(timestampMicros / 1e6);
    if (seconds > 0xffff_ffff) throw new TypeError('timestamps after 2106 do not fit a pcap record');
    if (!(payload instanceof Uint8Array)) throw new TypeError('a UDP payload must be a Uint8Array');
    if (payload.length > MAX_UDP_PAYLOAD) {
      throw new RangeError(`a UDP payload of ${payload.length} bytes does not fit an IPv4 datagram`);
    }
    const sourceAddress = parseIpv4Address(source.address);
    const destinationAddress = parseIpv4Address(destination.address);
    assertPort(source.port);
    assertPort(destination.port);

    const link = this.linkType === LINKTYPE_ETHERNET ? ETHERNET_HEADER_LENGTH : 0;
    const ipLength = IPV4_HEADER_LENGTH + UDP_HEADER_LENGTH + payload.length;
    const frameLength = link + ipLength;
    const out = new Uint8Array(RECORD_HEADER_LENGTH + frameLength);
    const view = new DataView(out.buffer);
    view.setUint32(0, seconds, this.littleEndian);
    view.setUint32(4, timestampMicros - seconds * 1e6, this.littleEndian);
    view.setUint32(8, frameLength, this.littleEndian);
    view.setUint32(12, frameLength, this.littleEndian);

    let offset = RECORD_HEADER_LENGTH;
    if (link > 0) {
      // Ethernet II: locally administered unicast MACs (02:…), EtherType IPv4.
      out.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01], offset);
      view.setUint16(offset + 12, ETHERTYPE_IPV4);
      offset += ETHERNET_HEADER_LENGTH;
    }
    // RFC 791 §3.1: version 4, IHL 5, no options; Don't Fragment; TTL 64; protocol UDP.
    const ip = offset;
    out[ip] = 0x45;
    out[ip + 1] = 0;
    view.setUint16(ip + 2, ipLength);
    view.setUint16(ip + 4, this.#identification);
    this.#identification = (this.#identification + 1) & 0xffff;
    view.setUint16(ip + 6, 0x4000);
    out[ip + 8] = 64;
    out[ip + 9] = IP_PROTOCOL_UDP;
    out.set(sourceAddress, ip + 12);
    out.set(destinationAddress, ip + 16);
    view.setUint16(ip + 10, ipv4HeaderChecksum(out.subarray(ip, ip + IPV4_HEADER_LENGTH)));
    // RFC 768: ports, length (header included), checksum 0 = not computed.
    const udp = ip + IPV4_HEADER_LENGTH;
    view.setUint16(udp, source.port);
    view.setUint16(udp + 2, destination.port);
    view.setUint16(udp + 4, UDP_HEADER_LENGTH + payload.length);
    view.setUint16(udp + 6, 0);
    out.set(payload, udp + UDP_HEADER_LENGTH);
    return out;
  }
}

/**
 * A whole pcap file holding the datagrams in order.
 * @param datagrams what to write (IPv4 endpoints, microsecond timestamps)
 * @param options link type and byte order
 * @throws TypeError or RangeError for a datagram that cannot be written (bad address, port, time, size)
 * @example fs.writeFileSync('x.pcap', writePcap([{ timestampMicros, source, destination, payload }]));
 */
export function writePcap(datagrams: Iterable<UdpDatagram>, options?: PcapWriterOptions): Uint8Array {
  const writer = new PcapWriter(options);
  const records = Array.from(datagrams, (datagram) => writer.record(datagram));
  return concatBytes(writer.fileHeader, ...records);
}

type Decoded = { ok: true; source: UdpEndpoint; destination: UdpEndpoint; payload: Uint8Array } | PcapSkip;
type PcapSkip = { ok: false; reason: PcapSkipReason };

const skip = (reason: PcapSkipReason): PcapSkip => ({ ok: false, reason });

function ipv6Address(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

/** The UDP header at the start of `bytes` (what the IP layer says is its payload). RFC 768. */
function decodeUdp(bytes: Uint8Array, source: string, destination: string): Decoded {
  if (bytes.length < UDP_HEADER_LENGTH) return skip('truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint16(4);
  if (length < UDP_HEADER_LENGTH || length > bytes.length) return skip('bad-header');
  return {
    ok: true,
    source: { address: source, port: view.getUint16(0) },
    destination: { address: destination, port: view.getUint16(2) },
    payload: bytes.subarray(UDP_HEADER_LENGTH, length),
  };
}

/** RFC 791 §3.1. `bytes` is everything captured from the IP header on. */
function decodeIpv4(bytes: Uint8Array): Decoded {
  if (bytes.length < IPV4_HEADER_LENGTH) return skip('truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = 4 * ((bytes[0] ?? 0) & 0x0f);
  const totalLength = view.getUint16(2);
  if (headerLength < IPV4_HEADER_LENGTH || totalLength < headerLength) return skip('bad-header');
  // More bytes than the total length are link-layer padding (short Ethernet frames); fewer are a cut.
  if (totalLength > bytes.length) return skip('truncated');
  const flagsAndOffset = view.getUint16(6);
  if ((flagsAndOffset & 0x2000) !== 0 || (flagsAndOffset & 0x1fff) !== 0) return skip('ip-fragment');
  if (bytes[9] !== IP_PROTOCOL_UDP) return skip('not-udp');
  return decodeUdp(
    bytes.subarray(headerLength, totalLength),
    [...bytes.subarray(12, 16)].join('.'),
    [...bytes.subarray(16, 20)].join('.'),
  );
}

/** RFC 8200 §3. Extension headers are not followed: a datagram behind one counts as not UDP. */
function decodeIpv6(bytes: Uint8Array): Decoded {
  if (bytes.length < IPV6_HEADER_LENGTH) return skip('truncated');
  const payloadLength = ((bytes[4] ?? 0) << 8) | (bytes[5] ?? 0);
  if (IPV6_HEADER_LENGTH + payloadLength > bytes.length) return skip('truncated');
  if (bytes[6] !== IP_PROTOCOL_UDP) return skip('not-udp');
  return decodeUdp(
    bytes.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength),
    ipv6Address(bytes.subarray(8, 24)),
    ipv6Address(bytes.subarray(24, 40)),
  );
}

/** Raw IP: the version nibble says which. */
function decodeIp(bytes: Uint8Array): Decoded {
  if (bytes.length === 0) return skip('truncated');
  const version = (bytes[0] ?? 0) >> 4;
  if (version === 4) return decodeIpv4(bytes);
  if (version === 6) return decodeIpv6(bytes);
  return skip('not-ip');
}

function decodeByEtherType(etherType: number, bytes: Uint8Array): Decoded {
  if (etherType === ETHERTYPE_IPV4) return decodeIpv4(bytes);
  if (etherType === ETHERTYPE_IPV6) return decodeIpv6(bytes);
  return skip('not-ip');
}

function decodeEthernet(frame: Uint8Array): Decoded {
  if (frame.length < ETHERNET_HEADER_LENGTH) return skip('truncated');
  let etherType = ((frame[12] ?? 0) << 8) | (frame[13] ?? 0);
  let offset = ETHERNET_HEADER_LENGTH;
  if (etherType === ETHERTYPE_VLAN) {
    // IEEE 802.1Q: a 4-byte tag (TPID 8100, TCI) before the real EtherType.
    if (frame.length < offset + 4) return skip('truncated');
    etherType = ((frame[16] ?? 0) << 8) | (frame[17] ?? 0);
    offset += 4;
  }
  return decodeByEtherType(etherType, frame.subarray(offset));
}

function decodeFrame(linkType: number, frame: Uint8Array): Decoded {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return decodeEthernet(frame);
    case LINKTYPE_RAW:
      return decodeIp(frame);
    case LINKTYPE_IPV4:
      return decodeIpv4(frame);
    case LINKTYPE_IPV6:
      return decodeIpv6(frame);
    case LINKTYPE_LINUX_SLL:
      // 16-byte Linux cooked header; the protocol (an EtherType) in its last two bytes.
      if (frame.length < 16) return skip('truncated');
      return decodeByEtherType(((frame[14] ?? 0) << 8) | (frame[15] ?? 0), frame.subarray(16));
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      // A 4-byte address family (host or network order); the IP version nibble is simpler to trust.
      if (frame.length < 4) return skip('truncated');
      return decodeIp(frame.subarray(4));
    default:
      return skip('not-ip');
  }
}

const READABLE_LINK_TYPES = new Set([
  LINKTYPE_NULL,
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_LOOP,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
]);

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/**
 * Reads a classic pcap file and returns its UDP datagrams. Throws PcapFormatError for a file that
 * is not pcap or breaks its format; only a non-Uint8Array argument throws a TypeError.
 * @param bytes the whole file
 * @returns the header's fields, the UDP datagrams (payloads are views into `bytes`) and what was skipped
 * @throws PcapFormatError with the `code` and byte `offset` of the problem
 * @example const { packets } = readPcap(new Uint8Array(fs.readFileSync('room.pcap')));
 */
export function readPcap(bytes: Uint8Array): PcapCapture {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('a pcap file must be a Uint8Array');
  if (bytes.length < 4) {
    throw new PcapFormatError('truncated-header', `${bytes.length} bytes is too short for a pcap file`, 0);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const big = view.getUint32(0, false);
  const little = view.getUint32(0, true);
  let littleEndian: boolean;
  let resolution: PcapCapture['resolution'];
  if (big === PCAP_MAGIC_MICROSECONDS || big === PCAP_MAGIC_NANOSECONDS) {
    littleEndian = false;
    resolution = big === PCAP_MAGIC_MICROSECONDS ? 'microseconds' : 'nanoseconds';
  } else if (little === PCAP_MAGIC_MICROSECONDS || little === PCAP_MAGIC_NANOSECONDS) {
    littleEndian = true;
    resolution = little === PCAP_MAGIC_MICROSECONDS ? 'microseconds' : 'nanoseconds';
  } else if (big === PCAPNG_MAGIC) {
    throw new PcapFormatError(
      'bad-magic',
      'this is a pcapng file; convert it to pcap first (editcap -F pcap in.pcapng out.pcap)',
      0,
    );
  } else {
    throw new PcapFormatError('bad-magic', `not a pcap file (magic ${hex32(big)})`, 0);
  }
  if (bytes.length < FILE_HEADER_LENGTH) {
    throw new PcapFormatError(
      'truncated-header',
      `the file header is cut off after ${bytes.length} of ${FILE_HEADER_LENGTH} bytes`,
      0,
    );
  }
  const major = view.getUint16(4, littleEndian);
  const minor = view.getUint16(6, littleEndian);
  if (major !== 2) {
    throw new PcapFormatError('unsupported-version', `pcap version ${major}.${minor}, not 2.x`, 4);
  }
  const snaplen = view.getUint32(16, littleEndian);
  // The low 16 bits are the LinkType; the high bits may carry FCS information (not needed here).
  const linkType = view.getUint32(20, littleEndian) & 0xffff;
  if (!READABLE_LINK_TYPES.has(linkType)) {
    throw new PcapFormatError('unsupported-link-type', `LinkType ${linkType} is not decoded`, 20);
  }
  const limit = snaplen === 0 ? MAX_SNAPLEN : Math.min(snaplen, MAX_SNAPLEN);

  const packets: PcapUdpPacket[] = [];
  const skipped: PcapCapture['skipped'] = {};
  let offset = FILE_HEADER_LENGTH;
  let records = 0;
  while (offset < bytes.length) {
    const number = records + 1;
    if (offset + RECORD_HEADER_LENGTH > bytes.length) {
      throw new PcapFormatError(
        'truncated-record',
        `record ${number}: its header is cut off by the end of the file`,
        offset,
      );
    }
    const seconds = view.getUint32(offset, littleEndian);
    const fraction = view.getUint32(offset + 4, littleEndian);
    const captured = view.getUint32(offset + 8, littleEndian);
    if (captured > limit) {
      throw new PcapFormatError(
        'snaplen-overflow',
        `record ${number}: ${captured} captured bytes exceed the snap length ${limit}`,
        offset + 8,
      );
    }
    const start = offset + RECORD_HEADER_LENGTH;
    if (start + captured > bytes.length) {
      throw new PcapFormatError(
        'truncated-record',
        `record ${number}: ${captured} bytes announced, ${bytes.length - start} left in the file`,
        offset + 8,
      );
    }
    records++;
    offset = start + captured;
    const decoded = decodeFrame(linkType, bytes.subarray(start, start + captured));
    if (!decoded.ok) {
      skipped[decoded.reason] = (skipped[decoded.reason] ?? 0) + 1;
      continue;
    }
    const micros = resolution === 'microseconds' ? fraction : Math.floor(fraction / 1000);
    packets.push({
      number,
      timestampMicros: seconds * 1e6 + micros,
      source: decoded.source,
      destination: decoded.destination,
      payload: decoded.payload,
    });
  }
  return {
    byteOrder: littleEndian ? 'little-endian' : 'big-endian',
    resolution,
    version: { major, minor },
    snaplen,
    linkType,
    records,
    packets,
    skipped,
  };
}
