// One room's joiners taking turns at the external commit. Every external commit is for the current
// epoch, so when many join at once (a meeting of 100 starting) they race for the same epoch: one
// wins, every other one built its commit for nothing and retries, and a storm costs O(n²) commits
// built. Here a joiner asks for a turn ('turn') and waits; one socket at a time holds it, until its
// external commit lands, it disconnects, or `turnMs` passes (a dead or hostile joiner cannot stall
// the queue), and the next one is told.
//
// A scheduling aid, nothing more: the epoch fencing (one commit per epoch) still decides which commit
// counts, clients trust a turn for nothing, and a client whose turn never comes commits anyway after
// its own timeout. While someone holds the turn, another joiner's external commit is refused
// ('not-your-turn'), so that one who ignores the queue cannot take the holder's epoch.
//
// Must hold: a socket is queued at most once (asking again while waiting or holding waits for the
// same turn); a socket that leaves is dropped from the queue; nothing stays queued after `close()`.
import { KeyServiceError } from '../errors.ts';
import type { KeySocket } from './room.ts';

interface Waiter {
  socket: KeySocket;
  granted: Promise<void>;
  grant: () => void;
  refuse: (error: KeyServiceError) => void;
}

export class JoinTurns {
  readonly #turnMs: number;
  readonly #queue: Waiter[] = [];
  #holder: { waiter: Waiter; timer: ReturnType<typeof setTimeout> } | undefined;

  constructor(turnMs: number) {
    this.#turnMs = turnMs;
  }

  /** Resolves once `socket` holds the turn (at once if it does already). */
  wait(socket: KeySocket): Promise<void> {
    if (this.#holder?.waiter.socket === socket) return this.#holder.waiter.granted;
    const queued = this.#queue.find((w) => w.socket === socket);
    if (queued !== undefined) return queued.granted;
    const waiter = newWaiter(socket);
    this.#queue.push(waiter);
    this.#passOn();
    return waiter.granted;
  }

  /** Whether a socket other than `socket` holds the turn now. */
  heldByOther(socket: KeySocket): boolean {
    return this.#holder !== undefined && this.#holder.waiter.socket !== socket;
  }

  /** `socket`'s turn is over (its commit landed): the next one's begins. */
  end(socket: KeySocket): void {
    if (this.#holder?.waiter.socket !== socket) return;
    clearTimeout(this.#holder.timer);
    this.#holder = undefined;
    this.#passOn();
  }

  /** `socket` left: out of the queue, and its turn (if it held it) passes on. */
  drop(socket: KeySocket): void {
    const index = this.#queue.findIndex((w) => w.socket === socket);
    const [left] = index >= 0 ? this.#queue.splice(index, 1) : [];
    left?.refuse(new KeyServiceError('invalid-state', 'disconnected'));
    this.end(socket);
  }

  close(): void {
    if (this.#holder !== undefined) clearTimeout(this.#holder.timer);
    this.#holder = undefined;
    for (const w of this.#queue.splice(0)) w.refuse(new KeyServiceError('invalid-state', 'the room closed'));
  }

  #passOn(): void {
    if (this.#holder !== undefined) return;
    const waiter = this.#queue.shift();
    if (waiter === undefined) return;
    const timer = setTimeout(() => this.end(waiter.socket), this.#turnMs);
    timer.unref?.();
    this.#holder = { waiter, timer };
    waiter.grant();
  }
}

function newWaiter(socket: KeySocket): Waiter {
  let grant: () => void = () => {};
  let refuse: (error: KeyServiceError) => void = () => {};
  const granted = new Promise<void>((resolve, reject) => {
    grant = resolve;
    refuse = reject;
  });
  granted.catch(() => undefined);
  return { socket, granted, grant, refuse };
}
