// Classic pcap files (audit/src/pcap.ts): the bytes written are checked field by field against
// the format (draft-ietf-opsawg-pcap, RFC 791, RFC 768) since no tshark runs here; files written in
// either byte order read back; other tools' files (nanoseconds, raw IP, Linux cooked, VLAN) read; what
// is not UDP is skipped and counted; a broken file throws a typed error; fuzzing finds nothing else.
import { describe, expect, it } from 'vitest';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_RAW,
  MAX_UDP_PAYLOAD,
  PcapFormatError,
  PcapWriter,
  ipv4HeaderChecksum,
  readPcap,
  writePcap,
  type PcapFormatReason,
  type UdpDatagram,
} from '../../../audit/src/pcap.ts';
import { prng } from '../../support/prng.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const fromHex = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

function datagram(i: number, size = 20 + i): UdpDatagram {
  return {
    timestampMicros: 1_700_000_000_000_000 + 20_000 * i + i,
    source: { address: '10.0.0.1', port: 40_000 + i },
    destination: { address: '192.168.1.200', port: 5004 },
    payload: Uint8Array.from({ length: size }, (_, j) => (i * 31 + j) & 0xff),
  };
}

/** A pcap file header in the given byte order, for files other tools write. */
function fileHeader({
  magic = 0xa1b2c3d4,
  major = 2,
  minor = 4,
  snaplen = 65535,
  linkType = LINKTYPE_ETHERNET,
  littleEndian = true,
} = {}): Uint8Array {
  const out = new Uint8Array(24);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, littleEndian);
  view.setUint16(4, major, littleEndian);
  view.setUint16(6, minor, littleEndian);
  view.setUint32(16, snaplen, littleEndian);
  view.setUint32(20, linkType, littleEndian);
  return out;
}

function record(
  frame: Uint8Array,
  { seconds = 1, fraction = 0, littleEndian = true, orig = frame.length } = {},
) {
  const out = new Uint8Array(16 + frame.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, seconds, littleEndian);
  view.setUint32(4, fraction, littleEndian);
  view.setUint32(8, frame.length, littleEndian);
  view.setUint32(12, orig, littleEndian);
  out.set(frame, 16);
  return out;
}

const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** The IPv4 + UDP part of a record the writer made with LINKTYPE_ETHERNET. */
const ipOf = (file: Uint8Array, recordOffset = 24) => file.subarray(recordOffset + 16 + 14);

describe('PcapWriter: the bytes on disk', () => {
  it('writes the 24-byte file header: magic a1b2c3d4, version 2.4, SnapLen 262144, LinkType', () => {
    expect(hex(new PcapWriter().fileHeader)).toBe(
      'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '01000000',
    );
    expect(hex(new PcapWriter({ littleEndian: false, linkType: LINKTYPE_RAW }).fileHeader)).toBe(
      'a1b2c3d4' + '0002' + '0004' + '00000000' + '00000000' + '00040000' + '00000065',
    );
    expect(() => new PcapWriter({ linkType: 113 as 1 })).toThrow(TypeError);
  });

  it('writes a record: timestamp, lengths, Ethernet II, IPv4 with its checksum, UDP with checksum 0', () => {
    const payload = fromHex('80 60 03 e8 00 00 0b b8 00 00 11 11 de ad be ef');
    const file = writePcap([
      {
        timestampMicros: 1_700_000_000_123_456,
        source: { address: '10.1.2.3', port: 40000 },
        destination: { address: '127.0.0.1', port: 5004 },
        payload,
      },
    ]);
    expect(file.length).toBe(24 + 16 + 14 + 20 + 8 + 16);
    expect(hex(file.subarray(24, 40))).toBe(
      // 1700000000 = 0x6553f100, 123456 = 0x0001e240, little-endian; captured = original = 14+20+8+16 = 0x3a
      '00f15365' + '40e20100' + '3a000000' + '3a000000',
    );
    expect(hex(file.subarray(40, 54))).toBe('020000000002' + '020000000001' + '0800');
    const ip = ipOf(file);
    expect(hex(ip.subarray(0, 20))).toBe(
      '45' +
        '00' +
        '002c' +
        '0000' +
        '4000' +
        '40' +
        '11' +
        hex(ip.subarray(10, 12)) +
        '0a010203' +
        '7f000001',
    );
    expect(ip[2]! * 256 + ip[3]!).toBe(20 + 8 + 16); // total length
    // A correct header checksum makes the ones' complement sum of the whole header 0xffff (checksum 0).
    expect(ipv4HeaderChecksum(ip.subarray(0, 20))).toBe(0);
    expect(hex(ip.subarray(20, 28))).toBe('9c40' + '138c' + '0018' + '0000'); // ports, length 24, checksum 0
    expect(hex(ip.subarray(28))).toBe(hex(payload));
  });

  it('computes the IPv4 header checksum of a known header (0xb861)', () => {
    const header = fromHex('45 00 00 73 00 00 40 00 40 11 00 00 c0 a8 00 01 c0 a8 00 c7');
    expect(ipv4HeaderChecksum(header).toString(16)).toBe('b861');
  });

  it('numbers IPv4 datagrams with a wrapping Identification', () => {
    const writer = new PcapWriter({ linkType: LINKTYPE_RAW });
    const ids = Array.from({ length: 3 }, (_, i) => {
      const rec = writer.record(datagram(i));
      return rec[16 + 4]! * 256 + rec[16 + 5]!;
    });
    expect(ids).toEqual([0, 1, 2]);
  });

  it('writes LINKTYPE_RAW records with the IPv4 header first', () => {
    const file = writePcap([datagram(0)], { linkType: LINKTYPE_RAW });
    expect(file[24 + 16]).toBe(0x45);
    expect(file.length).toBe(24 + 16 + 20 + 8 + 20);
  });

  it('refuses what cannot be written', () => {
    const writer = new PcapWriter();
    const ok = datagram(0);
    expect(() => writer.record({ ...ok, source: { address: '10.0.0', port: 1 } })).toThrow(TypeError);
    expect(() => writer.record({ ...ok, source: { address: '10.0.0.256', port: 1 } })).toThrow(TypeError);
    expect(() => writer.record({ ...ok, source: { address: '::1', port: 1 } })).toThrow(TypeError);
    expect(() => writer.record({ ...ok, destination: { address: '1.2.3.4', port: 65536 } })).toThrow(
      TypeError,
    );
    expect(() => writer.record({ ...ok, timestampMicros: -1 })).toThrow(TypeError);
    expect(() => writer.record({ ...ok, timestampMicros: 1.5 })).toThrow(TypeError);
    expect(() => writer.record({ ...ok, payload: new Uint8Array(MAX_UDP_PAYLOAD + 1) })).toThrow(RangeError);
    expect(writer.record({ ...ok, payload: new Uint8Array(MAX_UDP_PAYLOAD) }).length).toBe(16 + 14 + 0xffff);
  });
});

describe('readPcap', () => {
  it('round-trips datagrams in both byte orders and both writable link types', () => {
    const datagrams = Array.from({ length: 50 }, (_, i) => datagram(i, i === 7 ? 0 : 20 + 37 * i));
    for (const littleEndian of [true, false]) {
      for (const linkType of [LINKTYPE_ETHERNET, LINKTYPE_RAW] as const) {
        const capture = readPcap(writePcap(datagrams, { littleEndian, linkType }));
        expect(capture).toMatchObject({
          byteOrder: littleEndian ? 'little-endian' : 'big-endian',
          resolution: 'microseconds',
          version: { major: 2, minor: 4 },
          snaplen: 262_144,
          linkType,
          records: 50,
          skipped: {},
        });
        expect(
          capture.packets.map(({ number, timestampMicros, source, destination, payload }) => ({
            number,
            timestampMicros,
            source,
            destination,
            payload: [...payload],
          })),
        ).toEqual(datagrams.map((d, i) => ({ ...d, number: i + 1, payload: [...d.payload] })));
      }
    }
  });

  it('reads an empty capture (a file header and no records)', () => {
    expect(readPcap(new PcapWriter().fileHeader)).toMatchObject({ records: 0, packets: [] });
  });

  it('reads nanosecond files, Linux cooked captures, 802.1Q tags and Ethernet padding', () => {
    const ip = ipOf(writePcap([datagram(3, 5)]));
    const vlan = concat(fromHex('020000000002 020000000001 8100 0064 0800'), ip, new Uint8Array(4));
    const sll = concat(fromHex('0000 0304 0006 000000000000 0000 0800'), ip);
    const nano = concat(
      fileHeader({ magic: 0xa1b23c4d, littleEndian: false }),
      record(vlan, { seconds: 2, fraction: 123_456_789, littleEndian: false }),
    );
    expect(readPcap(nano)).toMatchObject({
      resolution: 'nanoseconds',
      byteOrder: 'big-endian',
      packets: [{ number: 1, timestampMicros: 2_123_456, destination: { port: 5004 } }],
    });
    expect([...readPcap(nano).packets[0]!.payload]).toEqual([...datagram(3, 5).payload]);
    const cooked = concat(fileHeader({ linkType: LINKTYPE_LINUX_SLL }), record(sll));
    expect(readPcap(cooked).packets).toMatchObject([{ source: { address: '10.0.0.1', port: 40_003 } }]);
  });

  it('reads UDP over IPv6', () => {
    const udp = fromHex('1388 138c 000b 0000 616263');
    const ipv6 = concat(
      fromHex('60000000 000b 11 40'),
      fromHex('20010db8000000000000000000000001'),
      fromHex('20010db8000000000000000000000002'),
      udp,
    );
    const file = concat(fileHeader({ linkType: LINKTYPE_RAW }), record(ipv6));
    expect(readPcap(file).packets).toMatchObject([
      {
        source: { address: '2001:db8:0:0:0:0:0:1', port: 5000 },
        destination: { address: '2001:db8:0:0:0:0:0:2', port: 5004 },
      },
    ]);
  });

  it('skips and counts what is not a whole UDP datagram; numbers keep counting records', () => {
    const good = ipOf(writePcap([datagram(1)]));
    const eth = (etherType: string, body: Uint8Array) =>
      concat(fromHex('020000000002 020000000001' + etherType), body);
    const withByte = (bytes: Uint8Array, at: number, value: number) => {
      const copy = bytes.slice();
      copy[at] = value;
      return copy;
    };
    const tcp = withByte(good, 9, 6);
    const fragment = withByte(good, 6, 0x20); // More Fragments
    const badIhl = withByte(good, 0, 0x44);
    const badUdpLength = withByte(withByte(good, 20 + 4, 0), 20 + 5, 4);
    const frames = [
      eth('0800', good),
      eth('0806', new Uint8Array(28)), // ARP
      eth('0800', tcp),
      eth('0800', fragment),
      eth('0800', good.subarray(0, 30)), // cut by a snap length of 44
      eth('0800', badIhl),
      eth('0800', badUdpLength),
      eth('0800', good.subarray(0, 10)),
      new Uint8Array(6),
      eth('0800', good),
    ];
    const capture = readPcap(concat(fileHeader(), ...frames.map((f) => record(f))));
    expect(capture.records).toBe(10);
    expect(capture.packets.map((p) => p.number)).toEqual([1, 10]);
    expect(capture.skipped).toEqual({
      'not-ip': 1,
      'not-udp': 1,
      'ip-fragment': 1,
      truncated: 3,
      'bad-header': 2,
    });
  });

  const header = new PcapWriter().fileHeader;
  const oneRecord = writePcap([datagram(0)]);
  const errors: [string, Uint8Array, PcapFormatReason, RegExp][] = [
    ['an empty file', new Uint8Array(0), 'truncated-header', /too short/],
    [
      'text',
      new TextEncoder().encode('hello, this is not a capture'),
      'bad-magic',
      /not a pcap file \(magic 0x68656c6c\)/,
    ],
    ['pcapng', fromHex('0a0d0d0a 1c000000 4d3c2b1a 0100 0000'), 'bad-magic', /pcapng.*editcap/],
    ['a cut file header', header.subarray(0, 20), 'truncated-header', /cut off after 20 of 24/],
    ['version 1.0', fileHeader({ major: 1, minor: 0 }), 'unsupported-version', /version 1\.0/],
    ['LinkType 105 (802.11)', fileHeader({ linkType: 105 }), 'unsupported-link-type', /LinkType 105/],
    ['a cut record header', oneRecord.subarray(0, 24 + 10), 'truncated-record', /record 1: its header/],
    [
      'cut record data',
      oneRecord.subarray(0, oneRecord.length - 1),
      'truncated-record',
      /record 1: 62 bytes announced, 61 left/,
    ],
    [
      'a record above the SnapLen',
      concat(fileHeader({ snaplen: 64 }), record(new Uint8Array(65))),
      'snaplen-overflow',
      /65 captured bytes exceed the snap length 64/,
    ],
    [
      'a record above 256 KiB',
      concat(
        fileHeader({ snaplen: 0xffffffff }),
        record(new Uint8Array(0)).map((b, i) => (i === 10 ? 0x10 : b)),
      ),
      'snaplen-overflow',
      /1048576 captured bytes/,
    ],
  ];
  it.each(errors)('refuses %s with a typed error', (_what, bytes, code, message) => {
    let thrown: unknown;
    try {
      readPcap(bytes);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PcapFormatError);
    expect(thrown).toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('throws TypeError only for a non-Uint8Array argument', () => {
    expect(() => readPcap('d4c3b2a1' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('readPcap fuzzing', () => {
  it('mutated and random files either read or throw PcapFormatError (5 000 inputs)', () => {
    const next = prng(0xca97);
    const seeds = [
      writePcap(
        Array.from({ length: 6 }, (_, i) => datagram(i, 30)),
        { littleEndian: true },
      ),
      writePcap(
        Array.from({ length: 6 }, (_, i) => datagram(i, 30)),
        { linkType: LINKTYPE_RAW, littleEndian: false },
      ),
    ];
    let read = 0;
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      let input: Uint8Array;
      if (i % 10 === 0) {
        input = Uint8Array.from({ length: next() % 200 }, () => next() & 0xff);
      } else {
        input = seeds[i % 2]!.slice();
        for (let m = 1 + (next() % 4); m > 0; m--) {
          const at = next() % input.length;
          if (next() % 5 === 0) input = input.subarray(0, at);
          else input[at] = next() & 0xff;
          if (input.length === 0) break;
        }
      }
      try {
        const capture = readPcap(input);
        read++;
        expect(capture.packets.length + Object.values(capture.skipped).reduce((a, b) => a + b, 0)).toBe(
          capture.records,
        );
        for (const p of capture.packets) {
          expect(p.payload.byteOffset + p.payload.length).toBeLessThanOrEqual(
            input.byteOffset + input.length,
          );
        }
      } catch (error) {
        if (!(error instanceof PcapFormatError)) throw error;
        refused++;
      }
    }
    expect(read).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(100);
  });
});
