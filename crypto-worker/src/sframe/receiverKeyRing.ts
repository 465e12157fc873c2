// A receiver's keys, by KID (RFC 9605 §4.4.4 "look up the key by KID"), bounded in size, with an
// anti-replay window per KID (§9.3) and the MLS epoch rule of §5.2: when a key for epoch e arrives,
// keys of an older epoch with the same low E bits are removed (their KIDs are about to be reused).
import type { AeadBackend, FrameKey } from './aead.ts';
import { assertU64 } from './bytes.ts';
import { defaultBackend } from './backend.ts';
import { SFrameError } from './errors.ts';
import { type OpenedFrame, decryptFrameWith } from './frame.ts';
import { MLS_EPOCH_BITS, epochLowBits } from './mlsKid.ts';
import { DEFAULT_REPLAY_WINDOW, ReplayWindow } from './replayWindow.ts';
import { type CipherSuite, cipherSuite } from './suites.ts';

export interface ReceiverKeyRingOptions {
  backend?: AeadBackend;
  /** Most keys held at once; adding one more drops the oldest (default 512). */
  capacity?: number;
  /** Anti-replay window per KID, in CTR values (default 1024). */
  replayWindow?: number;
  /** E of RFC 9605 §5.2 (default 4). */
  epochBits?: number;
}

/** Optional facts about a key, supplied by the key manager (MLS layer). */
export interface ReceiverKeyInfo<Owner> {
  /** The full MLS epoch the key belongs to; enables the §5.2 rollover rule and `removeEpochsBefore`. */
  epoch?: bigint;
  /** Who sends under this KID (e.g. a participant and stream), returned with each decrypted frame. */
  owner?: Owner;
}

interface Entry<Owner> extends ReceiverKeyInfo<Owner> {
  key: FrameKey;
  window: ReplayWindow;
}

export interface ReceivedFrame<Owner> extends OpenedFrame {
  owner: Owner | undefined;
}

export class ReceiverKeyRing<Owner = unknown> {
  readonly suite: CipherSuite;
  readonly #backend: AeadBackend;
  readonly #capacity: number;
  readonly #windowSize: number;
  readonly #epochBits: number;
  readonly #entries = new Map<bigint, Entry<Owner>>();

  constructor(suite: number, options: ReceiverKeyRingOptions = {}) {
    this.suite = cipherSuite(suite);
    this.#backend = options.backend ?? defaultBackend();
    this.#capacity = options.capacity ?? 512;
    this.#windowSize = options.replayWindow ?? DEFAULT_REPLAY_WINDOW;
    this.#epochBits = options.epochBits ?? MLS_EPOCH_BITS;
    if (!Number.isInteger(this.#capacity) || this.#capacity < 1) {
      throw new SFrameError('invalid-argument', 'capacity must be ≥ 1');
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  has(kid: bigint): boolean {
    return this.#entries.has(kid);
  }

  kids(): bigint[] {
    return [...this.#entries.keys()];
  }

  ownerOf(kid: bigint): Owner | undefined {
    return this.#entries.get(kid)?.owner;
  }

  /**
   * Installs the key for `kid` (derived once, kept as non-extractable keys where possible). A key
   * already held for `kid` is replaced, with a fresh replay window.
   */
  async addKey(kid: bigint, baseKey: Uint8Array, info: ReceiverKeyInfo<Owner> = {}): Promise<void> {
    assertU64('KID', kid);
    const key = await this.#backend.deriveFrameKey(this.suite, baseKey, kid);
    if (info.epoch !== undefined) this.#retireRolledOver(info.epoch);
    this.#entries.delete(kid);
    this.#entries.set(kid, { ...info, key, window: new ReplayWindow(this.#windowSize) });
    this.#trim();
  }

  removeKey(kid: bigint): boolean {
    return this.#entries.delete(kid);
  }

  /** Removes every key `predicate` selects; returns how many went. */
  removeWhere(predicate: (kid: bigint, info: ReceiverKeyInfo<Owner>) => boolean): number {
    let removed = 0;
    for (const [kid, entry] of this.#entries) {
      if (predicate(kid, entry)) removed += Number(this.#entries.delete(kid));
    }
    return removed;
  }

  /** Ends the grace period of old epochs: drops keys whose epoch is below `epoch`. */
  removeEpochsBefore(epoch: bigint): number {
    return this.removeWhere((_kid, info) => info.epoch !== undefined && info.epoch < epoch);
  }

  clear(): void {
    this.#entries.clear();
  }

  /**
   * RFC 9605 §4.4.4 plus anti-replay: rejects with SFrameError 'malformed', 'missing-key',
   * 'replay' or 'auth-failed'. A frame that fails changes no state.
   */
  async decrypt(metadata: Uint8Array, frame: Uint8Array): Promise<ReceivedFrame<Owner>> {
    let used: Entry<Owner> | undefined;
    const opened = await decryptFrameWith(
      (kid) => {
        used = this.#entries.get(kid);
        return used?.key;
      },
      metadata,
      frame,
      (ctr) => used?.window.check(ctr),
    );
    // decryptFrameWith only resolves after the lookup found an entry.
    if (used === undefined) throw new SFrameError('missing-key', 'key vanished during decryption');
    // Recorded only once the tag verified, so forged frames cannot move the window.
    used.window.accept(opened.ctr);
    return { ...opened, owner: used.owner };
  }

  /** RFC 9605 §5.2: "receivers MUST remove an old epoch when a new epoch with the same low-order E bits is introduced". */
  #retireRolledOver(epoch: bigint): void {
    const low = epochLowBits(epoch, this.#epochBits);
    this.removeWhere(
      (_kid, info) =>
        info.epoch !== undefined && info.epoch < epoch && epochLowBits(info.epoch, this.#epochBits) === low,
    );
  }

  #trim(): void {
    for (const kid of this.#entries.keys()) {
      if (this.#entries.size <= this.#capacity) return;
      this.#entries.delete(kid);
    }
  }
}
