// KIDs for MLS-keyed SFrame, RFC 9605 §5.2:
//
//   KID = (context << (S + E)) + (sender_index << E) + (epoch % (1 << E))
//
// S bits hold the member index, E bits the low bits of the MLS epoch, and the remaining high bits a
// sender-chosen context. Conclave uses E = 4 and the context to name the stream, so each of a
// member's streams keeps its own counter space.
import { SFrameError } from './errors.ts';

/** Conclave's E: 16 epochs can be told apart on the wire. */
export const MLS_EPOCH_BITS = 4;

/** Context values naming a member's streams. Audio is 0: the most frequent frames get the shortest KIDs. */
export const STREAM_CONTEXTS = { mic: 0n, camera: 1n, screen: 2n } as const;
/** What a participant sends: the signaling protocol's `source` and the SFrame stream context are one name. */
export type MediaSource = keyof typeof STREAM_CONTEXTS;
export const MEDIA_SOURCES = ['mic', 'camera', 'screen'] as const satisfies readonly MediaSource[];

export function isMediaSource(value: unknown): value is MediaSource {
  return typeof value === 'string' && Object.hasOwn(STREAM_CONTEXTS, value);
}

/** RFC 9605 §5.2: S is the smallest value such that group_size < (1 << S). */
export function mlsIndexBits(groupSize: number): number {
  if (!Number.isSafeInteger(groupSize) || groupSize < 0)
    throw new SFrameError('invalid-argument', 'bad group size');
  let bits = 0;
  while (groupSize >= 2 ** bits) bits++;
  return bits;
}

export interface MlsKidParts {
  context: bigint;
  index: bigint;
  epoch: bigint;
  /** S */
  indexBits: number;
  /** E (default 4) */
  epochBits?: number;
}

function assertBits(name: string, bits: number): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > 64)
    throw new SFrameError('invalid-argument', `bad ${name}`);
}

/** RFC 9605 §5.2: KID = (context << (S + E)) + (sender_index << E) + (epoch % (1 << E)). */
export function mlsKid({
  context,
  index,
  epoch,
  indexBits,
  epochBits = MLS_EPOCH_BITS,
}: MlsKidParts): bigint {
  assertBits('S', indexBits);
  assertBits('E', epochBits);
  const shift = BigInt(indexBits + epochBits);
  if (index < 0n || index >= 1n << BigInt(indexBits))
    throw new SFrameError('invalid-argument', 'index exceeds S bits');
  if (epoch < 0n || context < 0n) throw new SFrameError('invalid-argument', 'epoch and context must be ≥ 0');
  if (context >= 1n << (64n - shift))
    throw new SFrameError('invalid-argument', 'context exceeds 64 - S - E bits');
  return (context << shift) + (index << BigInt(epochBits)) + (epoch % (1n << BigInt(epochBits)));
}

/** The inverse of `mlsKid` for a known S and E. */
export function parseMlsKid(
  kid: bigint,
  indexBits: number,
  epochBits: number = MLS_EPOCH_BITS,
): { context: bigint; index: bigint; epochLowBits: bigint } {
  assertBits('S', indexBits);
  assertBits('E', epochBits);
  const e = BigInt(epochBits);
  const s = BigInt(indexBits);
  return {
    context: kid >> (s + e),
    index: (kid >> e) & ((1n << s) - 1n),
    epochLowBits: kid & ((1n << e) - 1n),
  };
}

/** `epoch mod 2^E`: two epochs with equal low bits share KIDs, so the older must go (RFC 9605 §5.2). */
export function epochLowBits(epoch: bigint, epochBits: number = MLS_EPOCH_BITS): bigint {
  return epoch % (1n << BigInt(epochBits));
}
