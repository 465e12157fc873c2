// What the shared helpers (helpers.ts) need from a participant's browser page, whichever engine runs
// it: Playwright's Page for Chromium, or puppeteer-core's Page over WebDriver BiDi for Debian's
// Firefox (firefox.ts), which Playwright cannot drive (its own Firefox cannot be downloaded here,
// and its BiDi mode sends commands Firefox ESR does not know).
//
// Elements are found as people find them: by ARIA role and accessible name, matched exactly, so
// a helper means the same element in both engines.
import type { Locator, Page } from '@playwright/test';

export type AriaRole =
  | 'button'
  | 'textbox'
  | 'group'
  | 'dialog'
  | 'navigation'
  | 'status'
  | 'list'
  | 'menu'
  | 'menuitem'
  | 'menuitemcheckbox'
  | 'region';

/** An element by its accessible name (and role, when it has one), optionally inside another. */
export interface Target {
  name: string;
  role?: AriaRole;
  within?: Target;
}

export interface MeetingDriver {
  readonly engine: 'chromium' | 'firefox';
  /** A path is resolved against the server the test is using. */
  goto(url: string): Promise<void>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  click(target: Target): Promise<void>;
  fill(target: Target, value: string): Promise<void>;
  isVisible(target: Target): Promise<boolean>;
  /**
   * Runs `fn` in the page on the first element matching `css` inside `target` (on `target` itself
   * without `css`); `null` when there is no such element.
   */
  evaluateIn<R, A>(
    target: Target,
    css: string | undefined,
    fn: (el: Element, arg: A) => R | Promise<R>,
    arg: A,
  ): Promise<R | null>;
}

/** Helpers take a Playwright page as the Chromium specs always have, or any driver. */
export type AnyPage = Page | MeetingDriver;

export function drive(page: AnyPage): MeetingDriver {
  return 'engine' in page ? page : new PlaywrightDriver(page);
}

class PlaywrightDriver implements MeetingDriver {
  readonly engine = 'chromium';
  readonly #page: Page;

  constructor(page: Page) {
    this.#page = page;
  }

  async goto(url: string): Promise<void> {
    await this.#page.goto(url);
  }

  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    return this.#page.evaluate(fn as (arg: unknown) => R | Promise<R>, arg);
  }

  async click(target: Target): Promise<void> {
    await this.#locate(target).click();
  }

  async fill(target: Target, value: string): Promise<void> {
    await this.#locate(target).fill(value);
  }

  isVisible(target: Target): Promise<boolean> {
    return this.#locate(target).isVisible();
  }

  async evaluateIn<R, A>(
    target: Target,
    css: string | undefined,
    fn: (el: Element, arg: A) => R | Promise<R>,
    arg: A,
  ): Promise<R | null> {
    const element = css === undefined ? this.#locate(target) : this.#locate(target).locator(css).first();
    if ((await element.count()) === 0) return null;
    return element.evaluate(fn as (el: Element, arg: unknown) => R | Promise<R>, arg);
  }

  #locate(target: Target): Locator {
    const scope = target.within === undefined ? this.#page : this.#locate(target.within);
    return target.role === undefined
      ? scope.getByLabel(target.name, { exact: true })
      : scope.getByRole(target.role, { name: target.name, exact: true });
  }
}
