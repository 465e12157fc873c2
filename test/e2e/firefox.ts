// Debian's Firefox ESR for the end-to-end tests, driven by puppeteer-core over WebDriver BiDi, behind
// the same MeetingDriver the Chromium pages use (driver.ts), so specs share helpers.ts.
//
// Firefox's fake devices (media.navigator.streams.fake): the camera is one solid colour that changes
// over time, the microphone a tone. Headless Firefox cannot capture a screen; a headful one on an
// Xvfb display can (startXvfb below), and its "screen" is that display, Firefox's own window on it.
//
// What must hold: every browser and display a test starts is closed by the test (closeFirefoxes in
// afterEach/afterAll), and nothing here changes how Conclave runs in Firefox beyond the fake devices
// and the permission prompts a person would answer.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import puppeteer, { type Browser, type BrowserContext, type ElementHandle, type Page } from 'puppeteer-core';
import { E2E_BASE_URL } from './env.ts';
import type { MeetingDriver, Target } from './driver.ts';
import { RECORD_PEER_CONNECTIONS } from './helpers.ts';

export const FIREFOX = process.env['CONCLAVE_FIREFOX'] ?? '/usr/bin/firefox-esr';

/** Firefox's fake microphone plays a 1 kHz tone (measured: 1001 Hz through a meeting). */
export const FIREFOX_TONE_HZ = 1000;

/** Prefs for a browser nobody sits at: fake devices, no permission prompts, nothing phoning home. */
const PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  // The fake camera at 10 fps rather than its default 30. Conclave asks for 1280x720, so two Firefox
  // participants each encode a three-layer simulcast and decode the other's picture, and on the
  // 2-core machine that starves both pages' main threads: they stalled for 5 to 9.7 s at a time
  // (measured with a 250 ms interval timer), long enough to miss the server's 4 s pong deadline, so
  // the server dropped a page that was alive (its tile went, its MLS leaf was removed, it knocked
  // again), and "two Firefox participants decrypt each other" failed 5 runs in 8. At 10 fps the
  // stalls stayed under 2.1 s and no socket dropped. This is the machine's limit, not a product
  // fault: a page frozen past the heartbeat is one the server is meant to drop.
  'media.navigator.video.default_fps': 10,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'media.autoplay.block-webaudio': false,
  // No sound card here: without a mock output an AudioContext never starts, and sound cannot be analysed.
  'media.cubeb.force_mock_context': true,
  'datareporting.policy.dataSubmissionEnabled': false,
  'app.update.enabled': false,
};

const launched = new Set<Browser>();
const contexts = new Set<BrowserContext>();
const displays = new Set<ChildProcess>();

export function firefoxAvailable(): boolean {
  return fs.existsSync(FIREFOX);
}

/** A Firefox on the given X display (headful), or headless without one. */
export async function launchFirefox(options: { display?: string } = {}): Promise<Browser> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: options.display === undefined,
    extraPrefsFirefox: PREFS,
    env: { ...process.env, ...(options.display === undefined ? {} : { DISPLAY: options.display }) },
  });
  launched.add(browser);
  return browser;
}

/** A participant page in its own browser context (its own cookies, storage and MLS identity). */
export async function newFirefoxParticipant(
  browser: Browser,
  baseUrl = E2E_BASE_URL,
): Promise<FirefoxDriver> {
  const context = await browser.createBrowserContext();
  contexts.add(context);
  // A window of its own: a background tab is throttled, and would stall its meeting.
  const page = await context.newPage({ type: 'window' });
  await page.evaluateOnNewDocument(RECORD_PEER_CONNECTIONS);
  page.on('console', (m) => {
    if (m.type() === 'warn' || m.type() === 'error')
      process.stdout.write(`[firefox ${m.type()}] ${m.text()}\n`);
  });
  page.on('pageerror', (e) => process.stdout.write(`[firefox exception] ${(e as Error).message}\n`));
  return new FirefoxDriver(page, baseUrl);
}

/** Starts Xvfb on a free display number; returns it as DISPLAY (":N"). */
export async function startXvfb(): Promise<string> {
  for (let n = 90; n < 110; n++) {
    if (fs.existsSync(`/tmp/.X11-unix/X${n}`) || fs.existsSync(`/tmp/.X${n}-lock`)) continue;
    const xvfb = spawn('Xvfb', [`:${n}`, '-screen', '0', '1280x720x24', '-nolisten', 'tcp'], {
      stdio: 'ignore',
    });
    displays.add(xvfb);
    for (let waited = 0; waited < 5_000; waited += 100) {
      if (fs.existsSync(`/tmp/.X11-unix/X${n}`)) return `:${n}`;
      if (xvfb.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    xvfb.kill();
    displays.delete(xvfb);
  }
  throw new Error('could not start Xvfb (apt-get install -y xvfb)');
}

/** Ends every Firefox participant's page (its meeting with it); the browsers stay for the next test. */
export async function closeFirefoxParticipants(): Promise<void> {
  const open = [...contexts];
  contexts.clear();
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
}

/** Closes every Firefox and Xvfb this process started. */
export async function closeFirefoxes(): Promise<void> {
  await closeFirefoxParticipants();
  const browsers = [...launched];
  launched.clear();
  await Promise.all(browsers.map((b) => b.close().catch(() => undefined)));
  for (const display of displays) display.kill();
  displays.clear();
}

export class FirefoxDriver implements MeetingDriver {
  readonly engine = 'firefox';
  readonly page: Page;
  readonly #baseUrl: string;

  constructor(page: Page, baseUrl: string) {
    this.page = page;
    this.#baseUrl = baseUrl;
  }

  async goto(url: string): Promise<void> {
    // Firefox holds a camera request from an unfocused window until it gets focus, as a person
    // would give it by looking at that window.
    await this.page.bringToFront();
    await this.page.goto(new URL(url, this.#baseUrl).href);
  }

  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    return this.page.evaluate(fn as (arg: unknown) => Promise<R>, arg) as Promise<R>;
  }

  async click(target: Target): Promise<void> {
    const element = await this.#waitFor(target);
    await this.page.bringToFront();
    await element.click();
  }

  async fill(target: Target, value: string): Promise<void> {
    const element = await this.#waitFor(target);
    // Select what is there, so typing replaces it (as Playwright's fill does).
    await element.evaluate((el) => (el as HTMLInputElement).select());
    await element.type(value);
  }

  async isVisible(target: Target): Promise<boolean> {
    const element = await this.#find(target);
    return element === null ? false : element.isVisible();
  }

  async evaluateIn<R, A>(
    target: Target,
    css: string | undefined,
    fn: (el: Element, arg: A) => R | Promise<R>,
    arg: A,
  ): Promise<R | null> {
    const scope = await this.#find(target);
    const element = css === undefined || scope === null ? scope : await scope.$(css);
    if (element === null) return null;
    return element.evaluate(fn as (el: Element, arg: unknown) => Promise<R>, arg) as Promise<R>;
  }

  async #waitFor(target: Target, timeoutMs = 20_000): Promise<ElementHandle> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const element = await this.#find(target);
      if (element !== null && (await element.isVisible())) return element;
      if (Date.now() > deadline) throw new Error(`Firefox: no visible ${describe(target)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async #find(target: Target): Promise<ElementHandle | null> {
    const scope = target.within === undefined ? this.page : await this.#find(target.within);
    if (scope === null) return null;
    return scope.$(ariaSelector(target));
  }
}

/** Puppeteer's ARIA query: the accessible name exactly, and the role when given. */
function ariaSelector(target: Target): string {
  const name = `[name=${JSON.stringify(target.name)}]`;
  return `::-p-aria(${name}${target.role === undefined ? '' : `[role="${target.role}"]`})`;
}

function describe(target: Target): string {
  const self = `${target.role ?? 'element'} "${target.name}"`;
  return target.within === undefined ? self : `${self} in ${describe(target.within)}`;
}
