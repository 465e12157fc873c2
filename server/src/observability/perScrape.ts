// One reading of live state shared by every metric of a scrape. prom-client calls each metric's
// collect() on its own, all at once; several metrics come from one walk over the rooms (or one
// getResourceUsage() per worker), which should run once per scrape, not once per metric.
// What must hold: a reading is never reused after it has settled, so every scrape sees fresh state.
export class PerScrape<T> {
  readonly #read: () => Promise<T>;
  #pending: Promise<T> | undefined;

  constructor(read: () => Promise<T>) {
    this.#read = read;
  }

  /** The reading in progress, or a new one. */
  get(): Promise<T> {
    if (this.#pending !== undefined) return this.#pending;
    const pending = this.#read().finally(() => {
      if (this.#pending === pending) this.#pending = undefined;
    });
    this.#pending = pending;
    return pending;
  }
}
