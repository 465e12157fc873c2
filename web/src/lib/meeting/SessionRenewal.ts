// Keeps a meeting's session token fresh: a new one is asked for a minute before the current one
// expires, so a reconnection never holds a dead token. A failed renewal is tried again later; it
// only costs a reconnection at expiry, as after any drop.
import type { Session } from '../api.ts';

/** Renew the session token this long before it expires. */
const RENEW_MARGIN_MS = 60_000;
/** Never sooner than this after scheduling (a token that is already due, a failed attempt). */
const MIN_DELAY_MS = 5_000;

export class SessionRenewal {
  readonly #current: () => Session | undefined;
  readonly #renew: (current: Session) => Promise<Session>;
  readonly #onRenewed: (renewed: Session, previous: Session) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param current - the session the meeting holds now (a rejoin may have replaced it meanwhile).
   * @param renew - asks for a fresh session in place of `current` (POST /api/sessions).
   * @param onRenewed - makes the fresh session current and hands its token to whatever holds the old one.
   */
  constructor(options: {
    current: () => Session | undefined;
    renew: (current: Session) => Promise<Session>;
    onRenewed: (renewed: Session, previous: Session) => void;
  }) {
    this.#current = options.current;
    this.#renew = options.renew;
    this.#onRenewed = options.onRenewed;
  }

  /** (Re)starts the timer for the current session; an earlier timer is dropped. */
  schedule(): void {
    clearTimeout(this.#timer);
    const session = this.#current();
    if (session === undefined) return;
    const due = Math.max(MIN_DELAY_MS, session.expiresAt - Date.now() - RENEW_MARGIN_MS);
    this.#timer = setTimeout(() => {
      this.#renew(session).then(
        (renewed) => {
          this.#onRenewed(renewed, session);
          this.schedule();
        },
        () => this.schedule(),
      );
    }, due);
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
