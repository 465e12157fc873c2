// Per-stream bookkeeping of SFrame KIDs and counters, from inspected frames alone (no keys).
//
// RFC 9605 §4.4.3: the nonce is derived from the key's salt and the CTR, so one (KID, CTR) pair
// sealing two frames is nonce reuse under AES-GCM: the worst failure a sender can have, and one
// the SFU can see. The tracker flags every CTR seen twice under one KID and keeps per-KID counts
// and CTR ranges for the report (an SFU may see these: ARCHITECTURE.md, threat model).
import { MLS_EPOCH_BITS } from '@conclave/crypto-worker/sframe/wire';
import type { SFrameFrameInfo } from './sframeFrameInspector.ts';

/** What the frames of one stream sealed under one KID looked like. */
export interface KidStats {
  kid: bigint;
  /** KID mod 2^E: the low bits of the MLS epoch. */
  epochLowBits: bigint;
  frames: number;
  keyframes: number;
  firstCtr: bigint;
  minCtr: bigint;
  maxCtr: bigint;
  /** Frames whose CTR was below one already seen under this KID (reordering, or a sender bug). */
  outOfOrder: number;
  /** Frames whose CTR had been seen before under this KID: nonce reuse. */
  reusedCtrs: number;
}

/** A (KID, CTR) pair seen on a second frame: nonce reuse, or a replayed frame. */
export interface NonceReuse {
  code: 'ctr-reuse';
  kid: bigint;
  ctr: bigint;
  message: string;
}

type FrameCounters = Pick<SFrameFrameInfo, 'kid' | 'ctr' | 'keyframe'>;

/** Per stream: every (KID, CTR) seen, to catch nonce reuse, and counters per KID. */
export class SFrameStreamTracker {
  readonly #stats = new Map<bigint, KidStats>();
  readonly #seen = new Map<bigint, Set<bigint>>();
  #frames = 0;
  #reuses = 0;

  /** Records one frame that passed inspection; returns the nonce reuse it reveals, if any. */
  record({ kid, ctr, keyframe }: FrameCounters): NonceReuse | undefined {
    this.#frames++;
    let stats = this.#stats.get(kid);
    let seen = this.#seen.get(kid);
    if (stats === undefined || seen === undefined) {
      stats = {
        kid,
        epochLowBits: kid & ((1n << BigInt(MLS_EPOCH_BITS)) - 1n),
        frames: 0,
        keyframes: 0,
        firstCtr: ctr,
        minCtr: ctr,
        maxCtr: ctr,
        outOfOrder: 0,
        reusedCtrs: 0,
      };
      seen = new Set();
      this.#stats.set(kid, stats);
      this.#seen.set(kid, seen);
    }
    stats.frames++;
    if (keyframe) stats.keyframes++;
    if (seen.has(ctr)) {
      stats.reusedCtrs++;
      this.#reuses++;
      return { code: 'ctr-reuse', kid, ctr, message: `CTR ${ctr} sealed a second frame under KID ${kid}` };
    }
    seen.add(ctr);
    if (ctr < stats.maxCtr) stats.outOfOrder++;
    if (ctr < stats.minCtr) stats.minCtr = ctr;
    if (ctr > stats.maxCtr) stats.maxCtr = ctr;
    return undefined;
  }

  /** Frames recorded. */
  get frames(): number {
    return this.#frames;
  }

  /** Nonce reuses found. */
  get reuses(): number {
    return this.#reuses;
  }

  /** Per-KID statistics, in the order KIDs first appeared (copies). */
  get kids(): KidStats[] {
    return [...this.#stats.values()].map((s) => ({ ...s }));
  }

  kid(kid: bigint): KidStats | undefined {
    const stats = this.#stats.get(kid);
    return stats === undefined ? undefined : { ...stats };
  }
}
