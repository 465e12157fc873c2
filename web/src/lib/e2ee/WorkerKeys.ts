// The meeting keys in the crypto worker: each MLS epoch's SFrame base key installed under every
// member's KIDs (epochKids.ts), and taken out again. MeetingEncryption decides when; this decides
// how, in what order, and what stays.
//
// What must hold (fail closed):
// - An epoch installs receivers first (others' new-epoch frames read at once), then our senders.
// - The previous epochs' receiver keys go after a short grace, for frames sent just before the
//   change: after it, a member who has left can no longer be read under an old key.
// - Clearing our senders leaves the worker no key to send with: every frame is dropped.
// - No key is kept here: base keys go straight to the worker. The "new key in use" performance mark
//   carries an epoch number and a stream name, no secret.
import type { FrameCryptor } from '@conclave/crypto-worker/client';
import { MEDIA_SOURCES } from '@conclave/crypto-worker/sframe';
import type { EpochKeys } from '@conclave/key-service/client';
import { receiverKids, senderKids } from './epochKids.ts';

/** Receivers keep the previous epoch's keys this long, for frames sent just before a key change. */
const PREVIOUS_EPOCH_GRACE_MS = 3_000;

export class WorkerKeys {
  readonly #cryptor: FrameCryptor;
  /** Which epoch each of our sender KIDs belongs to, for the "new key in use" mark. */
  readonly #senderKids = new Map<bigint, { epoch: bigint; context: string }>();
  #graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(cryptor: FrameCryptor) {
    this.#cryptor = cryptor;
    cryptor.onSenderKeyInUse(({ kid }) => this.#markKeyInUse(kid));
  }

  /** Installs `keys`: receivers first, then our senders; older epochs go after the grace. */
  async install(keys: EpochKeys): Promise<void> {
    const cryptor = this.#cryptor;
    await Promise.all(
      receiverKids(keys).map(({ kid, userId, context }) =>
        cryptor.addReceiverKey(kid, keys.baseKey, {
          epoch: keys.epoch,
          owner: { participantId: userId, context },
        }),
      ),
    );
    const kids = senderKids(keys);
    this.#senderKids.clear();
    for (const context of MEDIA_SOURCES) {
      this.#senderKids.set(kids[context], { epoch: keys.epoch, context });
      await cryptor.setSenderKey(context, kids[context], keys.baseKey);
    }
    this.#dropEpochsBefore(keys.epoch);
  }

  /** Stops sending: no sender key, so every frame of ours is dropped until the next epoch. */
  async clearSenders(): Promise<void> {
    await Promise.all(MEDIA_SOURCES.map((context) => this.#cryptor.clearSenderKey(context)));
  }

  /** Forgets every key, ours and everyone's: nothing more is sent or read. Never throws. */
  async forgetAll(): Promise<void> {
    await this.clearSenders().catch(() => undefined);
    await this.#cryptor
      .removeReceiverKeys({ epochsBefore: BigInt(Number.MAX_SAFE_INTEGER) })
      .catch(() => undefined);
  }

  close(): void {
    clearTimeout(this.#graceTimer);
  }

  /** After a short grace, a member who has left can no longer be read under an old epoch's key. */
  #dropEpochsBefore(epoch: bigint): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = setTimeout(() => {
      void this.#cryptor.removeReceiverKeys({ epochsBefore: epoch }).catch(() => undefined);
    }, PREVIOUS_EPOCH_GRACE_MS);
  }

  /** A performance mark per key change taking effect: what `npm run bench` reads (no secrets). */
  #markKeyInUse(kid: bigint): void {
    const sender = this.#senderKids.get(kid);
    if (sender === undefined) return;
    const detail = { epoch: Number(sender.epoch), context: sender.context };
    performance.mark('conclave:sender-epoch', { detail });
  }
}
