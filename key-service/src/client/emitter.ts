// A small typed event emitter that runs in browsers and Node alike, with each listener isolated (in
// the spirit of mediasoup's safeEmit): the emitter is the key client's own state machine calling out
// to its owner, so a listener that throws must break neither the emitter's caller (an epoch half
// adopted, a queue stopped) nor the other listeners of the same event.
//
// Must hold: every listener of an event runs, in the order it was added, whatever an earlier one
// threw; a listener's error is reported through `listenerFailed`, never thrown out of `emit`.
export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  /**
   * Adds a listener.
   *
   * @returns a function that removes it again
   * @example
   * ```ts
   * const off = client.on('epoch', (keys) => apply(keys));
   * off();
   * ```
   */
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => this.off(event, listener);
  }

  /** Removes a listener added with `on` (nothing happens when it is not there). */
  off<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): void {
    this.#listeners.get(event)?.delete(listener as (payload: never) => void);
  }

  /** Calls every listener of `event` with `payload`; a listener's error goes to `listenerFailed`. */
  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (listener as (p: Events[K]) => void)(payload);
      } catch (error) {
        this.#report(event, error);
      }
    }
  }

  /** A listener of `event` threw `error`. Subclasses report it their way; by default, the console. */
  protected listenerFailed(event: keyof Events, error: unknown): void {
    console.error(`a listener of '${String(event)}' threw:`, error);
  }

  #report(event: keyof Events, error: unknown): void {
    try {
      this.listenerFailed(event, error);
    } catch {
      // Reporting must not be what breaks the emitter either.
    }
  }
}
