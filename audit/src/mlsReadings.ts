// The MLS readings of a KID: which (stream, leaf index, S) could have produced it under RFC 9605
// §5.2 with Conclave's E and stream contexts. The capture does not say how large the group was (S),
// so a KID has one reading per S that fits, and the report lists them all.
//
// What must hold: the KID layout (E, the contexts, the bit arithmetic) is crypto-worker's mlsKid
// module, read through `@conclave/crypto-worker/sframe/wire`; nothing here restates it.
import { STREAM_CONTEXTS, parseMlsKid, type MediaSource } from '@conclave/crypto-worker/sframe/wire';

/** RFC 9605 §5.2: S is the smallest value with group_size < 2^S, and a group has a member: S ≥ 1. */
export const MIN_INDEX_BITS = 1;
/** RFC 9420 §7.8: leaf indices are uint32, so S is at most 32. */
export const MAX_INDEX_BITS = 32;

/** One reading of a KID as RFC 9605 §5.2 MLS parts (E = 4) that suits the stream's kind. */
export interface MlsReading {
  /** The stream context the KID carries: mic for audio streams, camera or screen for video. */
  stream: MediaSource;
  /** The sender's leaf index. */
  index: bigint;
  /** The S values for which this reading holds (mic KIDs read the same for every large enough S). */
  indexBits: { min: number; max: number };
}

/** The sources a stream of this kind (and, when the map names it, this source) may carry. */
function candidateSources(kind: 'audio' | 'video', source: string | undefined): MediaSource[] {
  if (kind === 'audio') return ['mic'];
  return (['camera', 'screen'] as const).filter((s) => source === undefined || s === source);
}

/**
 * The RFC 9605 §5.2 readings of a KID that fit a stream, for every S from 1 to 32.
 * @param kid the KID of an SFrame header read off the wire
 * @param kind the stream's media kind: audio streams carry the mic context, video camera or screen
 * @param source the stream's source when the stream map names it: only that context is read
 * @returns the readings in order of S; one reading spans every S that gives the same leaf index
 * @example mlsReadings(83n, 'video') // screen of leaf 1 (S = 1), then camera of leaf 1 (S = 2)
 */
export function mlsReadings(kid: bigint, kind: 'audio' | 'video', source?: string): MlsReading[] {
  const sources = candidateSources(kind, source);
  const readings: MlsReading[] = [];
  for (let s = MIN_INDEX_BITS; s <= MAX_INDEX_BITS; s++) {
    const { context, index } = parseMlsKid(kid, s);
    const stream = sources.find((candidate) => STREAM_CONTEXTS[candidate] === context);
    if (stream === undefined) continue;
    const same = readings.find((r) => r.stream === stream && r.index === index);
    if (same === undefined) readings.push({ stream, index, indexBits: { min: s, max: s } });
    else same.indexBits.max = s;
  }
  return readings;
}
