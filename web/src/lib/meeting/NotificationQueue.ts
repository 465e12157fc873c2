// The server's notifications on one connection, handled in the order they came, each once the one
// before it is done, and only once the join's answer is in (the server pushes the room's existing
// microphones and screens while it handles `join`, before it answers).
//
// One exception: a run of notifications that may overlap (`overlaps`: pushed consumers) is handled
// together. Each pushed consumer is a renegotiation of the receive transport, and mediasoup-client
// negotiates the consumers asked for while one negotiation runs in a single offer/answer. One at a
// time, after joining a room of 30 microphones the page was still negotiating them one after another
// two minutes later (25 negotiations counted after the join), each slower than the last as the SDP
// grew, each createAnswer holding the main thread for 0.3-2 s on the 2-core test machine; a page turn
// in that time took 12-16 s. Together, the same join (30 microphones, 30 cameras) negotiated its
// receive transport 3 times in all, within 4 s of loading the page.

export interface NotificationQueueOptions<T> {
  handle: (item: T) => Promise<void>;
  /** Whether `item` may be handled alongside the same kind of items next to it. */
  overlaps: (item: T) => boolean;
  /** A handler failed: the queue goes on with the next. */
  onError: (item: T, error: unknown) => void;
}

export class NotificationQueue<T> {
  readonly #options: NotificationQueueOptions<T>;
  readonly #waiting: T[] = [];
  #held = true;
  #running = false;
  #closed = false;

  /** Held until `release`. */
  constructor(options: NotificationQueueOptions<T>) {
    this.#options = options;
  }

  push(item: T): void {
    if (this.#closed) return;
    this.#waiting.push(item);
    void this.#drain();
  }

  /** The join's answer is in: what waits runs now, and what comes later as it comes. */
  release(): void {
    this.#held = false;
    void this.#drain();
  }

  /** The connection went: what still waits is dropped; a step already running ends on its own. */
  close(): void {
    this.#closed = true;
    this.#waiting.length = 0;
  }

  async #drain(): Promise<void> {
    if (this.#running || this.#held) return;
    this.#running = true;
    try {
      for (let step = this.#nextStep(); step.length > 0; step = this.#nextStep()) {
        await Promise.all(step.map((item) => this.#run(item)));
      }
    } finally {
      this.#running = false;
    }
  }

  /** The next notification, or the whole run of overlapping ones at the head of the queue. */
  #nextStep(): T[] {
    if (this.#closed) return [];
    const first = this.#waiting.shift();
    if (first === undefined) return [];
    const step = [first];
    if (!this.#options.overlaps(first)) return step;
    for (
      let next = this.#waiting[0];
      next !== undefined && this.#options.overlaps(next);
      next = this.#waiting[0]
    ) {
      step.push(next);
      this.#waiting.shift();
    }
    return step;
  }

  async #run(item: T): Promise<void> {
    try {
      await this.#options.handle(item);
    } catch (error) {
      this.#options.onError(item, error);
    }
  }
}
