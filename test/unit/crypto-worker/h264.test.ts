// H.264 with NAL-unit-aware SFrame (crypto-worker/README.md, "H.264"): emulation prevention, Annex B
// splitting, the clear slice-header start, and the frame layout, on real libx264 frames
// (test/fixtures/codec) and on seeded random NAL unit streams. Properties: every frame round-trips
// byte for byte; the wire form has the same NAL units with the same header bytes; no encrypted byte
// forms a start code; any change to a clear byte, a header, a boundary or the ciphertext is refused.
import { describe, expect, it } from 'vitest';
import { nalUnitType, splitAnnexB } from '../../../crypto-worker/src/h264/annexB.ts';
import { clearLength } from '../../../crypto-worker/src/h264/clearParts.ts';
import {
  insertEmulationPrevention,
  removeEmulationPrevention,
} from '../../../crypto-worker/src/h264/emulationPrevention.ts';
import { TRAILER, openH264Frame, sealH264Frame } from '../../../crypto-worker/src/h264/h264Frame.ts';
import { parseSliceHeaderStart } from '../../../crypto-worker/src/h264/sliceHeader.ts';
import type { TransformOptions, WorkerEvent } from '../../../crypto-worker/src/protocol.ts';
import { CryptoWorkerService } from '../../../crypto-worker/src/service.ts';
import type { EncodedFrameLike } from '../../../crypto-worker/src/transform.ts';
import { readH264AccessUnits } from '../../support/codecFixtures.ts';
import { prng } from '../../support/prng.ts';
import { ReceiverKeyRing, SFrameError, SenderContext, decodeHeader } from './sframeTestApi.ts';

const KID = 0x31n;
const baseKey = new Uint8Array(16).fill(7);
const accessUnits = readH264AccessUnits();

async function keys(suite = 4) {
  const sender = new SenderContext(suite);
  await sender.setKey(KID, baseKey);
  const ring = new ReceiverKeyRing(suite);
  await ring.addKey(KID, baseKey);
  const seal = async (frame: Uint8Array) =>
    (await sealH264Frame(frame, (metadata, plaintext) => sender.encrypt(metadata, plaintext))).frame;
  const open = (frame: Uint8Array) =>
    openH264Frame(
      frame,
      ring.suite.nt,
      async (metadata, sframe) => (await ring.decrypt(metadata, sframe)).plaintext,
    );
  return { seal, open };
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    if (error instanceof SFrameError) return error.reason;
    throw error;
  }
}

const nalUnits = (frame: Uint8Array) => splitAnnexB(frame).units.map((u) => frame.subarray(u.start, u.end));

/** 00 00 0x with x ≤ 2 anywhere inside one NAL unit: a start code (or its emulation). */
function holdsStartCode(nal: Uint8Array): boolean {
  for (let i = 0; i + 2 < nal.length; i++)
    if (nal[i] === 0 && nal[i + 1] === 0 && nal[i + 2]! <= 2) return true;
  return false;
}

// ---- a seeded generator of valid Annex B frames ----

class BitWriter {
  readonly bits: number[] = [];
  unsignedExpGolomb(value: number): void {
    const code = (value + 1).toString(2);
    for (let i = 1; i < code.length; i++) this.bits.push(0);
    for (const c of code) this.bits.push(Number(c));
  }
  bytes(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.bits.length; i += 8) {
      let byte = 0;
      for (let j = 0; j < 8; j++) byte = (byte << 1) | (this.bits[i + j] ?? 0);
      out.push(byte);
    }
    return out;
  }
}

const TYPES = [1, 1, 5, 5, 6, 7, 8, 9, 10, 12, 13, 15, 2, 14, 20] as const;

function randomFrame(seed: number): Uint8Array {
  const next = prng(seed);
  /** Zero-heavy bytes, so escapes and near-start-codes are common. */
  const rbspBytes = (length: number) =>
    Array.from({ length }, () => (next() % 3 === 0 ? 0 : next() % 4 === 0 ? next() % 4 : next() & 0xff));
  const parts: number[] = [];
  const count = 1 + (next() % 6);
  for (let n = 0; n < count; n++) {
    const type = n === count - 1 ? 5 : TYPES[next() % TYPES.length]!;
    let rbsp: number[] = [];
    if (type === 1 || type === 5) {
      const w = new BitWriter();
      w.unsignedExpGolomb(next() % 3 === 0 ? next() % 8160 : 0);
      w.unsignedExpGolomb(next() % 10);
      w.unsignedExpGolomb(next() % 3);
      const start = w.bytes();
      rbsp = [...start, ...rbspBytes(1 + (next() % 400))];
    } else if (type !== 10) {
      rbsp = rbspBytes(next() % 60);
    }
    const payload = [...insertEmulationPrevention(Uint8Array.from(rbsp))];
    if (payload.length > 0 && payload[payload.length - 1] === 0) payload.push(0x80); // a NAL unit never ends in 00
    const lead = 3 + (next() % 3);
    for (let i = 0; i < lead - 1; i++) parts.push(0);
    parts.push(1, ((next() % 4) << 5) | type, ...payload);
  }
  for (let i = next() % 3; i > 0; i--) parts.push(0);
  return Uint8Array.from(parts);
}

describe('H.264 emulation prevention (§7.4.1)', () => {
  it('round-trips zero-heavy bytes after any carried zero run, and never leaves a start code', () => {
    const next = prng(1);
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from({ length: next() % 64 }, () => (next() % 2 === 0 ? 0 : next() % 5));
      const zeros = i % 3;
      const escaped = insertEmulationPrevention(bytes, zeros);
      expect(removeEmulationPrevention(escaped, zeros)).toEqual(bytes);
      expect(holdsStartCode(Uint8Array.from([...new Array<number>(zeros).fill(0), ...escaped]))).toBe(false);
    }
  });

  it('escapes exactly as the standard does', () => {
    expect([...insertEmulationPrevention(Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 3, 0, 0, 4))]).toEqual([
      0, 0, 3, 0, 0, 3, 1, 0, 0, 3, 3, 0, 0, 4,
    ]);
    expect([...insertEmulationPrevention(Uint8Array.of(1, 2), 2)]).toEqual([3, 1, 2]);
  });

  it('refuses what the escaper never writes', () => {
    for (const bad of [
      [0, 0, 1],
      [0, 0, 2],
      [0, 0, 0],
      [0, 0, 3],
      [0, 0, 3, 4],
      [5, 0, 0, 3, 0x80],
    ]) {
      expect(() => removeEmulationPrevention(Uint8Array.from(bad)), JSON.stringify(bad)).toThrow(SFrameError);
    }
    expect(() => removeEmulationPrevention(Uint8Array.of(1), 2)).toThrow(/start code/);
  });
});

describe('H.264 Annex B and clear parts', () => {
  it('splits the libx264 fixture into its access units’ NAL units', () => {
    expect(accessUnits.map((au) => nalUnits(au).map((nal) => nalUnitType(nal[0]!)))).toEqual([
      [9, 7, 8, 6, 5, 5],
      [9, 1, 1],
      [9, 1, 1],
    ]);
  });

  it('refuses bytes that are not an Annex B frame', () => {
    const bad: [number[], RegExp][] = [
      [[0x65, 1, 2], /does not begin with a start code/],
      [[0, 1, 0x65], /does not begin with a start code/],
      [[0, 0, 1, 0, 0, 1, 0x65], /empty NAL unit/],
      [[0, 0, 1, 0xe5, 1], /forbidden_zero_bit/],
      [[0, 0, 1, 0x65, 1, 0, 0, 0, 5], /zero bytes inside a NAL unit/],
      [[], /does not begin with a start code/],
    ];
    for (const [bytes, message] of bad) expect(() => splitAnnexB(Uint8Array.from(bytes))).toThrow(message);
  });

  it('keeps parameter sets whole, slice headers to pic_parameter_set_id, other NAL units to the header', () => {
    const [sps, pps, sei, idr] = nalUnits(accessUnits[0]!).slice(1);
    expect(clearLength(sps!)).toBe(sps!.length);
    expect(clearLength(pps!)).toBe(pps!.length);
    expect(clearLength(sei!)).toBe(1);
    // libx264's first IDR slice: first_mb 0 ("1"), slice_type 7 ("0001000"), pps 0 ("1") → 2 bytes.
    expect(parseSliceHeaderStart(idr!.subarray(1))).toEqual({
      firstMbInSlice: 0,
      sliceType: 7,
      picParameterSetId: 0,
      length: 2,
    });
    expect(clearLength(idr!)).toBe(3);
    expect(() => clearLength(Uint8Array.of(0x1c, 1))).toThrow(/type 28 is not sent/);
    expect(() => clearLength(Uint8Array.of(0x00, 1))).toThrow(/type 0 is not sent/);
  });

  it('reads long Exp-Golomb codes, and refuses a cut-off or impossible slice header start', () => {
    // first_mb_in_slice = 2^17 - 1: 17 leading zeros, the largest code within a level 6.2 picture.
    const w = new BitWriter();
    w.unsignedExpGolomb(131071);
    w.unsignedExpGolomb(2);
    w.unsignedExpGolomb(1);
    const bytes = Uint8Array.from(w.bytes());
    expect(parseSliceHeaderStart(bytes)).toEqual({
      firstMbInSlice: 131071,
      sliceType: 2,
      picParameterSetId: 1,
      length: bytes.length,
    });
    expect(() => parseSliceHeaderStart(Uint8Array.of(0x80))).toThrow(/cut off/);
    expect(() => parseSliceHeaderStart(Uint8Array.of(0x8b, 0x80))).toThrow(/slice_type 10/); // 1, 0001011, 1
    expect(() => parseSliceHeaderStart(Uint8Array.of(0, 0, 3, 1, 0xff, 0xff, 0xff, 0xff))).toThrow(
      /too large/,
    );
    expect(() => parseSliceHeaderStart(new Uint8Array(8))).toThrow(/longer than 32 bits/);
  });
});

// Seeded loops of a few thousand frames: generous timeouts, as CI machines may be busy.
describe('H.264 frames under SFrame', { timeout: 30_000 }, () => {
  it('real libx264 frames: NAL units and their headers stay, parameter sets stay clear, the rest is sealed', async () => {
    const { seal, open } = await keys();
    for (const au of accessUnits) {
      const wire = await seal(au);
      const plain = nalUnits(au);
      const sealed = nalUnits(wire);
      expect(sealed.map((nal) => nal[0])).toEqual(plain.map((nal) => nal[0]));
      for (const [i, nal] of sealed.entries()) {
        const type = nalUnitType(nal[0]!);
        if (type === 7 || type === 8) expect(nal).toEqual(plain[i]);
        else expect([...nal.subarray(-TRAILER.length)]).toEqual([...TRAILER]);
        expect(holdsStartCode(nal)).toBe(false);
      }
      // The SFrame header opens the first encrypted NAL unit (here the access unit delimiter).
      expect(decodeHeader(sealed[0]!.subarray(1))).toMatchObject({ kid: KID });
      // x264's SEI names the encoder in ASCII; none of it survives on the wire.
      expect(Buffer.from(wire).includes('x264')).toBe(false);
      expect(await open(wire)).toEqual(au);
    }
    expect(Buffer.from(accessUnits[0]!).includes('x264')).toBe(true);
  });

  it('1000 random NAL unit streams round-trip, keep their NAL units, and never form a start code (all suites)', async () => {
    for (const suite of [1, 2, 3, 4, 5]) {
      const { seal, open } = await keys(suite);
      for (let seed = 1; seed <= 200; seed++) {
        const frame = randomFrame(seed * 7919 + suite);
        const wire = await seal(frame);
        const before = splitAnnexB(frame);
        const after = splitAnnexB(wire);
        expect(after.units.map((u) => [u.lead, wire[u.start]])).toEqual(
          before.units.map((u) => [u.lead, frame[u.start]]),
        );
        expect(after.trailingZeros).toBe(before.trailingZeros);
        for (const nal of nalUnits(wire)) expect(holdsStartCode(nal), `seed ${seed}`).toBe(false);
        expect(await open(wire), `seed ${seed}`).toEqual(frame);
      }
    }
  });

  it('refuses a changed NAL header, clear byte, boundary or ciphertext byte', async () => {
    const { seal, open } = await keys();
    const key = accessUnits[0]!;
    const wire = await seal(key);
    const units = splitAnnexB(wire).units;
    const [aud, sps, pps, , idr] = units;
    const flip = (at: number, mask: number) => {
      const copy = wire.slice();
      copy[at]! ^= mask;
      return copy;
    };
    // nal_ref_idc of the IDR slice (type unchanged): the clear part is authenticated.
    expect(await reasonOf(open(flip(idr!.start, 0x20)))).toBe('auth-failed');
    // IDR (5) relabelled as a non-IDR slice (1).
    expect(await reasonOf(open(flip(idr!.start, 0x04)))).toBe('auth-failed');
    // A byte of the SPS and of the PPS (parameter sets are clear, not unauthenticated).
    expect(await reasonOf(open(flip(sps!.start + 3, 0x01)))).toBe('auth-failed');
    expect(await reasonOf(open(flip(pps!.end - 1, 0x01)))).toBe('auth-failed');
    // A ciphertext byte in the middle of the IDR slice.
    expect(await reasonOf(open(flip(idr!.start + 40, 0x10)))).toBe('auth-failed');
    // A longer start code before the PPS: the frame's layout is authenticated too.
    const longer = Uint8Array.from([
      ...wire.subarray(0, pps!.start - pps!.lead),
      0,
      ...wire.subarray(pps!.start - pps!.lead),
    ]);
    expect(await reasonOf(open(longer))).toBe('auth-failed');
    // The two IDR slices swapped, or the second one dropped.
    const [first, second] = units.slice(4);
    const cut = (u: { lead: number; start: number; end: number }) => wire.subarray(u.start - u.lead, u.end);
    const swapped = Uint8Array.from([
      ...wire.subarray(0, first!.start - first!.lead),
      ...cut(second!),
      ...cut(first!),
    ]);
    expect(await reasonOf(open(swapped))).toBe('auth-failed');
    expect(await reasonOf(open(wire.subarray(0, second!.start - second!.lead)))).not.toBe('accepted');
    // An access unit delimiter whose encrypted part lost its trailer.
    expect(await reasonOf(open(flip(aud!.end - 1, 0x01)))).toBe('malformed');
    expect(await open(wire)).toEqual(key);
  });

  it('refuses malformed input without throwing anything but SFrameError', async () => {
    const { seal, open } = await keys();
    // A plaintext frame handed to the receiver: its slices have no trailer.
    expect(await reasonOf(open(accessUnits[0]!))).toBe('malformed');
    // Nothing to encrypt: parameter sets only.
    const [, sps, pps] = splitAnnexB(accessUnits[0]!).units;
    expect(await reasonOf(seal(accessUnits[0]!.slice(sps!.start - sps!.lead, pps!.end)))).toBe('malformed');
    const next = prng(99);
    const wire = await seal(accessUnits[1]!);
    for (let i = 0; i < 2000; i++) {
      const mutated = wire.slice();
      for (let j = 0; j <= i % 4; j++) mutated[next() % mutated.length] = next() & 0xff;
      if (mutated.every((byte, k) => byte === wire[k])) continue;
      const reason = await reasonOf(open(mutated));
      expect(['auth-failed', 'malformed', 'missing-key']).toContain(reason);
      expect(await reasonOf(open(Uint8Array.from({ length: i % 50 }, () => next() & 0xff)))).not.toBe(
        'accepted',
      );
    }
  });
});

describe('H.264 through the worker’s transforms', () => {
  const frame = (bytes: Uint8Array): EncodedFrameLike => ({
    data: bytes.slice().buffer,
    getMetadata: () => ({ mimeType: 'video/H264' }),
  });
  const sender: TransformOptions = { attachmentId: 's', kind: 'sender', context: 'camera' };
  const receiver: TransformOptions = {
    attachmentId: 'r',
    kind: 'receiver',
    context: 'camera',
    participantId: 'alice',
  };

  async function worker(withKeys: boolean) {
    const events: WorkerEvent[] = [];
    const service = new CryptoWorkerService((e) => events.push(e), { statusIntervalMs: 0 });
    if (withKeys) {
      await service.handleMessage({ id: 1, type: 'setSenderKey', context: 'camera', kid: KID, baseKey });
      const owner = { participantId: 'alice', context: 'camera' };
      await service.handleMessage({ id: 2, type: 'addReceiverKey', kid: KID, baseKey, owner });
    }
    const run = async (options: TransformOptions, frames: Uint8Array[]) => {
      const out: Uint8Array[] = [];
      const transform = service.createTransform(options);
      for (const f of frames)
        await transform.transform(frame(f), { enqueue: (x) => out.push(new Uint8Array(x.data)) });
      return out;
    };
    return { events, run };
  }

  it('real access units go out sealed and come back identical; without a key nothing goes out', async () => {
    expect(await (await worker(false)).run(sender, accessUnits)).toEqual([]);
    const { run } = await worker(true);
    const sent = await run(sender, accessUnits);
    expect(sent).toHaveLength(3);
    expect(sent.map((f) => nalUnits(f).length)).toEqual(accessUnits.map((au) => nalUnits(au).length));
    expect(await run(receiver, sent)).toEqual(accessUnits);
  });

  it('refuses Alice’s frames on a stream expected from Bob (RFC 9605 §6.1.1)', async () => {
    const { run, events } = await worker(true);
    const sent = await run(sender, accessUnits);
    expect(await run({ ...receiver, participantId: 'bob' }, sent)).toEqual([]);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'status', attachmentId: 'r', reason: 'wrong-sender' }),
    );
  });
});
